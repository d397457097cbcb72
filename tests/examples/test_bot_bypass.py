"""functions/bot_bypass.js: IP and verified-bot bypass list, fail-secure."""

import ipaddress
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from edgesim import strategies as es
from edgesim.testing import FAULTS, ReplicatedKvs, load_function, viewer_request
from edgesim.testing.properties import assert_fail_secure, request_header
from tests.examples import EVENT_FIXTURES, FUNCTIONS, KVS_FIXTURES

SOURCE = FUNCTIONS / "bot_bypass.js"
FIXTURE_KVS = KVS_FIXTURES / "bot_bypass.json"
HEADER = "x-bypass-challenge"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"
BEFORE_EXPIRY = datetime(2025, 12, 1, tzinfo=UTC)
AFTER_EXPIRY = datetime(2026, 2, 1, tzinfo=UTC)
GOOGLE_RANGES = [
    ipaddress.ip_network("66.249.64.0/19"),
    ipaddress.ip_network("2001:4860:4801::/48"),
]
BOT_RANGES = [*GOOGLE_RANGES, *map(ipaddress.ip_network, ["157.55.39.0/24", "207.46.13.0/24"])]
ADDRESSES = st.one_of(es.ipv4_addresses(), es.ipv6_addresses())
FIXTURE_ITEMS = {item["key"]: item["value"] for item in json.loads(FIXTURE_KVS.read_text())["data"]}


def request(ip: str, agent: str | None = None, forged: str | None = None) -> dict:
    headers = {}
    if agent is not None:
        headers["user-agent"] = agent
    if forged is not None:
        headers[HEADER] = forged
    return viewer_request("/products/42", ip=ip, headers=headers)


bypass_reason = request_header(HEADER)


def granted(result) -> str | None:
    assert result.error is None
    assert result.kind == "request"
    entry = result.request["headers"].get(HEADER)
    return entry["value"] if entry else None


@pytest.fixture(scope="module")
def fn():
    return load_function(SOURCE, kvs=FIXTURE_KVS)


@pytest.fixture(scope="module")
def store() -> Iterator[ReplicatedKvs]:
    with ReplicatedKvs(FIXTURE_ITEMS, pops=("IAD",)) as kvs:
        yield kvs


@pytest.fixture(scope="module")
def live_fn(store):
    return load_function(SOURCE, kvs=store)


def test_fixture_event(fn) -> None:
    event = json.loads((EVENT_FIXTURES / "bot_bypass.json").read_text())
    assert granted(fn.run(event)) == "googlebot"


@pytest.mark.parametrize(
    ("ip", "agent", "now", "expected"),
    [
        ("203.0.113.50", None, None, "uptime-monitor"),
        ("203.0.113.50", BROWSER, None, "uptime-monitor"),
        ("2001:db8:feed::7", None, None, "partner-crawler"),
        ("2001:DB8:FEED::7", None, None, "partner-crawler"),  # lower-cased before the lookup
        ("198.51.100.99", None, BEFORE_EXPIRY, "load-test"),  # temporary entry, still valid
        ("198.51.100.99", None, AFTER_EXPIRY, None),  # ... and after its `until`
        ("192.0.2.66", None, None, None),  # entry present but "bypass": false
        ("203.0.113.51", None, None, None),  # the neighbour of a listed address
        ("66.249.66.1", GOOGLEBOT, None, "googlebot"),  # verified: token and range
        ("66.249.95.255", GOOGLEBOT, None, "googlebot"),  # last address of the /19
        ("66.249.96.0", GOOGLEBOT, None, None),  # first address after it
        ("2001:4860:4801:10::1", GOOGLEBOT, None, "googlebot"),
        ("::ffff:66.249.66.1", GOOGLEBOT, None, "googlebot"),  # IPv4-mapped IPv6
        ("203.0.113.9", GOOGLEBOT, None, None),  # a fake Googlebot
        ("157.55.39.5", BINGBOT, None, "bingbot"),
        ("157.55.39.5", GOOGLEBOT, None, None),  # right range, wrong bot
        ("66.249.66.1", BROWSER, None, None),  # right range, no bot token
        ("66.249.66.1", None, None, None),
    ],
)
def test_table(fn, ip: str, agent: str | None, now: datetime | None, expected: str | None) -> None:
    assert granted(fn.run(request(ip, agent), now=now)) == expected


