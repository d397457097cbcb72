"""functions/tenant_routing.js: host → tenant → origin through KVS pointers, fail-closed."""

import itertools
import json
from collections.abc import Iterator

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from edgesim import strategies as es
from edgesim.testing import FAULTS, ReplicatedKvs, load_function, viewer_request
from edgesim.testing.properties import assert_fail_secure
from tests.examples import EVENT_FIXTURES, FUNCTIONS, KVS_FIXTURES

SOURCE = FUNCTIONS / "tenant_routing.js"
FIXTURE_KVS = KVS_FIXTURES / "tenant_routing.json"
FIXTURE_ITEMS = {item["key"]: item["value"] for item in json.loads(FIXTURE_KVS.read_text())["data"]}
LABELS = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
HOSTS = st.lists(LABELS, min_size=1, max_size=3).map(lambda ls: ".".join(ls) + ".example.test")
ORIGIN_IDS = st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,20}", fullmatch=True)
DOMAINS = st.lists(LABELS, min_size=2, max_size=3).map(lambda ls: ".".join(ls) + ".net")


def routed(result) -> tuple[str, dict | str]:
    """(tenant id, origin) of a forwarded request. The origin is the helper's argument: an origin
    id for selectRequestOriginById, a dict for updateRequestOrigin."""
    assert result.error is None
    assert result.kind == "request"
    assert len(result.origin_modifications) == 1
    change = result.origin_modifications[0]
    expected_helper = (
        "selectRequestOriginById" if isinstance(change.argument, str) else "updateRequestOrigin"
    )
    assert change.helper == expected_helper
    assert change.problems == ()
    return result.request["headers"]["x-tenant-id"]["value"], change.argument


def refused(result) -> int:
    """The status of a generated refusal (and no origin change on the way)."""
    assert result.error is None
    assert result.kind == "response"
    assert result.origin_modifications == []
    assert result.response["headers"]["cache-control"]["value"] == "no-store"
    return result.response["statusCode"]


def event(host: str | None, forged: str | None = "globex") -> dict:
    headers = {"x-tenant-id": forged} if forged is not None else {}
    if host is None:
        return viewer_request("/cart", headers=headers, host=None)
    return viewer_request("/cart", headers={**headers, "host": host})


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


def test_fixture_event(fn) -> None:
    result = fn.run(json.loads((EVENT_FIXTURES / "tenant_routing.json").read_text()))
    assert routed(result) == ("acme", "origin-eu-1")


INITECH = {"domainName": "initech.origin.example.net", "originPath": "/initech"}


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("shop.acme.com", ("acme", "origin-eu-1")),
        ("www.acme.com:443", ("acme", "origin-eu-1")),  # port dropped
        ("WWW.ACME.COM.", ("acme", "origin-eu-1")),  # case and trailing dot
        ("eu.acme.saas.example", ("acme", "origin-eu-1")),  # wildcard
        ("globex.saas.example", ("globex", "origin-us-2")),
        ("initech.io", ("initech", INITECH)),  # updateRequestOrigin
        ("legacy.example.org", 503),  # dangling pointer: no tenant:umbrella
        ("unknown.example.com", 404),
        ("deep.eu.acme.saas.example", 404),  # a wildcard covers one level
        ("acme.com", 404),
        ("localhost", 404),  # not a DNS name with a dot
        ("shop.acme.com/evil", 404),
        (None, 404),  # no host header
    ],
)
def test_table(fn, host: str | None, expected) -> None:
    result = fn.run(event(host))
    if isinstance(expected, int):
        assert refused(result) == expected
    else:
        assert routed(result) == expected


