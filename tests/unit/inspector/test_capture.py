"""edgesim.inspector.capture: the ring of finished flows and what each record shows.

Behaviour relied on (docs/inspector.md): the inspector keeps the last N requests (N from
``[server] inspector_flows``, default 1,000) and for each: the request as the viewer sent it and
as it went on, each function's event in and out, logs, error position and KVS reads with the
replica version its POP served; a generated body only up to the configured size; nothing at all
when capture is off.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from edgesim.app import EdgeServer
from edgesim.edge.flow import (
    EdgeResponse,
    Failure,
    Flow,
    FlowFailure,
    FunctionRun,
    GeneratedBody,
    XCache,
)
from edgesim.edge.message import EdgeRequest
from edgesim.inspector.capture import FlowCapture, request_changes
from edgesim.kvs.clock import VirtualClock
from tests.unit.inspector.conftest import CONFIG, Client

REWRITE = """\
function handler(event) {
  var request = event.request;
  request.uri = '/rewritten' + request.uri;
  request.headers['x-added'] = { value: 'yes' };
  delete request.headers['x-drop'];
  return request;
}
"""


def _flow(dist: Any, n: int) -> Flow:
    req = EdgeRequest("GET", f"/p{n}", None, [], pop="IAD")
    return Flow(req, dist, f"id-{n}", 0.0)


@given(size=st.integers(1, 20), count=st.integers(0, 60), after=st.integers(0, 70))
def test_the_ring_keeps_the_last_n_in_order(size: int, count: int, after: int) -> None:
    capture = FlowCapture(size)
    for n in range(1, count + 1):
        capture.flow_finished(_flow(None, n))
    kept = [c.seq for c in capture.flows]
    assert kept == list(range(max(1, count - size + 1), count + 1))
    assert [c.seq for c in capture.since(after)] == [s for s in kept if s > after]
    for seq in kept:
        found = capture.find(str(seq))
        assert found is not None
        assert found.request_id == f"id-{seq}"
        by_id = capture.find(f"id-{seq}")
        assert by_id is not None
        assert by_id.seq == seq
    assert capture.last_seq == count


def test_a_mark_json_cannot_hold_is_kept_as_text() -> None:
    """A stage's mark with a value orjson refuses (an integer over 64 bits) does not cost the
    inspector the flow: the record takes the standard library's path."""
    capture = FlowCapture(5)
    flow = _flow(None, 1)
    flow.mark("origin", huge=2**70, pair=("a", 1))
    capture.flow_finished(flow)
    (kept,) = capture.flows
    (mark,) = kept.captured().detail()["trace"]
    assert mark["detail"]["huge"] == 2**70
    assert mark["detail"]["pair"] == "['a', 1]"


def test_capture_off_keeps_nothing() -> None:
    capture = FlowCapture(5)
    capture.enabled = False
    capture.flow_finished(_flow(None, 1))
    assert list(capture.flows) == []
    assert capture.last_seq == 0


async def test_a_request_shows_kvs_reads_logs_and_the_functions_event(
    viewer: Client, server: EdgeServer
) -> None:
    response = await viewer.get("/page", headers={"x-edgesim-pop": "IAD"})
    assert await response.text() == "colour=red size=missing"
    (kept,) = server.capture.flows
    doc = kept.captured().detail()
    assert (doc["method"], doc["path"], doc["pop"], doc["status"]) == ("GET", "/page", "IAD", 200)
    assert doc["x_cache"] == "FunctionGeneratedResponse"
    (run,) = doc["function_runs"]
    assert run["name"] == "hello"
    assert run["event_type"] == "viewer-request"
    assert run["logs"] == ["colour is red"]
    assert run["kvs"] == {
        "store": "site",
        "version": 1,
        "reads": [
            {"key": "colour", "value": "red", "found": True},
            {"key": "size", "value": None, "found": False},
        ],
    }
    assert run["received"]["uri"] == "/page"
    assert run["returned"]["statusCode"] == 200
    assert doc["response"]["body"] == "colour=red size=missing"
    assert doc["cache"]["decision"] == "not reached"  # the function answered
    assert [t["stage"] for t in doc["trace"]][-1] == "sent"


async def test_each_pop_reads_the_replica_version_it_holds(
    viewer: Client, server: EdgeServer, clock: VirtualClock
) -> None:
    etag = server.kvs.describe("site").etag
    server.kvs.put_key("site", "colour", "blue", if_match=etag)  # FRA gets it 5 s later
    for pop in ("IAD", "FRA"):
        await viewer.get("/", headers={"x-edgesim-pop": pop})
    captured = [kept.captured() for kept in server.capture.flows]
    reads = {c.pop: c.detail()["function_runs"][0]["kvs"] for c in captured}
    assert (reads["IAD"]["version"], reads["IAD"]["reads"][0]["value"]) == (2, "blue")
    assert (reads["FRA"]["version"], reads["FRA"]["reads"][0]["value"]) == (1, "red")
    clock.advance(5.0)
    await viewer.get("/", headers={"x-edgesim-pop": "FRA"})
    last = server.capture.flows[-1].captured().detail()["function_runs"][0]["kvs"]
    assert (last["version"], last["reads"][0]["value"]) == (2, "blue")


async def test_an_error_carries_file_line_and_column(viewer: Client, server: EdgeServer) -> None:
    response = await viewer.get("/boom")
    assert response.status == 503
    doc = server.capture.flows[-1].captured().detail()
    assert doc["x_cache"] == "FunctionExecutionError"
    error = doc["error"]
    assert error["source"] == "function hello"
    assert error["kind"] == "execution"
    assert "boom" in error["message"]
    assert "hello.js:" in error["position"]
    assert error["position"].count(":") >= 2  # file:line:col