@given(forged=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1))
def test_forged_header_is_dropped(fn, forged: str) -> None:
    assert granted(fn.run(request("203.0.113.9", BROWSER, forged))) is None
    assert granted(fn.run(request("203.0.113.50", BROWSER, forged))) == "uptime-monitor"


@given(
    ip=ADDRESSES,
    reason=st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True),
    agent=st.one_of(st.none(), es.user_agents()),
)
def test_listed_addresses_always_bypass(store, live_fn, ip: str, reason: str, agent) -> None:
    store.put(f"bypass:ip:{ip}", json.dumps({"bypass": True, "reason": reason}))
    store.settle()
    assert granted(live_fn.run(request(ip, agent))) == reason


@given(offset=st.integers(0, 2**13 - 1), v6_offset=st.integers(0, 2**80 - 1))
def test_whole_published_ranges_are_verified(fn, offset: int, v6_offset: int) -> None:
    v4 = GOOGLE_RANGES[0].network_address + offset
    v6 = GOOGLE_RANGES[1].network_address + v6_offset
    assert granted(fn.run(request(str(v4), GOOGLEBOT))) == "googlebot"
    assert granted(fn.run(request(str(v6), GOOGLEBOT))) == "googlebot"


@given(ip=ADDRESSES, agent=st.one_of(st.just(GOOGLEBOT), es.user_agents()))
def test_unlisted_addresses_outside_bot_ranges_never_bypass(fn, ip: str, agent: str) -> None:
    address = ipaddress.ip_address(ip)
    if getattr(address, "ipv4_mapped", None) is not None:
        address = address.ipv4_mapped
    assume(not any(address in net for net in BOT_RANGES))
    assume(f"bypass:ip:{ip}" not in FIXTURE_ITEMS)
    assert granted(fn.run(request(ip, agent))) is None


# Viewers the healthy store lets through, one per way of being let through.
BYPASSED = [
    ("203.0.113.50", None),  # listed address
    ("2001:db8:feed::7", GOOGLEBOT),  # listed address with a bot user agent
    ("66.249.66.1", GOOGLEBOT),  # verified bot
]


@given(viewer=st.sampled_from(BYPASSED), fault=es.kvs_faults())
def test_no_fault_ever_grants_a_bypass(fn, viewer, fault: str) -> None:
    """Fail-secure: with every read failing in any of the known ways (or the lists still on
    their way to a POP), nobody bypasses."""
    ip, agent = viewer
    event = request(ip, agent, forged="1")
    assert_fail_secure(fn, event, granted=lambda r: bypass_reason(r) is not None, faults=[fault])
    if fault in FAULTS:  # and the request still goes on, without the forged header
        assert granted(fn.run(event, kvs=fn.with_fault(fault))) is None


@given(fault=st.sampled_from([f for f in FAULTS if f != "not-associated"]))
def test_a_faulty_list_grants_nothing_by_itself(fn, fault: str) -> None:
    """A fault in one list never grants through that list (the other one is still honoured)."""
    ip_fault = fn.with_fault(fault, keys=frozenset({"bypass:ip:203.0.113.50"}))
    assert granted(fn.run(request("203.0.113.50", BROWSER), kvs=ip_fault)) is None
    bots_fault = fn.with_fault(fault, keys=frozenset({"bypass:bots"}))
    assert granted(fn.run(request("66.249.66.1", GOOGLEBOT), kvs=bots_fault)) is None
    assert granted(fn.run(request("203.0.113.50", GOOGLEBOT), kvs=bots_fault)) == "uptime-monitor"


