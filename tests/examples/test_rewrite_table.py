"""functions/rewrite_table.js: a KVS rewrite table whose keys are SHA-256 hashes for long paths."""

import hashlib
import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim import strategies as es
from edgesim.testing import ReplicatedKvs, load_function, viewer_request
from edgesim.testing.properties import assert_fail_open
from tests.examples import EVENT_FIXTURES, FUNCTIONS, KVS_FIXTURES

SOURCE = FUNCTIONS / "rewrite_table.js"
FIXTURE_KVS = KVS_FIXTURES / "rewrite_table.json"
FIXTURE_KEYS = {item["key"] for item in json.loads(FIXTURE_KVS.read_text())["data"]}
LONG_PATH = (
    "/archive/"
    + "/".join(f"section-{i:02d}-with-a-rather-long-descriptive-slug" for i in range(7))
    + "/index.html"
)
# Path characters as they appear in a URI (percent-escapes included), plus a few non-ASCII ones
# so the 256-byte limit is checked in UTF-8 bytes, not characters.
PATH_CHARS = st.sampled_from([*"abcdefghijklmnopqrstuvwxyz0123456789-._~/%", "é", "日"])


def table_key(path: str) -> str:
    """The key the function looks up, computed independently."""
    raw = path.encode()
    return f"rw:{path}" if len(raw) <= 256 else "rwh:" + hashlib.sha256(raw).hexdigest()


@pytest.fixture(scope="module")
def fixture_fn():
    return load_function(SOURCE, kvs=FIXTURE_KVS)


@pytest.fixture(scope="module")
def store() -> Iterator[ReplicatedKvs]:
    with ReplicatedKvs(pops=("IAD",)) as kvs:
        yield kvs


@pytest.fixture(scope="module")
def live_fn(store):
    return load_function(SOURCE, kvs=store)


def put(store: ReplicatedKvs, key: str, value: str) -> None:
    store.put(key, value)
    store.settle()


def test_fixture_event() -> None:
    fn = load_function(SOURCE, kvs=FIXTURE_KVS)
    event = json.loads((EVENT_FIXTURES / "rewrite_table.json").read_text())
    result = fn.run(event)
    assert result.error is None
    assert result.response["statusCode"] == 301
    assert result.response["headers"]["location"]["value"] == "/docs/v2/intro?lang=en"


@pytest.mark.parametrize(
    ("uri", "status", "target"),
    [
        ("/old-pricing", None, "/pricing"),  # internal rewrite
        ("/old-pricing?ref=ad", None, "/pricing"),  # the query is left alone
        ("/docs/v1/intro", 301, "/docs/v2/intro"),
        ("/docs/v1/intro?lang=en&x=1", 301, "/docs/v2/intro?lang=en&x=1"),
        ("/promo?src=mail", 302, "/offers/summer?ref=promo&src=mail"),  # target has a query
        ("/blog/2019/launch", 308, "https://blog.example.com/launch"),
        (LONG_PATH, 301, "/archive/latest"),  # found by its hash
        (LONG_PATH[:-1] + "m", None, LONG_PATH[:-1] + "m"),  # one byte off: no entry
        ("/broken-entry", None, "/broken-entry"),  # malformed value: ignored
        ("/unknown", None, "/unknown"),
        ("/old-pricing/", None, "/old-pricing/"),  # exact match only
    ],
)
def test_table(fixture_fn, uri: str, status: int | None, target: str) -> None:
    result = fixture_fn.run(viewer_request(uri))
    assert result.error is None
    if status is None:
        assert result.kind == "request"
        assert result.request["uri"] == target
    else:
        assert result.response["statusCode"] == status
        assert result.response["headers"]["location"]["value"] == target


def test_malformed_entry_is_logged(fixture_fn) -> None:
    result = fixture_fn.run(viewer_request("/broken-entry"))
    assert result.logs == ["rewrite table: ignoring malformed entry for rw:/broken-entry"]


def test_256_bytes_is_the_last_plain_key(store, live_fn) -> None:
    at_limit = "/" + "a" * 255
    over = "/" + "a" * 256
    put(store, "rw:" + at_limit, "/plain")
    put(store, "rw:" + over, "/never-read")  # too long to be a plain key: the hash is used
    put(store, "rwh:" + hashlib.sha256(over.encode()).hexdigest(), "/hashed")
    assert live_fn.run(viewer_request(at_limit)).request["uri"] == "/plain"
    assert live_fn.run(viewer_request(over)).request["uri"] == "/hashed"


@given(
    path=st.text(PATH_CHARS, min_size=1, max_size=600).map(lambda s: "/" + s),
    target=st.text(st.sampled_from("abcxyz0189-/"), max_size=20).map(lambda s: "/" + s),
)
def test_every_path_finds_its_entry(store, live_fn, path: str, target: str) -> None:
    """Short or long, a path reaches the entry stored under its key (hashed above 256 bytes)."""
    put(store, table_key(path), target)
    result = live_fn.run(viewer_request(path))
    assert result.error is None
    assert result.request["uri"] == target


@given(
    path=st.text(PATH_CHARS, min_size=256, max_size=508)
    .map(lambda s: "/" + s)
    .filter(lambda p: 256 < len(p.encode()) <= 509)
)
def test_long_paths_never_use_plain_keys(store, live_fn, path: str) -> None:
    """A plain entry for a long path (one that still fits KVS's 512-byte key limit) is never
    consulted: above 256 bytes only the hashed key counts."""
    put(store, "rw:" + path, "/wrong")
    assert live_fn.run(viewer_request(path)).request["uri"] == path


@given(
    event=es.viewer_requests(uri=st.sampled_from(["/old-pricing", "/docs/v1/intro", LONG_PATH])),
    fault=es.kvs_faults(),
)
def test_faults_leave_the_request_unchanged(fixture_fn, event, fault: str) -> None:
    """Fail-open: whatever goes wrong with the store (including a table still propagating),
    the original request goes through."""
    assert_fail_open(fixture_fn, event, faults=[fault])


@given(event=es.viewer_requests())
def test_paths_without_an_entry_pass_unchanged(fixture_fn, event) -> None:
    result = fixture_fn.run(event)
    assert result.error is None
    if table_key(event["request"]["uri"]) not in FIXTURE_KEYS:
        assert result.request == event["request"]


@given(
    value=st.one_of(
        st.text(max_size=40),
        st.sampled_from(["301", "301 ", "303 /x", "301 ftp://x", "301 /a b", "/a b", "/a#b"]),
    )
)
def test_only_wellformed_values_act(store, live_fn, value: str) -> None:
    """A value is a rewrite (/path) or a redirect (3xx target); anything else changes nothing."""
    put(store, "rw:/probe", value)
    result = live_fn.run(viewer_request("/probe"))
    assert result.error is None
    if result.kind == "request" and result.request["uri"] != "/probe":
        assert value.startswith("/")
        assert not any(c in value for c in " ?#\t\r\n")
    elif result.kind == "response":
        status, _, location = value.partition(" ")
        assert result.response["statusCode"] == int(status)
        assert status in {"301", "302", "307", "308"}
        assert result.response["headers"]["location"]["value"] == location


def test_a_redirect_keeps_repeated_and_valueless_parameters(fixture_fn) -> None:
    # Repeated names arrive as one entry with multiValue (found untested by function coverage).
    result = fixture_fn.run(viewer_request("/docs/v1/intro?tag=a&tag=b&flag"))
    assert result.response["headers"]["location"]["value"] == "/docs/v2/intro?tag=a&tag=b&flag"
