"""serve with a built Lambda@Edge function (``[[lambdas]]`` with ``build``): built before the
lambdas are checked, rebuilt and reloaded when a watched source changes, a failed build leaving
the last good version serving with its output in the console and /status, and a failed first
build stopping serve. Skipped where Node.js is missing (it runs both the build and the lambda)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import StartEdge
from tests.e2e.serve_build import refused_start, until, until_build_failed, version, watching

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

# A stand-in for tsc or esbuild: strips the `: any` annotations of src/handler.ts and writes a
# package directory (dist/index.js, CommonJS) or one file; a source with @fail-build fails the
# way a compiler does (its error on stderr, exit status 2, nothing written).
BUILD_JS = """
const fs = require("fs");
const path = require("path");
const out = process.argv[2];
const src = fs.readFileSync("src/handler.ts", "utf8");
if (src.includes("@fail-build")) {
  console.error("src/handler.ts(2,9): error TS2304: Cannot find name 'oops'.");
  process.exit(2);
}
const js = src.replace(/: any/g, "").replace("export const handler", "exports.handler");
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, "// built by build.js\\n" + js);
"""

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[lambdas]]
name = "tag"
file = "FILE"
build = "node build.js OUTPUT"
watch = ["src/**/*.ts"]

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"
viewer_request = "tag"
"""

PACKAGE = CONFIG.replace("FILE", "dist").replace("OUTPUT", "dist/index.js")


def _source(version: str) -> str:
    return (
        "export const handler = async (event: any) => {\n"
        "  const request: any = event.Records[0].cf.request;\n"
        f'  request.headers["x-version"] = [{{ key: "X-Version", value: "{version}" }}];\n'
        "  return request;\n"
        "};\n"
    )


def _files(version: str) -> dict[str, str]:
    return {"build.js": BUILD_JS, "src/handler.ts": _source(version)}


async def test_a_built_package_directory_is_rebuilt_on_change_last_good_kept_on_failure(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    edge = await start_edge(PACKAGE, files=_files("1"))
    assert await version(edge) == "1"  # built at start-up, then checked and served
    async with watching(edge):
        (tmp_path / "src/handler.ts").write_text(_source("2"))
        await until(edge, "2")
        lines: list[str] = getattr(edge.server.stream, "lines")  # noqa: B009 (the test's sink)
        assert any("lambda tag: reloaded from" in line for line in lines)

        # A failing build: the last good version keeps serving, the build's output is shown.
        (tmp_path / "src/handler.ts").write_text(_source("3") + "// @fail-build\n")
        await until_build_failed(edge)
        assert await version(edge) == "2"
        assert any("error TS2304: Cannot find name 'oops'" in line for line in lines)
        assert any("still serving the last good version" in line for line in lines)
        async with edge.session.get(edge.admin + "/status") as response:
            [build] = (await response.json())["builds"]
        assert build["lambdas"] == ["tag"]
        assert build["functions"] == []
        assert build["ok"] is False
        assert "error TS2304" in build["output"]

        # Fixed: built, reloaded, served.
        (tmp_path / "src/handler.ts").write_text(_source("4"))
        await until(edge, "4")


async def test_a_built_single_file_lambda_is_rebuilt_on_change(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    config = CONFIG.replace("FILE", "dist/tag.js").replace("OUTPUT", "dist/tag.js")
    edge = await start_edge(config, files=_files("1"))
    assert await version(edge) == "1"
    async with watching(edge):
        (tmp_path / "src/handler.ts").write_text(_source("2"))
        await until(edge, "2")


async def test_serve_refuses_to_start_when_the_first_lambda_build_fails(tmp_path: Path) -> None:
    for name, text in _files("1").items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "src/handler.ts").write_text(_source("1") + "// @fail-build\n")
    failed, console = await refused_start(tmp_path, PACKAGE)
    assert "lambda tag:" in str(failed)
    assert "error TS2304: Cannot find name 'oops'" in console  # the build's own words
    assert not (tmp_path / "dist").exists()