@pytest.mark.parametrize(
    "entry",
    [
        {"bypass": "true", "reason": "x"},  # a string is not true
        {"bypass": 1},
        {"reason": "no-flag"},
        {"bypass": True, "until": "2099-01-01"},  # until must be a number
        [True],
        "bypass",
    ],
)
def test_ip_entries_must_say_bypass_true(store, live_fn, entry) -> None:
    store.put("bypass:ip:192.0.2.200", json.dumps(entry))
    store.settle()
    assert granted(live_fn.run(request("192.0.2.200"))) is None


def test_unsafe_reasons_are_not_echoed(store, live_fn) -> None:
    store.put("bypass:ip:192.0.2.201", json.dumps({"bypass": True, "reason": "Evil\r\nX: 1"}))
    store.settle()
    assert granted(live_fn.run(request("192.0.2.201"))) == "listed"


# Paths the coverage report found untested (pytest --edgesim-cov=functions): malformed bot
# entries and ranges, and addresses that do not parse, all of which must grant nothing.
UNPARSEABLE = [
    "1.2.3",  # not a dotted quad
    "1.2.3.256",  # an octet over 255
    "::ffff:1.2.3.999",  # a bad dotted quad ending an IPv6 address
    "1:2:3:4:5:6:7:zzzz",  # a group that is not hex
    "1::2::3",  # two gaps
    "g::1",  # a bad group before the gap
    "1:2:3",  # too few groups without a gap
    "1:2:3:4::5:6:7:8",  # a gap that stands for no group
]
BAD_CIDRS = [
    5,  # not a string
    "10.0.0.0",  # no prefix length
    "10.0.0.0/33",  # longer than the address
    "10.0.0.0/-1",  # negative
    "2001:db8::/32",  # another family than the viewer's
    *(f"{address}/8" for address in UNPARSEABLE),
]
BAD_BOTS = [
    None,
    {"name": "ua-not-text", "ua": 5, "cidrs": ["10.0.0.0/8"]},
    {"name": "ua-too-short", "ua": "te", "cidrs": ["10.0.0.0/8"]},
    {"name": "no-cidr-list", "ua": "testbot", "cidrs": "10.0.0.0/8"},
    {"name": "Bad Name!", "ua": "testbot", "cidrs": ["10.0.0.0/8"]},
]


def put_bots(store, bots) -> None:
    store.put("bypass:bots", json.dumps(bots))
    store.settle()


def test_malformed_bot_entries_and_ranges_grant_nothing(store, live_fn) -> None:
    put_bots(store, [*BAD_BOTS, {"name": "testbot", "ua": "testbot", "cidrs": BAD_CIDRS}])
    try:
        assert granted(live_fn.run(request("10.1.2.3", "Mozilla/5.0 testbot/1.0"))) is None
        # The same list with one good range after the bad ones: every range was looked at.
        good = {"name": "testbot", "ua": "testbot", "cidrs": [*BAD_CIDRS, "10.0.0.0/8"]}
        put_bots(store, [*BAD_BOTS, good])
        assert granted(live_fn.run(request("10.1.2.3", "Mozilla/5.0 testbot/1.0"))) == "testbot"
    finally:
        put_bots(store, json.loads(FIXTURE_ITEMS["bypass:bots"]))


@pytest.mark.parametrize("ip", UNPARSEABLE)
def test_a_viewer_address_that_does_not_parse_is_no_bot(fn, ip: str) -> None:
    assert granted(fn.run(request(ip, GOOGLEBOT))) is None


def test_a_null_ip_entry_grants_nothing(store, live_fn) -> None:
    store.put("bypass:ip:192.0.2.202", "null")
    store.settle()
    assert granted(live_fn.run(request("192.0.2.202"))) is None
