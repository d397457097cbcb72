"""The bundled demo that ``edgesim serve`` runs when there is no ``edgesim.toml``.

It starts a small origin of its own on a free loopback port, serves the example functions
in front of it with a seeded KVS on three POPs, and walks through a short tour of requests so
that ``make demo`` shows the pieces working: cohorts from the KVS, a geo redirect, a
viewer-response function, caching, and a KVS write propagating POP by POP.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from edgesim.distribution.config import parse_config
from edgesim.distribution.model import Distribution

_PACKAGE_DIR = Path(__file__).resolve().parent


def demo_root() -> Path:
    """Folder holding ``functions/`` and ``fixtures/``: in the wheel, or the repository."""
    bundled = _PACKAGE_DIR / "_demo"
    return bundled if bundled.is_dir() else _PACKAGE_DIR.parent


def demo_config(
    origin_url: str, *, port: int, admin_port: int, ephemeral: bool, https_port: int = 8443
) -> Distribution:
    doc: dict[str, Any] = {
        "server": {
            "port": port,
            "admin_port": admin_port,
            "https_port": https_port,
            "ephemeral": ephemeral,
        },
        "origins": [{"id": "demo-origin", "url": origin_url}],
        "kvs": [{"name": "experiments", "data": "fixtures/kvs/ab_cohort.json"}],
        "functions": [
            {
                "name": "ab-cohort",
                "file": "functions/ab_cohort.js",
                "runtime": "cloudfront-js-2.0",
                "kvs": "experiments",
            },
            {"name": "country-redirect", "file": "functions/country_redirect.js"},
            {"name": "security-headers", "file": "functions/security_headers.js"},
        ],
        "behaviors": [
            {
                "path": "/checkout*",
                "origin": "demo-origin",
                "viewer_request": "ab-cohort",
                "cache_policy": "CachingDisabled",
                "origin_request_policy": "AllViewer",
            },
            {
                "path": "/shop/*",
                "origin": "demo-origin",
                "viewer_request": "country-redirect",
                "cache_policy": "CachingOptimized",
                "origin_request_policy": "AllViewerAndCloudFrontHeaders-2022-06",
            },
        ],
        "default_behavior": {
            "origin": "demo-origin",
            "viewer_response": "security-headers",
            "cache_policy": "CachingOptimized",
        },
        "edges": {
            "pops": ["IAD", "FRA", "NRT"],
            "propagation": {"model": "uniform", "min_ms": 500, "max_ms": 3000, "seed": 7},
        },
    }
    return parse_config(doc, base_dir=demo_root(), source="(bundled demo)")


# -- the demo origin -----------------------------------------------------------------------------
async def _page(request: web.Request) -> web.Response:
    seen = {k.lower(): v for k, v in request.headers.items()}
    body = {
        "origin": "edgesim demo origin",
        "path": request.path_qs,
        "cohort": seen.get("x-cohort"),
        "viewer_country": seen.get("cloudfront-viewer-country"),
        "headers_seen": sorted(seen),
    }
    cache = "max-age=60" if not request.path.startswith("/checkout") else "no-store"
    return web.json_response(body, headers={"Cache-Control": cache})


async def start_demo_origin() -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _page)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


# -- the tour ------------------------------------------------------------------------------------
async def tour(
    viewer: str,
    admin: str,
    say: Callable[[str], None],
    *,
    wait: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """A few requests that show what the emulator does; printed for the person at the terminal.

    ``wait`` lets time pass between propagation checks (tests pass one that moves a virtual
    clock instead of sleeping)."""
    async with aiohttp.ClientSession() as session:

        async def get(path: str, **headers: str) -> tuple[int, dict[str, str], str]:
            async with session.get(viewer + path, headers=headers, allow_redirects=False) as r:
                return r.status, dict(r.headers), await r.text()

        say("tour 1: A/B cohort from the KVS (same uid → same cohort at every POP)")
        for pop in ("IAD", "FRA", "NRT"):
            status, headers, body = await get(
                "/checkout", Cookie="uid=alice", **{"x-edgesim-pop": pop}
            )
            cohort = json.loads(body).get("cohort") if status == 200 else None
            say(f"  {pop}: {status} cohort={cohort} x-amz-cf-pop={headers.get('X-Amz-Cf-Pop')}")
        say("tour 2: geo redirect for a German viewer")
        status, headers, _ = await get("/shop/shoes", **{"x-edgesim-viewer-country": "DE"})
        say(f"  {status} location={headers.get('Location')} x-cache={headers.get('X-Cache')}")
        say("tour 3: cache miss then hit, with the viewer-response function's headers")
        for _ in range(2):
            status, headers, _ = await get("/index.html")
            say(
                f"  {status} x-cache={headers.get('X-Cache')} age={headers.get('Age', '-')} "
                f"x-frame-options={headers.get('X-Frame-Options')}"
            )
        say("tour 4: a KVS write propagates POP by POP (turn the experiment off)")
        async with session.get(admin + "/__edgesim/kvs/stores/experiments") as r:
            info = await r.json()
        etag, arn = info["etag"], info["arn"]
        doc = {"Value": json.dumps({"path": "/none", "variants": []})}
        from urllib.parse import quote

        async with session.put(
            f"{admin}/key-value-stores/{quote(arn, safe='')}/keys/experiment%3Acheckout",
            json=doc,
            headers={"If-Match": etag},
        ) as r:
            say(f"  PutKey → {r.status}")
        for _ in range(4):
            states = []
            for pop in ("IAD", "FRA", "NRT"):
                status, _, body = await get(
                    "/checkout", Cookie="uid=alice", **{"x-edgesim-pop": pop}
                )
                cohort = json.loads(body).get("cohort") if status == 200 else f"HTTP {status}"
                states.append(f"{pop}={cohort}")
            say("  " + " ".join(states))
            await wait(1.0)
