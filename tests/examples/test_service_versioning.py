"""functions/service_versioning.js: /<service> → origin <version> from the KVS, fail-open."""

import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim import strategies as es
from edgesim.testing import FAULTS, ReplicatedKvs, load_function, viewer_request
from edgesim.testing.properties import assert_fail_open
from tests.examples import EVENT_FIXTURES, FUNCTIONS, KVS_FIXTURES

SOURCE = FUNCTIONS / "service_versioning.js"
FIXTURE_KVS = KVS_FIXTURES / "service_versioning.json"
SERVICES = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)
VERSIONS = st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,30}", fullmatch=True)
REST = st.one_of(
    st.just(""),
    st.just("/"),
    st.from_regex(r"/[A-Za-z0-9._~/-]{0,30}", fullmatch=True),
)


def version_of(result, uri: str) -> str | None:
    """The version a request was sent to (None: fell through), checking it is otherwise intact."""
    assert result.error is None
    assert result.kind == "request"
    assert result.request["uri"] == uri
    header = result.request["headers"].get("x-service-version")
    if not result.origin_modifications:
        assert header is None
        return None
    assert [(m.helper, m.argument, m.problems) for m in result.origin_modifications] == [
        ("selectRequestOriginById", header["value"], ())
    ]
    return header["value"]


def run(fn, uri: str, **kwargs):
    event = viewer_request(uri, headers={"x-service-version": "blog-v0"})
    return version_of(fn.run(event, **kwargs), uri.split("?")[0])


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
    result = fn.run(json.loads((EVENT_FIXTURES / "service_versioning.json").read_text()))
    assert version_of(result, "/blog/2026/hello-world") == "blog-v2"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/blog", "blog-v2"),
        ("/blog/", "blog-v2"),
        ("/blog/2026/hello?page=2", "blog-v2"),
        ("/shop/cart", "shop-v7"),
        ("/api/v1/users", "api-2026-01"),
        ("/blogroll", None),  # a different service, not a prefix match
        ("/Blog/x", None),  # service names are lower-case
        ("/legacy/page", None),  # the entry is not an origin id
        ("/unknown/page", None),
        ("/", None),
        ("//blog", None),
    ],
)
def test_table(fn, uri: str, expected: str | None) -> None:
    assert run(fn, uri) == expected


def test_malformed_entry_is_logged(fn) -> None:
    result = fn.run(viewer_request("/legacy/page"))
    assert result.logs == ["service versioning: ignoring malformed entry for /legacy"]


@given(service=SERVICES, version=VERSIONS, rest=REST)
def test_every_path_under_a_prefix_goes_to_its_version(store, live_fn, service, version, rest):
    store.put(f"svc:/{service}", version)
    store.settle()
    assert run(live_fn, f"/{service}{rest}") == version


@given(service=SERVICES.filter(lambda s: s not in {"blog", "shop", "api"}), rest=REST)
def test_unlisted_services_fall_through(fn, service: str, rest: str) -> None:
    assert run(fn, f"/{service}{rest}") is None


@given(service=st.sampled_from(["blog", "shop", "api"]), suffix=SERVICES, rest=REST)
def test_a_longer_name_is_another_service(fn, service: str, suffix: str, rest: str) -> None:
    """/blogroll is not under /blog: only whole first segments match."""
    assert run(fn, f"/{service}{suffix}{rest}") is None


@given(
    event=es.viewer_requests(uri=st.sampled_from(["/blog/x", "/shop", "/api/v1", "/nothing"])),
    fault=es.kvs_faults(),
)
def test_faults_fall_through(fn, event, fault: str) -> None:
    """Fail-open: a broken store (or a mapping still on its way to a POP) sends every request
    to the behaviour's own origin, unchanged."""
    assert_fail_open(fn, event, faults=[fault])
    if fault in FAULTS:
        assert run(fn, event["request"]["uri"], kvs=fn.with_fault(fault)) is None


@given(event=es.viewer_requests())
def test_any_request_keeps_its_uri_and_changes_at_most_the_origin(fn, event) -> None:
    uri = event["request"]["uri"]
    first = uri.split("/")[1]
    expected = {"blog": "blog-v2", "shop": "shop-v7", "api": "api-2026-01"}.get(first)
    assert version_of(fn.run(event), uri) == expected


def test_release_and_rollback_are_one_write_each() -> None:
    with ReplicatedKvs({"svc:/blog": "blog-v2"}, pops=("IAD", "FRA"), lag=5.0) as kvs:
        fn = load_function(SOURCE, kvs=kvs)
        assert [run(fn, "/blog", pop=pop) for pop in kvs.pops] == ["blog-v2", "blog-v2"]
        kvs.put("svc:/blog", "blog-v3")
        assert run(fn, "/blog", pop="FRA") == "blog-v2"  # until the write reaches the POP
        kvs.settle()
        assert [run(fn, "/blog", pop=pop) for pop in kvs.pops] == ["blog-v3", "blog-v3"]
        kvs.put("svc:/blog", "blog-v2")  # rollback
        kvs.settle()
        assert [run(fn, "/blog", pop=pop) for pop in kvs.pops] == ["blog-v2", "blog-v2"]
        kvs.delete("svc:/blog")  # retire the routing: back to the default origin
        kvs.settle()
        assert [run(fn, "/blog", pop=pop) for pop in kvs.pops] == [None, None]
