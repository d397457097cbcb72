"""edgesim.admin: the admin port's ``/status``, ``/metrics`` and ``/cache/invalidations`` on an
EdgeServer built from a small ephemeral config, through aiohttp's test client (loopback).

Behaviour relied on: ``/status`` reports each function (loaded, versions, errors), the POPs, each
KVS store's replicas with the writes still propagating, and the cache (docs/serve.md);
``/metrics`` is Prometheus text named after CloudFront's CloudWatch metrics; an invalidation takes
CloudFront's paths (``*`` only as the last character, AWS "Invalidating files") and answers with
how many cached objects each path removed.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from edgesim.admin import add_admin_routes
from edgesim.app import EdgeServer
from edgesim.edge.ttl import TtlDecision
from edgesim.kvs.clock import VirtualClock
from tests.unit.edge.stages.conftest import make_dist

CONFIG = """
[server]
ephemeral = true

[[origins]]
id = "app"
url = "http://127.0.0.1:9"

[[kvs]]
name = "site"
data = "seed.json"

[[functions]]
name = "hello"
file = "hello.js"
kvs = "site"

[default_behavior]
origin = "app"
viewer_request = "hello"

[edges]
pops = ["IAD", "FRA"]
propagation = { model = "fixed", lag_ms = 2000 }
"""
HELLO = """\
function handler(event) {
  return { statusCode: 200, statusDescription: 'OK', body: 'hello' };
}
"""
SEED = '{"data": [{"key": "colour", "value": "red"}]}'

Client = TestClient[Any, Any]
MakeClient = Callable[[web.Application], Awaitable[Client]]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def server(tmp_path: Path, clock: VirtualClock) -> AsyncIterator[EdgeServer]:
    dist = make_dist(tmp_path, textwrap.dedent(CONFIG), {"hello.js": HELLO, "seed.json": SEED})
    edge = EdgeServer(dist, stream=io.StringIO(), clock=clock)
    yield edge
    await edge.stop()


@pytest.fixture
async def admin(aiohttp_client: MakeClient, server: EdgeServer) -> Client:
    app = web.Application()
    add_admin_routes(app, server)
    return await aiohttp_client(app)


@pytest.fixture
async def viewer(aiohttp_client: MakeClient, server: EdgeServer) -> Client:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.proxy.handle)
    return await aiohttp_client(app)


def cache_entry(server: EdgeServer, path: str) -> None:
    """Store a 200 for ``path`` in the server's cache."""
    writer = server.cache.begin(
        f"key:{path}",
        status=200,
        headers=[],
        decision=TtlDecision(True, 60, reason="test"),
        path=path,
    )
    writer.write(b"body")
    assert writer.commit() is not None


# --- /status ---------------------------------------------------------------------------------


async def test_status_reports_functions_pops_kvs_and_cache(
    admin: Client, server: EdgeServer, clock: VirtualClock
) -> None:
    cache_entry(server, "/a")
    response = await admin.get("/status")
    assert response.status == 200
    status = await response.json()
    assert status["pops"] == ["IAD", "FRA"]
    (function,) = status["functions"]
    assert {k: function[k] for k in ("name", "kvs", "loaded", "versions", "last_error")} == {
        "name": "hello",
        "kvs": "site",
        "loaded": True,
        "versions": 1,
        "last_error": None,
    }
    (store,) = status["kvs"]
    assert (store["name"], store["items"]) == ("site", 1)
    assert [p["pop"] for p in store["pops"]] == ["IAD", "FRA"]
    assert all(p["pending"] == [] for p in store["pops"])
    assert status["cache"]["entries"] == 1


async def test_status_shows_a_kvs_write_still_propagating(
    admin: Client, server: EdgeServer, clock: VirtualClock
) -> None:
    etag = server.kvs.describe("site").etag
    server.kvs.put_key("site", "colour", "blue", if_match=etag)
    (store,) = (await (await admin.get("/status")).json())["kvs"]
    for pop in store["pops"]:
        assert pop["version"] == 1
        assert pop["pending"] == [{"version": 2, "lands_in_s": 2.0}]
    clock.advance(2.0)
    (store,) = (await (await admin.get("/status")).json())["kvs"]
    assert [(p["version"], p["pending"]) for p in store["pops"]] == [(2, []), (2, [])]


