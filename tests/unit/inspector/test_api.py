"""The inspector's JSON API and live stream (docs/inspector.md, "JSON API"), through the admin
app: what other tools read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from edgesim.app import EdgeServer
from edgesim.edge.ttl import TtlDecision
from edgesim.inspector import api, views
from edgesim.inspector.api import flow_events
from edgesim.inspector.capture import KeptFlow
from edgesim.kvs.clock import VirtualClock
from tests.unit.inspector.conftest import Client


async def _traffic(viewer: Client) -> None:
    for pop, path in (("IAD", "/a"), ("FRA", "/b"), ("IAD", "/boom"), ("FRA", "/a/deep")):
        await viewer.get(path, headers={"x-edgesim-pop": pop})


async def _stream_ids(response: Any, count: int) -> list[int]:
    """The ``id:`` of the first ``count`` events a live stream sends; the stream is closed."""
    ids: list[int] = []

    async def read() -> None:
        async for raw in response.content:
            line = raw.decode()
            if line.startswith("id: "):
                ids.append(int(line[4:]))
                if len(ids) == count:
                    return

    await asyncio.wait_for(read(), timeout=10)
    response.close()
    return ids


async def test_flows_lists_summaries_and_filters(admin: Client, viewer: Client) -> None:
    await _traffic(viewer)
    doc = await (await admin.get("/inspector/api/flows")).json()
    assert doc["capacity"] == 1_000
    assert doc["last"] == 4
    assert [(f["pop"], f["path"], f["status"]) for f in doc["flows"]] == [
        ("IAD", "/a", 200),
        ("FRA", "/b", 200),
        ("IAD", "/boom", 503),
        ("FRA", "/a/deep", 200),
    ]
    row = doc["flows"][0]
    assert row["x_cache"] == "FunctionGeneratedResponse"
    assert row["behavior"] == "*"
    assert row["functions"][0]["name"] == "hello"
    assert isinstance(row["functions"][0]["utilization"], int)

    async def paths(query: str) -> list[str]:
        body = await (await admin.get("/inspector/api/flows?" + query)).json()
        return [f["path"] for f in body["flows"]]

    assert await paths("pop=FRA") == ["/b", "/a/deep"]
    assert await paths("status=5xx") == ["/boom"]
    assert await paths("status=200&q=/a") == ["/a", "/a/deep"]
    assert await paths("x_cache=FunctionExecutionError") == ["/boom"]
    assert await paths("after=3") == ["/a/deep"]
    assert await paths("limit=1") == ["/a/deep"]
    assert (await admin.get("/inspector/api/flows?after=x")).status == 400


async def test_one_flow_by_id_or_sequence(admin: Client, viewer: Client) -> None:
    response = await viewer.get("/a")
    request_id = response.headers["x-amz-cf-id"]
    by_id = await (await admin.get(f"/inspector/api/flows/{request_id}")).json()
    by_seq = await (await admin.get("/inspector/api/flows/1")).json()
    assert by_id == by_seq
    assert by_id["id"] == request_id
    assert by_id["function_runs"][0]["logs"] == ["colour is red"]
    missing = await admin.get("/inspector/api/flows/nope")
    assert missing.status == 404
    assert "among the last 1000" in (await missing.json())["error"]["message"]


async def test_the_stream_sends_new_flows_as_server_sent_events(
    admin: Client, viewer: Client
) -> None:
    await viewer.get("/before")  # already there: not re-sent without ?after
    response = await admin.get("/inspector/api/stream")
    assert response.headers["Content-Type"] == "text/event-stream"
    await viewer.get("/live", headers={"x-edgesim-pop": "FRA"})
    events: list[dict[str, Any]] = []

    async def read() -> None:
        block: dict[str, str] = {}
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if not line:
                if block.get("event") == "flow":
                    events.append({**json.loads(block["data"]), "sse_id": block["id"]})
                    return
                block = {}
            elif not line.startswith(":") and ":" in line:
                key, _, value = line.partition(":")
                block[key] = value.strip()

    await asyncio.wait_for(read(), timeout=10)
    response.close()
    (event,) = events
    assert (event["sse_id"], event["seq"], event["path"], event["pop"]) == ("2", 2, "/live", "FRA")


async def test_the_stream_resumes_after_a_sequence(admin: Client, viewer: Client) -> None:
    await _traffic(viewer)
    response = await admin.get("/inspector/api/stream?after=2")
    assert await _stream_ids(response, 2) == [3, 4]


async def test_functions_show_invocations_errors_utilization_and_reloads(
    admin: Client, viewer: Client, server: EdgeServer, tmp_path: Path
) -> None:
    await _traffic(viewer)
    (tmp_path / "hello.js").write_text("function handler(event) { return event?.request; }\n")
    server.reload_function_file(tmp_path / "hello.js")
    (fn,) = (await (await admin.get("/inspector/api/functions")).json())["functions"]
    assert fn["name"] == "hello"
    assert fn["invocations"] == 4
    assert fn["errors"] == {"execution": 1, "validation": 0}
    assert fn["throttles"] == 0
    assert fn["version"] == 1
    assert fn["loaded"] is True
    assert fn["last_reload"]["ok"] is False
    assert "optional-chaining" in fn["last_reload"]["error"]
    utilization = fn["utilization"]
    assert utilization["recent_runs"] == 4
    assert utilization["p50"] <= utilization["p99"] <= utilization["max"]
    assert sum(b["count"] for b in utilization["histogram"]) == 4


def test_percentiles_are_nearest_rank() -> None:
    assert views.percentile([], 50) is None
    assert views.percentile([5], 99) == 5
    values = list(range(1, 101))
    assert (views.percentile(values, 50), views.percentile(values, 99)) == (50, 99)


async def test_kvs_shows_each_pop_and_the_propagation_timeline(
    admin: Client, server: EdgeServer, clock: VirtualClock
) -> None:
    await admin.get("/inspector/api/kvs")  # the page is open before the write
    etag = server.kvs.describe("site").etag
    server.kvs.put_key("site", "colour", "blue", if_match=etag)
    doc = await (await admin.get("/inspector/api/kvs")).json()
    (store,) = doc["stores"]
    pops = {p["pop"]: p for p in store["pops"]}
    assert (pops["IAD"]["version"], pops["IAD"]["in_sync"]) == (2, True)
    assert (pops["FRA"]["version"], pops["FRA"]["in_sync"]) == (1, False)
    assert pops["FRA"]["pending"] == [{"version": 2, "lands_in_s": 5.0}]
    (write,) = store["timeline"]
    assert write["version"] == 2
    fra = write["lands"]["FRA"]
    assert fra["landed"] is False
    assert round(fra["at_ms"] - write["written_ms"]) == 5_000
    keys = await (await admin.get("/inspector/api/kvs/site/keys")).json()
    (row,) = keys["keys"]
    assert row == {"key": "colour", "value": "blue", "pops": {"IAD": "blue", "FRA": "red"},
                   "in_sync": False}  # fmt: skip
    clock.advance(5.0)
    doc = await (await admin.get("/inspector/api/kvs")).json()
    (write,) = doc["stores"][0]["timeline"]
    assert write["lands"]["FRA"]["landed"] is True
    keys = await (await admin.get("/inspector/api/kvs/site/keys")).json()
    assert keys["keys"][0]["pops"] == {"IAD": "blue", "FRA": "blue"}
    assert (await admin.get("/inspector/api/kvs/nope/keys")).status == 404


async def test_cache_lists_objects_per_pop_and_invalidation_empties_it(
    admin: Client, server: EdgeServer
) -> None:
    for key, path in (("IAD|k1", "/img/a.png"), ("FRA|k2", "/img/b.png"), ("FRA|k3", "/x")):
        writer = server.cache.begin(
            key, status=200, headers=[], decision=TtlDecision(True, 60, reason="t"), path=path
        )
        writer.write(b"body")
        writer.commit()
    doc = await (await admin.get("/inspector/api/cache")).json()
    by_pop = {p["pop"]: [o["path"] for o in p["objects"]] for p in doc["pops"]}
    assert by_pop == {"IAD": ["/img/a.png"], "FRA": ["/img/b.png", "/x"]}
    obj = doc["pops"][0]["objects"][0]
    assert (obj["status"], obj["size"], obj["ttl_s"], obj["fresh"]) == (200, 4, 60, True)
    assert doc["requests"] == {"hits": 0, "misses": 0, "hit_rate": 0.0}
    await admin.post("/cache/invalidations", json={"paths": ["/img/*"]})
    doc = await (await admin.get("/inspector/api/cache")).json()
    assert {p["pop"]: [o["path"] for o in p["objects"]] for p in doc["pops"]} == {
        "IAD": [],
        "FRA": ["/x"],
    }


async def test_distribution_lists_behaviours_origins_and_functions(admin: Client) -> None:
    doc = await (await admin.get("/inspector/api/distribution")).json()
    (behavior,) = doc["behaviors"]
    assert (behavior["path"], behavior["origin"], behavior["viewer_request"]) == (
        "*",
        "app",
        "hello",
    )
    assert behavior["cache_policy"]["name"]
    assert [o["id"] for o in doc["origins"]] == ["app"]
    assert doc["pops"] == ["IAD", "FRA"]
    assert doc["functions"][0]["kvs"] == "site"


async def test_static_files_and_nothing_else(admin: Client) -> None:
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        response = await admin.get(f"/inspector/static/{name}")
        assert response.status == 200
        assert response.content_type == kind
    for name in ("index.html", "..%2Fapi.py", ".hidden.js", "nope.js"):
        assert (await admin.get(f"/inspector/static/{name}")).status == 404


async def test_an_open_stream_ends_cleanly_at_shutdown(make_server: Any) -> None:
    import aiohttp

    from tests.unit.inspector.conftest import CONFIG

    server: EdgeServer = make_server(
        CONFIG.replace("[server]\n", "[server]\nport = 0\nadmin_port = 0\nhttps = false\n")
    )
    await server.start()
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"http://127.0.0.1:{server.admin_port}/inspector/api/stream")
        assert server.capture.clients == 1
        await server.stop()
        # The stream ends with its last chunk (a handler cancelled after aiohttp's shutdown
        # timeout would break the connection off instead: a payload error here).
        body = await response.content.read()
        assert body.startswith(b"retry: 1000")
        assert server.capture.clients == 0


async def test_a_refused_config_reload_shows_as_the_last_reload(
    admin: Client, server: EdgeServer, tmp_path: Path
) -> None:
    (tmp_path / "hello.js").write_text("function handler(event) { return event?.request; }\n")
    server.reload_config(server.dist)
    (fn,) = (await (await admin.get("/inspector/api/functions")).json())["functions"]
    assert fn["last_reload"]["ok"] is False
    assert "optional-chaining" in fn["last_reload"]["error"]
    assert fn["loaded"] is True  # the previous configuration keeps serving


# --- a backlog goes out in slices, with requests served between them -------------------------


def _kept(seq: int) -> KeptFlow:
    kept = KeptFlow(seq, f"id-{seq}", b"", ())
    kept.summary_text = b'{"seq":%d}' % seq  # the row as summary_json() would make it
    return kept


@given(count=st.integers(0, 200), step=st.integers(0, 5), slice_ticks=st.integers(0, 20))
def test_flow_events_send_every_flow_once_in_order_a_time_slice_per_chunk(
    count: int, step: int, slice_ticks: int
) -> None:
    """A clock that moves ``step`` ticks each time it is read: a chunk ends once the flows in it
    took ``slice_ticks`` or more, and holds at least one."""
    now = [0]

    def clock() -> float:
        now[0] += step
        return now[0]

    kept = [_kept(seq) for seq in range(1, count + 1)]
    chunks = list(flow_events(kept, slice_ticks, clock))
    expected = (b'id: %d\nevent: flow\ndata: {"seq":%d}\n\n' % (n, n) for n in range(1, count + 1))
    assert b"".join(chunks) == b"".join(expected)
    sizes = [chunk.count(b"event: flow\n") for chunk in chunks]
    assert all(size > 0 for size in sizes)
    # Reading the clock after each flow: a chunk is full after ceil(slice / step) flows.
    full = (
        1 if step == 0 and slice_ticks == 0 else (-(-slice_ticks // step) or 1) if step else count
    )
    assert all(size == full for size in sizes[:-1])
    assert not sizes or sizes[-1] <= full


async def test_a_backlog_streams_whole_while_new_requests_push_old_ones_out(
    make_server: Any, aiohttp_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between two slices requests go on, and the ring (five flows here) drops its oldest: the
    client still gets the backlog it connected to whole, then each flow once, in order."""
    server: EdgeServer = make_server(capture_flows=5)
    admin = await aiohttp_client(server.admin_app())
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.proxy.handle)
    viewer = await aiohttp_client(app)
    for n in range(5):
        await viewer.get(f"/before/{n}")
    record = server.capture.flows[-1].record
    slices = api.flow_events

    def with_requests_between(
        kept: list[KeptFlow], slice_s: float, **options: Any
    ) -> Iterator[bytes]:
        for chunk in slices(kept, 0.0, **options):  # a flow to a chunk
            yield chunk
            for _ in range(2):  # two requests finish while this slice is on its way
                done = SimpleNamespace(record=record, request_id="r", function_runs=[])
                server.capture.flow_finished(done)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "flow_events", with_requests_between)
    response = await admin.get("/inspector/api/stream?after=0")
    seen = await _stream_ids(response, 8)
    # 1-5 as they were at connection, though the ring dropped them since; then the five the
    # ring held once that backlog was out (seq 11-15 of the ten captured during it), and so on.
    assert seen == [1, 2, 3, 4, 5, 11, 12, 13]
