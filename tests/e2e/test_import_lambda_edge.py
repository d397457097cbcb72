"""serve distributions imported with Lambda@Edge associations (fixtures/import/lambda) in front
of a real local origin: the function the source names runs at its event with its own code — a
CDK EdgeFunction followed to its us-east-1 stack's asset, a SAM CodeUri package, CloudFormation
inline code, a Terraform archive_file source and a DistributionConfig's --lambda code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from edgesim.app import EdgeServer
from edgesim.importers.load import load_distribution
from tests.e2e.conftest import _Sink

LAMBDA = Path(__file__).resolve().parents[2] / "fixtures" / "import" / "lambda"
OVERLAY = "[server]\nport = 0\nadmin_port = 0\nhttps_port = 0\n"


@pytest.fixture
async def origin() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append({k.lower(): v for k, v in request.headers.items()} | {":path": request.path})
        return web.Response(text=f"origin {request.path}", headers={"Cache-Control": "no-store"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    finally:
        await runner.cleanup()


async def _serve(tmp_path: Path, source: str, origin_id: str, url: str, **flags: Any) -> Any:
    overlay = tmp_path / "edgesim.local.toml"
    overlay.write_text(OVERLAY)
    dist = load_distribution(
        LAMBDA / source,
        workdir=tmp_path / "work",
        overlay=overlay,
        origins=[f"{origin_id}={url}"],
        **flags,
    )
    server = EdgeServer(dist, stream=_Sink())  # type: ignore[arg-type]
    await server.start()
    return server


async def _get(server: EdgeServer, path: str, **headers: str) -> tuple[int, Any, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.viewer_port}{path}", headers=headers) as response,
    ):
        return response.status, response.headers, await response.text()


@pytest.mark.parametrize(
    ("source", "origin_id", "header", "value"),
    [
        ("cdk-edge/cdk.out", "EdgeSiteOrigin13729B128", "x-signed-by", "cdk"),
        ("sam/template.yaml", "app", "x-from-sam", "1"),
    ],
)
async def test_an_origin_request_function_runs_with_the_imported_code(
    tmp_path: Path,
    origin: tuple[str, list[dict[str, str]]],
    source: str,
    origin_id: str,
    header: str,
    value: str,
) -> None:
    url, seen = origin
    server = await _serve(tmp_path, source, origin_id, url)
    try:
        status, _, body = await _get(server, "/page")
        assert (status, body) == (200, "origin /page")
        assert seen[-1][header] == value
    finally:
        await server.stop()


async def test_cloudformation_inline_code_and_a_lambda_flag(
    tmp_path: Path, origin: tuple[str, list[dict[str, str]]]
) -> None:
    url, _ = origin
    server = await _serve(
        tmp_path,
        "cloudformation/template.yaml",
        "app",
        url,
        lambdas=[f"Auth={LAMBDA / 'distconfig' / 'auth'}"],
    )
    try:
        # Inline Code.ZipFile on origin response of the default behaviour.
        status, headers, _ = await _get(server, "/page")
        assert (status, headers["X-Frame-Options"]) == (200, "DENY")
        # /api/*: the --lambda code answers 401 on viewer request without Authorization.
        status, _, _ = await _get(server, "/api/items")
        assert status == 401
        status, headers, body = await _get(server, "/api/items", Authorization="Bearer x")
        assert (status, body, headers["X-Frame-Options"]) == (200, "origin /api/items", "DENY")
    finally:
        await server.stop()


async def test_terraform_viewer_request_rewrites_the_uri(
    tmp_path: Path, origin: tuple[str, list[dict[str, str]]]
) -> None:
    url, seen = origin
    server = await _serve(tmp_path, "terraform", "app", url)
    try:
        status, _, body = await _get(server, "/old/a.html")
        assert (status, body) == (200, "origin /new/a.html")
        assert seen[-1][":path"] == "/new/a.html"
    finally:
        await server.stop()
