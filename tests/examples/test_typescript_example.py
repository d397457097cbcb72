"""examples/typescript: two TypeScript functions sharing a helper module, built by npm (tsc to
ES5, then esbuild bundles), run by ``edgesim serve``; every built file passes the strict check
and maps back to the .ts sources."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from edgesim import limits
from edgesim.app import EdgeServer
from edgesim.build import load_source_map
from edgesim.distribution.config import load_config
from edgesim.runtime.compat import check_source

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "typescript"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are not installed: the example is built with npm (tsc, esbuild)",
)


def _npm_ci(folder: Path) -> None:
    done = subprocess.run(
        ["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _installed_dependencies() -> Path:
    """node_modules for the example's lock file, installed once with ``npm ci`` and kept in the
    user's cache folder (keyed by the lock file's hash) for later runs."""
    lock = (EXAMPLE / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgesim-tests"
    folder = cache / f"typescript-example-{hashlib.sha256(lock).hexdigest()[:16]}"
    if not (folder / "node_modules" / ".package-lock.json").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache))
        for name in ("package.json", "package-lock.json"):
            shutil.copy(EXAMPLE / name, staging / name)
        _npm_ci(staging)
        try:
            staging.rename(folder)  # atomic: a concurrent run either wins or reuses this one
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return folder / "node_modules"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example, its dependencies installed by npm ci (cached between runs)."""
    folder = tmp_path_factory.mktemp("typescript") / "example"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("node_modules", "build", "dist"))
    (folder / "node_modules").symlink_to(_installed_dependencies(), target_is_directory=True)
    return folder


@pytest.fixture
async def origin() -> AsyncIterator[str]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=f"page {request.path}", headers={"Server": "origin/1.0"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_the_example_builds_and_runs_under_serve(project: Path, origin: str) -> None:
    config = project / "edgesim.toml"
    text = (EXAMPLE / "edgesim.toml").read_text().replace("http://127.0.0.1:3000", origin)
    config.write_text(
        "[server]\nport = 0\nadmin_port = 0\nhttps = false\nephemeral = true\n" + text
    )
    stream = io.StringIO()
    server = EdgeServer(load_config(config), stream=stream)  # builds both functions first
    try:
        await server.start()
        [build] = server.builds.status()
        assert build["functions"] == ["router", "security"]  # one build for both
        assert build["ok"] is True, stream.getvalue()
        base = f"http://127.0.0.1:{server.viewer_port}"
        async with aiohttp.ClientSession() as session:
            async with session.get(
                base + "/", headers={"Accept-Language": "fr-CA,fr;q=0.9"}, allow_redirects=False
            ) as response:
                assert response.status == 302
                assert response.headers["Location"] == "/fr/"
            async with session.get(base + "/docs/") as response:
                assert await response.text() == "page /docs/index.html"
                assert response.headers["X-Frame-Options"] == "DENY"
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                assert "Server" not in response.headers  # the origin's, removed by security.ts
    finally:
        await server.stop()
    await asyncio.sleep(0)


def test_the_built_files_pass_the_strict_check_and_map_to_the_typescript(project: Path) -> None:
    if not (project / "dist/router.js").exists():
        subprocess.run(["npm", "run", "build:edge"], cwd=project, check=True, capture_output=True)
    for name in ("router", "security"):
        built = project / "dist" / f"{name}.js"
        text = built.read_text()
        assert len(text.encode()) <= limits.FUNCTION_MAX_SOURCE_BYTES
        assert [
            f for f in check_source(text, runtime=limits.RUNTIME_JS_2) if f.severity == "error"
        ] == []
        assert "\nfunction handler(event)" in text  # top level, as CloudFront needs
    # Through both steps (tsc's map, then esbuild's): the shared helper's line in its .ts file.
    built = project / "dist/router.js"
    lines = built.read_text().split("\n")
    line = next(i for i, t in enumerate(lines, 1) if "var entry = headers[name];" in t)
    source_map = load_source_map(built, base_dir=project)
    assert source_map is not None
    origin = source_map.original(line, lines[line - 1].index("var") + 1)
    assert origin is not None
    assert origin.source == "src/shared/headers.ts"
    source = (project / origin.source).read_text().split("\n")
    assert "const entry = headers[name];" in source[origin.line - 1]
