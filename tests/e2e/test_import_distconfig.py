"""serve a distribution imported from `aws cloudfront get-distribution-config` JSON
(fixtures/import/distconfig) in front of a real local origin: its function reads the KVS data
given with --kvs, its behaviours apply their policies (a custom one from --policy, one made from
legacy ForwardedValues), its custom error page is served, its viewer protocol policy holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yarl
from aiohttp import web

from edgesim.app import EdgeServer
from edgesim.importers.load import load_distribution
from tests.e2e.conftest import _Sink

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "import" / "distconfig"
OVERLAY = """
[server]
port = 0
admin_port = 0
https_port = 0

[edges]
propagation = { model = "fixed", lag_ms = 0 }
"""


@dataclass
class Site:
    server: EdgeServer
    session: aiohttp.ClientSession
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def get(self, path: str, **headers: str) -> tuple[int, Any, bytes]:
        url = yarl.URL(f"http://127.0.0.1:{self.server.viewer_port}{path}", encoded=True)
        async with self.session.get(url, headers=headers, allow_redirects=False) as response:
            return response.status, response.headers, await response.read()


async def _origin(seen: list[dict[str, Any]]) -> tuple[web.AppRunner, str]:
    async def handler(request: web.Request) -> web.Response:
        seen.append(
            {
                "path_qs": request.raw_path,
                "headers": {k.lower(): v for k, v in request.headers.items()},
            }
        )
        cached = {"Cache-Control": "max-age=60"}
        if request.path == "/errors/404.html":
            return web.Response(text="our own not-found page", content_type="text/html")
        if request.path.startswith("/missing"):
            return web.Response(status=404, text="origin says 404")
        return web.Response(text=f"page {request.raw_path}", headers=cached)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
async def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Site]:
    seen: list[dict[str, Any]] = []
    runner, url = await _origin(seen)
    overlay = tmp_path / "edgesim.local.toml"
    overlay.write_text(OVERLAY)
    monkeypatch.chdir(FIXTURE)  # the flags' paths are relative, as a user types them
    dist = load_distribution(
        Path("distribution-config.json"),
        workdir=tmp_path / "work",
        overlay=overlay,
        origins=[f"app={url}", f"app-backup={url}", f"assets={url}"],
        functions=[
            "router=functions/router.js,kvs=site-config",
            "api-headers=functions/api-headers.js",
        ],
        policies=["policies/api-cache-policy.json", "policies/static-headers-policy.json"],
        kvs=["site-config=kvs/site-config.json"],
        # Lambda@Edge is imported (issue 18): the code of the ARN-only association.
        lambdas=["arn:aws:lambda:us-east-1:111122223333:function:api-auth:7=../lambda/api-auth.js"],
    )
    server = EdgeServer(dist, stream=_Sink())  # type: ignore[arg-type]
    await server.start()
    session = aiohttp.ClientSession(auto_decompress=False)
    try:
        yield Site(server, session, seen)
    finally:
        await session.close()
        await server.stop()
        await runner.cleanup()


async def test_the_function_reads_the_kvs_data_given_with_kvs(site: Site) -> None:
    status, headers, body = await site.get("/about/")
    assert status == 200
    assert body == b"page /about/index.html"  # the router appends index.html
    assert site.seen[-1]["headers"]["x-greeting"] == "hello from the store"
    # The origin's custom header, and the managed AllViewerExceptHostHeader policy.
    assert site.seen[-1]["headers"]["x-origin-secret"] == "from-cloudfront"
    assert headers["X-Cache"] == "Miss from cloudfront"


async def test_the_custom_cache_policy_keys_on_authorization_and_page(site: Site) -> None:
    first = await site.get("/api/items?page=1&debug=1", Authorization="a")
    again = await site.get("/api/items?page=1&debug=2", Authorization="a")
    other = await site.get("/api/items?page=1", Authorization="b")
    assert [r[1]["X-Cache"] for r in (first, again, other)] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Miss from cloudfront",
    ]
    assert first[1]["x-api"] == "yes"  # the behaviour's viewer-response function
    # AllViewer forwards every query parameter; only page is in the cache key.
    assert site.seen[0]["path_qs"] == "/api/items?page=1&debug=1"


async def test_legacy_forwarded_values_forward_all_and_key_on_v(site: Site) -> None:
    first = await site.get("/legacy/a?v=1&utm=x", **{"Accept-Language": "de"})
    again = await site.get("/legacy/a?v=1&utm=y", **{"Accept-Language": "de"})
    other_v = await site.get("/legacy/a?v=2&utm=x", **{"Accept-Language": "de"})
    other_lang = await site.get("/legacy/a?v=1&utm=x", **{"Accept-Language": "fr"})
    assert [r[1]["X-Cache"] for r in (first, again, other_v, other_lang)] == [
        "Miss from cloudfront",
        "Hit from cloudfront",
        "Miss from cloudfront",
        "Miss from cloudfront",
    ]
    assert site.seen[0]["path_qs"] == "/legacy/a?v=1&utm=x"
    assert site.seen[0]["headers"]["accept-language"] == "de"


async def test_the_custom_error_page_is_served_with_its_status(site: Site) -> None:
    status, _, body = await site.get("/missing/thing")
    assert status == 404
    assert body == b"our own not-found page"
    assert [s["path_qs"] for s in site.seen] == ["/missing/thing", "/errors/404.html"]


async def test_redirect_to_https_on_the_static_behaviour(site: Site) -> None:
    status, headers, _ = await site.get("/static/app.css")
    assert status == 301
    assert headers["Location"].startswith("https://")
    assert site.seen == []


async def test_the_notes_say_what_is_not_emulated(site: Site) -> None:
    notes = "\n".join(site.server.dist.notes)
    assert "AWS WAF web ACL is not applied" in notes
    assert "Lambda@Edge" not in notes  # imported, no longer a "not emulated yet" note
    assert list(site.server.dist.lambdas) == ["api-auth"]
