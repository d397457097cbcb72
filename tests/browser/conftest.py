"""A real ``serve`` (viewer and admin ports on loopback, a virtual clock) in front of a real
origin, and Chromium driven by Playwright (Debian's ``chromium``, found by path: browser
downloads are not possible everywhere). Tests skip, saying why, where Chromium is missing.

Screenshots go to ``$EDGESIM_ARTIFACTS/inspector`` (default: the test's tmp directory); with
``EDGESIM_UPDATE_SCREENSHOTS=1`` they also replace the ones docs/inspector.md shows.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from edgesim.app import EdgeServer
from edgesim.distribution.config import load_config
from edgesim.kvs.clock import VirtualClock

DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "inspector"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CONFIG = """
[server]
port = 0
admin_port = 0
https = false
ephemeral = true

[[origins]]
id = "app"
url = "{origin}"

[[kvs]]
name = "site"
data = "seed.json"

[[functions]]
name = "greet"
file = "greet.js"
kvs = "site"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
viewer_request = "greet"

[edges]
pops = ["IAD", "FRA", "NRT"]
propagation = { model = "fixed", lag_ms = 0, per_pop_ms = { FRA = 2000, NRT = 6000 } }
"""
# Rewrites /old/… to /new/…, adds the KVS greeting as a header, logs what it did.
GREET = """\
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  const request = event.request;
  const greeting = await kvs.get('greeting');
  if (request.uri.startsWith('/old/')) {
    request.uri = '/new/' + request.uri.slice(5);
  }
  request.headers['x-greeting'] = { value: greeting };
  console.log('greeting ' + greeting + ' for ' + request.uri);
  return request;
}
"""
SEED = '{"data": [{"key": "greeting", "value": "hello"}]}'


def chromium_path() -> str | None:
    configured = os.environ.get("EDGESIM_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "Chromium is not installed (apt-get install chromium, or set EDGESIM_CHROMIUM to a "
            "Chromium/Chrome binary): the inspector's browser tests need it"
        )
    return path


@dataclass
class Edge:
    server: EdgeServer
    clock: VirtualClock
    session: aiohttp.ClientSession
    shots: Path

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.server.admin_port}/"

    async def get(self, path: str, pop: str = "IAD") -> int:
        url = f"http://127.0.0.1:{self.server.viewer_port}{path}"
        async with self.session.get(url, headers={"x-edgesim-pop": pop}) as response:
            await response.read()
            return response.status


@pytest.fixture
async def edge(tmp_path: Path) -> AsyncIterator[Edge]:
    async def origin(request: web.Request) -> web.Response:
        return web.Response(
            text=f"origin saw {request.path} with greeting {request.headers.get('x-greeting')}",
            headers={"Cache-Control": "max-age=300"},
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", origin)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    origin_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    (tmp_path / "greet.js").write_text(GREET)
    (tmp_path / "seed.json").write_text(SEED)
    config = tmp_path / "edgesim.toml"
    config.write_text(textwrap.dedent(CONFIG).replace("{origin}", origin_url))
    clock = VirtualClock()
    server = EdgeServer(load_config(config), stream=_Sink(), clock=clock)
    await server.start()
    session = aiohttp.ClientSession()
    shots = Path(os.environ.get("EDGESIM_ARTIFACTS", tmp_path)) / "inspector"
    shots.mkdir(parents=True, exist_ok=True)
    try:
        yield Edge(server, clock, session, shots)
    finally:
        await session.close()
        await server.stop()
        await runner.cleanup()


@pytest.fixture
async def page(chromium: str, edge: Edge) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium)
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            yield page
        finally:
            await browser.close()
        assert errors == [], f"JavaScript errors on the page: {errors}"


async def screenshot(page: Any, edge: Edge, name: str) -> None:
    """Save ``name``.png as a test artifact (and for the docs when asked to)."""
    path = edge.shots / f"{name}.png"
    await page.screenshot(path=str(path))
    if os.environ.get("EDGESIM_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SHOTS / f"{name}.png")


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
