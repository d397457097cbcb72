"""A real origin and a real ``serve`` on free loopback ports, stopped after each test."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yarl
from aiohttp import web

from edgesim.app import EdgeServer
from edgesim.distribution.config import load_config
from edgesim.kvs.clock import VirtualClock
from edgesim.kvs.service import KvsService
from edgesim.stores import kvs_service_for


@dataclass
class Origin:
    url: str
    seen: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Cache-Control": "max-age=60"})
    body: bytes = b"hello from origin"
    delay_s: float = 0.0


async def _start_origin() -> tuple[web.AppRunner, Origin]:
    origin = Origin(url="")

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        origin.seen.append(
            {
                "method": request.method,
                "path_qs": request.raw_path,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "body_len": len(body),
            }
        )
        if origin.delay_s:
            await asyncio.sleep(origin.delay_s)
        if request.path.startswith("/big/"):
            size = int(request.path.rsplit("/", 1)[1])
            response = web.StreamResponse(headers={"Cache-Control": "max-age=60"})
            response.content_length = size
            await response.prepare(request)
            chunk = bytes(range(256)) * 256
            sent = 0
            while sent < size:
                piece = chunk[: min(len(chunk), size - sent)]
                await response.write(piece)
                sent += len(piece)
            await response.write_eof()
            return response
        if request.path.startswith("/geo"):
            # An origin that redirects by country, as many geo set-ups do.
            country = request.headers.get("cloudfront-viewer-country", "XX").lower()
            return web.Response(
                status=302,
                headers={
                    "Location": f"https://{country}.example.com/",
                    "Cache-Control": "max-age=60",
                },
            )
        if request.path.startswith("/etag"):
            headers = {"ETag": '"v1"', "Cache-Control": "max-age=10"}
            if request.headers.get("If-None-Match") == '"v1"':
                return web.Response(status=304, headers=headers)
            return web.Response(body=b"validated body", headers=headers)
        if request.path.startswith("/status/"):
            code = int(request.path.rsplit("/", 1)[1])
            return web.Response(status=code, body=f"origin says {code}".encode())
        return web.Response(status=origin.status, body=origin.body, headers=origin.headers)

    app = web.Application(client_max_size=1024**3)
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    origin.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    return runner, origin


@dataclass
class Edge:
    server: EdgeServer
    origin: Origin
    session: aiohttp.ClientSession
    clock: VirtualClock
    config: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.viewer_port}"

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.server.admin_port}"

    async def get(
        self, path: str, *, method: str = "GET", data: Any = None, **headers: str
    ) -> tuple[int, Any, bytes]:
        # encoded=True: send the target exactly as written (no client-side normalisation).
        url = yarl.URL(self.url + path, encoded=True)
        async with self.session.request(
            method, url, headers=headers, data=data, allow_redirects=False
        ) as response:
            return response.status, response.headers, await response.read()


StartEdge = Callable[..., Awaitable[Edge]]


@pytest.fixture
async def start_edge(tmp_path: Path) -> AsyncIterator[StartEdge]:
    """``await start_edge(toml, files={...})``: write files, start origin + serve, return Edge.

    ``{origin}`` in the TOML is replaced by the origin's URL; ``server`` holds extra ``[server]``
    keys. The KVS runs on a virtual clock.
    """
    started: list[tuple[web.AppRunner, EdgeServer, aiohttp.ClientSession, KvsService]] = []

    async def start(toml: str, files: dict[str, str] | None = None, server: str = "") -> Edge:
        runner, origin = await _start_origin()
        for name, text in (files or {}).items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        config = tmp_path / "edgesim.toml"
        body = textwrap.dedent(toml).replace("{origin}", origin.url)
        config.write_text(
            "[server]\nport = 0\nadmin_port = 0\nhttps_port = 0\nephemeral = true\n" + server + body
        )
        dist = load_config(config)
        clock = VirtualClock()
        kvs = kvs_service_for(dist, clock=clock)
        server = EdgeServer(dist, kvs=kvs, stream=_Sink(), clock=clock)
        await server.start()
        session = aiohttp.ClientSession(auto_decompress=False)
        started.append((runner, server, session, kvs))
        return Edge(server, origin, session, clock, config)

    yield start
    for runner, server, session, kvs in started:
        await session.close()
        await server.stop()
        kvs.close()
        await runner.cleanup()


class _Sink:
    """Collects serve's log lines (tests may assert on them)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.lines.extend(line for line in text.splitlines() if line)
        return len(text)

    def flush(self) -> None:
        pass


# Configurations shared by several test_serve_*.py files: a pass-through viewer-request function,
# and a cached origin without functions.

PASS_JS = "function handler(event) { return event.request; }"

WITH_FUNCTION = """
[[origins]]
id = "app"
url = "{origin}"

[[functions]]
name = "pass"
file = "pass.js"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"
viewer_request = "pass"
"""

BASIC = """
[[origins]]
id = "app"
url = "{origin}"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
origin_request_policy = "AllViewer"
"""
