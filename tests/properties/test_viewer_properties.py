"""Property: POP selection by client CIDR equals a brute-force longest-prefix match.

The reference scans every rule with ``ipaddress`` containment, keeps those containing the client,
and picks the longest prefix (the earliest rule on ties); the resolver uses per-prefix-length
hash tables. Mixed IPv4/IPv6 tables check that the families never leak into each other (an
IPv4-mapped IPv6 client counts as the IPv4 address it carries).
"""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from edgesim.distribution.model import CidrRule, Edges
from edgesim.edge.message import EdgeRequest
from edgesim.edge.viewer import ViewerResolver

POPS = ("IAD", "FRA", "NRT", "SIN", "GRU")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Table = list[tuple[Network, str]]


@st.composite
def networks(draw: st.DrawFn, version: int) -> Network:
    address = draw(st.ip_addresses(v=version))
    prefixlen = draw(st.integers(0, 32 if version == 4 else 128))
    return ipaddress.ip_network(f"{address}/{prefixlen}", strict=False)


any_network = st.one_of(networks(4), networks(6))
rules = st.lists(st.tuples(any_network, st.sampled_from(POPS)), max_size=12)


@st.composite
def client_and_rules(draw: st.DrawFn) -> tuple[Address, Table]:
    table = draw(rules)
    # Half of the time pick an address inside one of the rules, so matches are common.
    if table and draw(st.booleans()):
        network, _ = draw(st.sampled_from(table))
        offset = draw(st.integers(0, network.num_addresses - 1))
        return network.network_address + offset, table
    return draw(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))), table


def reference_pop(address: Address, table: Table) -> str:
    # A client reported as IPv4-mapped IPv6 (::ffff:a.b.c.d) is an IPv4 client: only IPv4 rules
    # apply to it, as in the resolver.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    containing = [
        (network.prefixlen, pop)
        for network, pop in table
        if address.version == network.version and address in network
    ]
    if not containing:
        return POPS[0]
    longest = max(prefixlen for prefixlen, _ in containing)
    # The earliest rule among the longest prefixes, as in config order.
    return next(pop for prefixlen, pop in containing if prefixlen == longest)


@given(client_and_rules())
def test_pop_for_matches_brute_force_longest_prefix(case: tuple[Address, Table]) -> None:
    address, table = case
    edges = Edges(pops=POPS, pop_cidrs=tuple(CidrRule(str(net), pop) for net, pop in table))
    request = EdgeRequest(method="GET", path="/", query=None, headers=[], client_ip=str(address))
    assert ViewerResolver(edges).pop_for(request) == reference_pop(address, table)