async def test_status_reports_a_failed_reload(
    admin: Client, server: EdgeServer, tmp_path: Path
) -> None:
    (tmp_path / "hello.js").write_text("function handler(event) { return event?.request; }\n")
    server.reload_function_file(tmp_path / "hello.js")
    (function,) = (await (await admin.get("/status")).json())["functions"]
    assert function["loaded"] is True  # the last good version keeps serving
    assert "[optional-chaining]" in function["last_error"]


# --- /metrics --------------------------------------------------------------------------------


async def test_metrics_is_prometheus_text_counting_viewer_requests(
    admin: Client, viewer: Client
) -> None:
    for _ in range(2):
        answer = await viewer.get("/page")
        assert await answer.text() == "hello"
    response = await admin.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    assert response.charset == "utf-8"
    text = await response.text()
    assert "# TYPE edgesim_requests counter" in text
    assert 'edgesim_requests{result_type="FunctionGeneratedResponse"} 2' in text
    assert 'edgesim_responses{status="200"} 2' in text
    assert 'edgesim_function_invocations{function="hello"} 2' in text
    assert "edgesim_cache_hit_rate 0.000000" in text


async def test_metrics_before_any_request(admin: Client) -> None:
    text = await (await admin.get("/metrics")).text()
    assert "edgesim_bytes_downloaded 0\n" in text
    assert "edgesim_function_invocations{" not in text


# --- /cache/invalidations ----------------------------------------------------------------------


async def test_invalidation_answers_the_count_per_path(admin: Client, server: EdgeServer) -> None:
    for path in ("/images/a.png", "/images/b.png", "/index.html", "/other"):
        cache_entry(server, path)
    response = await admin.post(
        "/cache/invalidations", json={"paths": ["/images/*", "/index.html", "/none"]}
    )
    assert response.status == 200
    assert await response.json() == {"invalidated": {"/images/*": 2, "/index.html": 1, "/none": 0}}
    assert server.cache.stats()["entries"] == 1  # /other stays


async def test_a_path_without_a_leading_slash_is_taken_as_the_console_does(
    admin: Client, server: EdgeServer
) -> None:
    cache_entry(server, "/index.html")
    response = await admin.post("/cache/invalidations", json={"paths": ["index.html"]})
    assert await response.json() == {"invalidated": {"index.html": 1}}


async def test_a_body_that_is_not_json_is_400(admin: Client) -> None:
    for body in (b"paths=/a", b"\xff\xfe"):
        response = await admin.post("/cache/invalidations", data=body)
        assert response.status == 400
        assert "JSON" in (await response.json())["message"]


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"path": ["/a"]},
        {"paths": "/a"},
        {"paths": [""]},
        {"paths": ["/a", 3]},
        ["/a"],
        42,
    ],
)
async def test_a_missing_or_malformed_paths_list_is_400(admin: Client, doc: Any) -> None:
    response = await admin.post("/cache/invalidations", json=doc)
    assert response.status == 400
    assert "at least one path" in (await response.json())["message"]


async def test_an_empty_paths_list_is_400(admin: Client) -> None:
    response = await admin.post("/cache/invalidations", json={"paths": []})
    assert response.status == 400


@pytest.mark.parametrize("path", ["/a*b", "/*/x", "**"])
async def test_a_star_not_at_the_end_is_400(admin: Client, server: EdgeServer, path: str) -> None:
    cache_entry(server, "/a-b")
    response = await admin.post("/cache/invalidations", json={"paths": [path]})
    assert response.status == 400
    assert "'*' may only be the last character" in (await response.json())["message"]
    assert server.cache.stats()["entries"] == 1


async def test_a_refused_batch_invalidates_nothing(admin: Client, server: EdgeServer) -> None:
    cache_entry(server, "/images/a.png")
    response = await admin.post("/cache/invalidations", json={"paths": ["/images/*", "/a*b"]})
    assert response.status == 400
    assert server.cache.stats()["entries"] == 1