async def test_the_request_before_and_after_the_function(
    make_server: Any, aiohttp_client: Any
) -> None:
    from aiohttp import web

    server: EdgeServer = make_server(hello=REWRITE)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.proxy.handle)
    client = await aiohttp_client(app)
    await client.get("/a", headers={"x-drop": "1", "x-keep": "2"})  # the origin is unreachable
    doc = server.capture.flows[-1].captured().detail()
    changes = {(c["part"], c["name"]): (c["before"], c["after"]) for c in doc["changes"]}
    assert changes[("uri", None)] == ("/a", "/rewritten/a")
    assert changes[("header", "x-added")] == (None, "yes")
    assert changes[("header", "x-drop")] == ("1", None)
    assert ("header", "x-keep") not in changes
    assert doc["viewer_request"]["uri"] == "/a"
    assert doc["request"]["uri"] == "/rewritten/a"
    assert doc["function_runs"][0]["returned"]["uri"] == "/rewritten/a"
    assert doc["origin"]["target"] == "app"
    # The origin request as sent (tried, though the origin is unreachable).
    [sent] = doc["origin"]["requests"]
    assert (sent["method"], sent["path"]) == ("GET", "/rewritten/a")
    names = [n for n, _ in sent["headers"]]
    assert "X-Amz-Cf-Id" in names
    assert "X-Drop" not in names


def test_request_changes_is_empty_for_the_same_request() -> None:
    req = EdgeRequest("GET", "/x", "a=1", [("h", "v")])
    assert request_changes(req, req) == []


async def test_generated_bodies_are_cut_to_the_limit(make_server: Any, aiohttp_client: Any) -> None:
    from aiohttp import web

    server: EdgeServer = make_server(capture_body_bytes=6)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.proxy.handle)
    client = await aiohttp_client(app)
    await client.get("/")
    response = server.capture.flows[-1].captured().detail()["response"]
    assert response["body"] == "colour"
    assert response["body_size"] == len("colour=red size=missing")
    assert response["body_truncated"] is True


async def test_with_capture_off_runs_record_nothing(make_server: Any, aiohttp_client: Any) -> None:
    from aiohttp import web

    server: EdgeServer = make_server(capture=False)
    seen: list[Flow] = []

    class Keep:
        def flow_finished(self, flow: Flow) -> None:
            seen.append(flow)

    server.proxy.observers.append(Keep())
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.proxy.handle)
    client = await aiohttp_client(app)
    assert (await client.get("/")).status == 200
    assert list(server.capture.flows) == []
    (run,) = seen[0].function_runs
    assert run.received is None
    assert run.returned is None
    assert run.kvs is None


def test_the_ring_size_comes_from_the_argument(make_server: Any) -> None:
    server: EdgeServer = make_server(capture_flows=3)
    assert server.capture.size == 3
    assert make_server(CONFIG).capture.size == 1_000


@given(
    query=st.one_of(st.none(), st.text("ab=&", max_size=6)),
    rewritten=st.booleans(),
    outcome=st.sampled_from(["answered", "broke off before", "broke off after", "none"]),
    runs=st.lists(st.sampled_from(["a", "b"]), max_size=2),
)
def test_the_stream_s_row_says_what_the_flow_says(
    query: str | None, rewritten: bool, outcome: str, runs: list[str]
) -> None:
    """The live stream's row (made from the record without rebuilding the request) names the
    request as the viewer sent it, and the status, cache result, failure and functions."""
    viewer = EdgeRequest("GET", "/seen", query, [("host", "d.example")], pop="FRA")
    flow = Flow(viewer, None, "rid", 5.0)  # type: ignore[arg-type]
    flow.viewer_request = viewer
    if rewritten:
        flow.request = EdgeRequest("POST", "/rewritten", None, [], pop="FRA")
    for name in runs:
        flow.function_runs.append(FunctionRun(name, "viewer-request", utilization=7))
    if outcome != "none":
        flow.response = EdgeResponse(502, [], XCache.ERROR, GeneratedBody(b"x"))
        flow.response_started = outcome == "broke off after"
        if outcome.startswith("broke off"):
            flow.failure = FlowFailure(Failure.CLIENT_COMM, "gone")
    capture = FlowCapture(3)
    capture.flow_finished(flow)
    (kept,) = capture.flows
    row = orjson.loads(kept.summary_json())
    assert row == kept.captured().summary()
    assert (row["method"], row["path"], row["pop"]) == ("GET", viewer.target, "FRA")
    answered = outcome in ("answered", "broke off after")
    assert row["status"] == (502 if answered else 0)
    assert row["x_cache"] == ("Error" if outcome == "none" else str(XCache.ERROR))
    assert row["failure"] == (str(Failure.CLIENT_COMM) if outcome.startswith("broke") else None)
    assert [f["name"] for f in row["functions"]] == runs
    assert all(f["utilization"] == 7 for f in row["functions"])


def test_a_row_is_kept_on_its_flow_only_when_clients_share_it() -> None:
    """One stream client renders a row and drops it; with several, the first keeps it for the
    others. Either way the row is the same."""
    flow = Flow(EdgeRequest("GET", "/a", None, [], pop="IAD"), None, "rid", 5.0)  # type: ignore[arg-type]
    capture = FlowCapture(3)
    capture.flow_finished(flow)
    (kept,) = capture.flows
    alone = kept.summary_json(keep=False)
    assert kept.summary_text is None
    shared = kept.summary_json()
    assert kept.summary_text is shared
    assert alone == shared
    assert kept.summary_json(keep=False) is shared  # kept once: every client reads that one
