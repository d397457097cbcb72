"""functions/rate_limit_bucket.js: one bucket per IPv4 /24 or IPv6 /64, fail-open to defaults."""

import hashlib
import ipaddress
import json
from collections.abc import Iterator

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from edgesim import strategies as es
from edgesim.testing import ReplicatedKvs, load_function, viewer_request
from edgesim.testing.properties import assert_fail_open
from tests.examples import EVENT_FIXTURES, FUNCTIONS, KVS_FIXTURES

SOURCE = FUNCTIONS / "rate_limit_bucket.js"
FIXTURE_KVS = KVS_FIXTURES / "rate_limit_bucket.json"
CONFIG = {"v4": 24, "v6": 64, "salt": "2026-q1"}
DEFAULTS = {"v4": 24, "v6": 64, "salt": ""}
ADDRESSES = st.one_of(es.ipv4_addresses(), es.ipv6_addresses())
IPV6_NOT_MAPPED = st.ip_addresses(v=6).filter(lambda a: a.ipv4_mapped is None)


def network_of(ip: str, config: dict) -> str:
    """The network an address is counted in, e.g. ``v4:cb007100/24`` (IPv4-mapped → IPv4)."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    bits = config["v4"] if addr.version == 4 else config["v6"]
    net = ipaddress.ip_network(f"{addr}/{bits}", strict=False)
    return f"v{addr.version}:{net.network_address.packed.hex()}/{bits}"


def model(ip: str, config: dict) -> str:
    """The bucket, computed independently with the ipaddress module."""
    network = network_of(ip, config)
    return hashlib.sha256(f"{config['salt']}|{network}".encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def fn():
    return load_function(SOURCE, kvs=FIXTURE_KVS)


@pytest.fixture(scope="module")
def store() -> Iterator[ReplicatedKvs]:
    with ReplicatedKvs(pops=("IAD",)) as kvs:
        yield kvs


@pytest.fixture(scope="module")
def live_fn(store):
    return load_function(SOURCE, kvs=store)


def bucket(fn, ip: str, **run) -> str:
    result = fn.run(viewer_request("/api/search", ip=ip, headers={"x-rate-bucket": "0"}), **run)
    assert result.error is None
    assert result.kind == "request"
    value = result.request["headers"]["x-rate-bucket"]["value"]
    assert len(value) == 16
    assert all(c in "0123456789abcdef" for c in value)
    return value


def test_fixture_event(fn) -> None:
    result = fn.run(json.loads((EVENT_FIXTURES / "rate_limit_bucket.json").read_text()))
    assert result.error is None
    expected = model("2001:db8:85a3:12:8a2e:370:7334:1", CONFIG)
    assert result.request["headers"]["x-rate-bucket"]["value"] == expected


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("203.0.113.1", "203.0.113.254"),
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"),
        ("2001:db8::1", "2001:0db8:0000:0000:0000:0000:0000:0001"),  # spellings of one address
        ("2001:db8::1", "2001:DB8::1"),
        ("::ffff:203.0.113.7", "203.0.113.99"),  # IPv4-mapped IPv6 is IPv4
        ("::ffff:cb00:7107", "203.0.113.7"),  # the same, in hex groups
    ],
)
def test_same_bucket(fn, one: str, other: str) -> None:
    assert bucket(fn, one) == bucket(fn, other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("203.0.113.1", "203.0.114.1"),
        ("2001:db8:1:2::1", "2001:db8:1:3::1"),
        ("0.0.0.1", "::1"),  # families never share a bucket
    ],
)
def test_different_bucket(fn, one: str, other: str) -> None:
    assert bucket(fn, one) != bucket(fn, other)


def test_unparseable_addresses_still_get_a_bucket(fn) -> None:
    assert bucket(fn, "not-an-ip") == hashlib.sha256(b"2026-q1|raw:not-an-ip").hexdigest()[:16]


@given(ip=ADDRESSES)
def test_matches_the_model(fn, ip: str) -> None:
    assert bucket(fn, ip) == model(ip, CONFIG)


@given(address=IPV6_NOT_MAPPED)
def test_exploded_ipv6_is_the_same_address(fn, address) -> None:
    assert bucket(fn, address.exploded) == bucket(fn, address.compressed.upper())


@given(network=st.integers(0, 2**24 - 1), hosts=st.tuples(st.integers(0, 255), st.integers(0, 255)))
def test_one_bucket_per_ipv4_24(fn, network: int, hosts) -> None:
    one, other = (str(ipaddress.IPv4Address((network << 8) | h)) for h in hosts)
    assert bucket(fn, one) == bucket(fn, other)


@given(
    network=st.integers(0, 2**64 - 1),
    hosts=st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1)),
)
def test_one_bucket_per_ipv6_64(fn, network: int, hosts) -> None:
    assume(network != 0)  # ::/64 holds the IPv4-mapped and -compatible ranges
    one, other = (str(ipaddress.IPv6Address((network << 64) | h)) for h in hosts)
    assert bucket(fn, one) == bucket(fn, other)


@given(one=ADDRESSES, other=ADDRESSES)
def test_different_networks_get_different_buckets(fn, one: str, other: str) -> None:
    """64 bits of SHA-256: a collision between two networks would be a one-in-2**64 event."""
    assume(network_of(one, CONFIG) != network_of(other, CONFIG))
    assert bucket(fn, one) != bucket(fn, other)


@given(
    config=st.fixed_dictionaries(
        {"v4": st.integers(0, 32), "v6": st.integers(0, 128), "salt": st.text(max_size=20)}
    ),
    ip=ADDRESSES,
)
def test_any_prefix_lengths(store, live_fn, config: dict, ip: str) -> None:
    store.put("ratelimit:config", json.dumps(config))
    store.settle()
    assert bucket(live_fn, ip) == model(ip, config)


@pytest.mark.parametrize(
    ("stored", "effective"),
    [
        ({"v4": 33, "v6": 64, "salt": "s"}, {"v4": 24, "v6": 64, "salt": "s"}),
        ({"v4": 16, "v6": -1, "salt": "s"}, {"v4": 16, "v6": 64, "salt": "s"}),
        ({"v4": 16.5, "v6": "48", "salt": 7}, DEFAULTS),
        ({}, DEFAULTS),
    ],
)
def test_invalid_fields_fall_back_one_by_one(store, live_fn, stored, effective) -> None:
    store.put("ratelimit:config", json.dumps(stored))
    store.settle()
    for ip in ("198.51.100.7", "2001:db8:aa:bb:cc::1"):
        assert bucket(live_fn, ip) == model(ip, effective)


def default_bucket(event: dict, result) -> bool:
    """The request went on with the bucket of the default /24 and /64 and no salt."""
    header = result.request["headers"]["x-rate-bucket"]["value"]
    return header == model(event["viewer"]["ip"], DEFAULTS)


@given(event=es.viewer_requests(), fault=es.kvs_faults())
def test_faults_fail_open_to_the_defaults(fn, event, fault: str) -> None:
    """Fail-open: an unreadable config (or one still on its way to a POP) still buckets every
    request, by /24 and /64."""
    assert_fail_open(fn, event, faults=[fault], pass_through=default_bucket)


# Each way an address can fail to parse (found untested by function coverage): bucketed by text.
UNPARSEABLE = [
    "1.2.3.256",  # an octet over 255
    "::ffff:1.2.3.999",  # a bad dotted quad ending an IPv6 address
    "1:2:3:4:5:6:7:zzzz",  # a group that is not hex
    "1::2::3",  # two gaps
    "g::1",  # a bad group before the gap
    "1:2:3",  # too few groups without a gap
    "1:2:3:4::5:6:7:8",  # a gap that stands for no group
]


@pytest.mark.parametrize("ip", UNPARSEABLE)
def test_each_unparseable_form_is_bucketed_by_its_text(fn, ip: str) -> None:
    with pytest.raises(ValueError, match="does not appear to be"):
        ipaddress.ip_address(ip)  # the model agrees: not an address
    assert bucket(fn, ip) == hashlib.sha256(f"2026-q1|raw:{ip}".encode()).hexdigest()[:16]
