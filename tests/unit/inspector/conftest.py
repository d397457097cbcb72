"""An EdgeServer from a small config (a function reading KVS, two POPs, a virtual clock) and its
admin app through aiohttp's test client; a viewer client for traffic."""

from __future__ import annotations

import io
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from edgesim.app import EdgeServer
from edgesim.kvs.clock import VirtualClock
from tests.unit.edge.stages.conftest import make_dist

CONFIG = """
[server]
ephemeral = true
admin_allowed_hosts = ["edgesim", "*.dev.example"]

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
propagation = { model = "fixed", lag_ms = 0, per_pop_ms = { FRA = 5000 } }
"""
# Reads the KVS, logs, and answers itself: no origin needed.
HELLO = """\
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  const colour = await kvs.get('colour');
  let size = 'none';
  try { size = await kvs.get('size'); } catch (e) { size = 'missing'; }
  console.log('colour is ' + colour);
  if (event.request.uri === '/boom') { throw new Error('boom'); }
  return { statusCode: 200, statusDescription: 'OK', body: 'colour=' + colour + ' size=' + size };
}
"""
SEED = '{"data": [{"key": "colour", "value": "red"}]}'

Client = TestClient[Any, Any]
MakeClient = Callable[[web.Application], Awaitable[Client]]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def make_server(tmp_path: Path, clock: VirtualClock) -> AsyncIterator[Any]:
    built: list[EdgeServer] = []

    def build(config: str = CONFIG, hello: str = HELLO, **kwargs: Any) -> EdgeServer:
        files = {"hello.js": hello, "seed.json": SEED}
        dist = make_dist(tmp_path, textwrap.dedent(config), files)
        server = EdgeServer(dist, stream=io.StringIO(), clock=clock, **kwargs)
        built.append(server)
        return server

    yield build
    for server in built:
        await server.stop()


@pytest.fixture
def server(make_server: Any) -> EdgeServer:
    edge: EdgeServer = make_server()
    return edge


@pytest.fixture
async def admin(aiohttp_client: MakeClient, server: EdgeServer) -> Client:
    return await aiohttp_client(server.admin_app())


@pytest.fixture
async def viewer(aiohttp_client: MakeClient, server: EdgeServer) -> Client:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.proxy.handle)
    return await aiohttp_client(app)