TENANTS = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True),
    st.tuples(
        st.one_of(
            ORIGIN_IDS.map(lambda o: {"originId": o}),
            DOMAINS.map(lambda d: {"domainName": d}),
        ),
        st.lists(HOSTS, min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=4,
)
SERIALS = itertools.count()


@given(tenants=TENANTS)
def test_each_host_reaches_its_tenants_origin(store, live_fn, tenants) -> None:
    serial = next(SERIALS)  # tenant ids and hosts of earlier examples stay in the store
    owner: dict[str, str] = {}
    puts = {}
    for name, (record, hosts) in tenants.items():
        tenant = f"{name}-{serial}"
        puts[f"tenant:{tenant}"] = json.dumps(record)
        for host in hosts:
            owner[f"{serial}.{host}"] = tenant
    puts.update({f"host:{host}": tenant for host, tenant in owner.items()})
    store.update(puts)
    store.settle()
    for host, tenant in owner.items():
        record = tenants[tenant.rsplit("-", 1)[0]][0]
        origin = record.get("originId", record)
        assert routed(live_fn.run(event(host))) == (tenant, origin)


@given(host=st.one_of(HOSTS, es.hosts()))
def test_unknown_hosts_get_404(fn, host: str) -> None:
    assume(f"host:{host}" not in FIXTURE_ITEMS)
    assert refused(fn.run(event(host))) == 404


@given(
    record=st.one_of(
        st.just({}),
        st.just({"originId": "42"}),  # origin ids start with a letter
        st.just({"domainName": "192.0.2.10"}),  # not an IP address
        st.just({"domainName": "origin.example.net", "originPath": "/trailing/"}),
        st.just({"domainName": "origin.example.net", "originPath": "no-slash"}),
        st.just({"domainName": "Origin.Example.NET"}),
        st.lists(st.integers(), max_size=2),
        st.text(max_size=10),
        st.integers(),
    )
)
def test_malformed_records_get_503(store, live_fn, record) -> None:
    store.update({"host:odd.example.test": "odd", "tenant:odd": json.dumps(record)})
    store.settle()
    assert refused(live_fn.run(event("odd.example.test"))) == 503


ROUTED_HOSTS = ["shop.acme.com", "eu.acme.saas.example", "initech.io"]


@given(host=st.sampled_from(ROUTED_HOSTS), fault=es.kvs_faults())
def test_faults_never_route(fn, host: str, fault: str) -> None:
    """Fail-closed: while the store cannot be read (or the routes have not reached the POP),
    nothing reaches an origin."""
    assert_fail_secure(
        fn,
        event(host),
        granted=lambda r: r.kind == "request" or bool(r.origin_modifications),
        faults=[fault],
    )


@given(host=st.sampled_from(ROUTED_HOSTS), fault=st.sampled_from(FAULTS))
def test_fault_statuses(fn, host: str, fault: str) -> None:
    """A host that cannot be read looks unknown (404); a missing store or an unusable value is
    a 503."""
    status = refused(fn.run(event(host), kvs=fn.with_fault(fault)))
    assert status == (404 if fault == "missing-key" else 503)


@given(
    host=st.sampled_from(["shop.acme.com", "globex.saas.example", "initech.io"]),
    fault=st.sampled_from(FAULTS),
)
def test_faulty_tenant_records_get_503(fn, host: str, fault: str) -> None:
    tenant = FIXTURE_ITEMS[f"host:{host}"]
    faulty = fn.with_fault(fault, keys=frozenset({f"tenant:{tenant}"}))
    assert refused(fn.run(event(host), kvs=faulty)) == 503


@given(forged=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1))
def test_viewer_cannot_pick_a_tenant(fn, forged: str) -> None:
    assert routed(fn.run(event("initech.io", forged)))[0] == "initech"
    assert refused(fn.run(event("unknown.example.com", forged))) == 404


# Paths the coverage report found untested (pytest --edgesim-cov=functions).


@pytest.mark.parametrize(
    "record",
    [
        {"domainName": "origin.example.net", "originPath": 5},
        {"domainName": "origin.example.net", "originPath": "/" + "a" * 300},
        {"domainName": "origin.example.net", "originPath": "no-slash"},
    ],
    ids=["not a string", "too long", "no leading slash"],
)
def test_records_with_a_bad_origin_path_get_503(store, live_fn, record) -> None:
    store.update({"host:odd.example.test": "odd", "tenant:odd": json.dumps(record)})
    store.settle()
    assert refused(live_fn.run(event("odd.example.test"))) == 503


def test_a_host_name_over_253_characters_gets_404(fn) -> None:
    host = ".".join(["a" * 60] * 4) + ".example.test"  # 260 characters, each label valid
    assert refused(fn.run(event(host))) == 404
