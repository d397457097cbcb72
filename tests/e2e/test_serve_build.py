"""serve with a built function: built before serving, rebuilt and reloaded when a watched source
changes, a failed build leaving the last good version serving and its output in /status."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.e2e.conftest import StartEdge
from tests.e2e.serve_build import refused_start, until, until_build_failed, version, watching
from tests.unit.build.conftest import fake_build, needs_node

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[functions]]
name = "tag"
file = "dist/tag.js"
build = "BUILD"
watch = ["src/**/*.ts"]

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"
viewer_request = "tag"
"""


def _source(version: str) -> str:
    return (
        "function handler(event) {\n"
        f'  event.request.headers["x-version"] = {{ value: "{version}" }};\n'
        "  return event.request;\n"
        "}\n"
    )


def _config() -> str:
    return CONFIG.replace(
        "BUILD", fake_build("src/tag.ts", "dist/tag.js", "--no-map").replace('"', '\\"')
    )


async def test_built_at_start_rebuilt_on_change_last_good_kept_on_failure(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    edge = await start_edge(_config(), files={"src/tag.ts": _source("1")})
    assert await version(edge) == "1"  # built before serving
    async with watching(edge):
        (tmp_path / "src/tag.ts").write_text(_source("2"))
        await until(edge, "2")

        # A failing build: the last good version keeps serving, its output is in /status.
        (tmp_path / "src/tag.ts").write_text(_source("3") + "// @fail-build\n")
        await until_build_failed(edge)
        assert await version(edge) == "2"
        async with edge.session.get(edge.admin + "/status") as response:
            status = await response.json()
        [build] = status["builds"]
        assert build["functions"] == ["tag"]
        assert build["ok"] is False
        assert "error TS2304: Cannot find name 'oops'" in build["output"]
        lines = edge.server.stream.lines  # type: ignore[attr-defined]
        assert any("error TS2304" in line for line in lines)
        assert any("still serving the last good version" in line for line in lines)

        # Fixed: built and served again.
        (tmp_path / "src/tag.ts").write_text(_source("4"))
        await until(edge, "4")


async def test_serve_refuses_to_start_when_the_first_build_fails(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/tag.ts").write_text(_source("1") + "// @fail-build\n")
    _, console = await refused_start(tmp_path, _config())
    assert "error TS2304: Cannot find name 'oops'" in console  # the build's own words


@needs_node
async def test_a_rebuilt_version_refused_by_the_strict_check_is_reported_in_the_source(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    config = CONFIG.replace("BUILD", fake_build("src/tag.ts", "dist/tag.js").replace('"', '\\"'))
    edge = await start_edge(config, files={"src/tag.ts": _source("1")})
    async with watching(edge):
        # Line 5 of the source brings a class: the build passes, the strict check refuses it.
        (tmp_path / "src/tag.ts").write_text(_source("2") + "class Tagger {}\n")
        deadline = time.monotonic() + 15
        while edge.server.proxy.state.functions.slots["tag"].last_error is None:
            assert time.monotonic() < deadline, "the rebuilt version was never loaded"
            await asyncio.sleep(0.1)
        assert await version(edge) == "1"  # the last good version keeps serving
        built = tmp_path / "dist/tag.js"
        where = f"src/tag.ts:5:1 [{built}:7:1]: error [class]"
        lines = "\n".join(edge.server.stream.lines)  # type: ignore[attr-defined]
        assert where in lines
        assert "build hint: an ES2015 construct" in lines
        async with edge.session.get(edge.admin + "/status") as response:
            [function] = (await response.json())["functions"]
        assert where in function["last_error"]


@needs_node
async def test_the_inspector_gives_a_runtime_error_in_the_source(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    config = CONFIG.replace("BUILD", fake_build("src/tag.ts", "dist/tag.js").replace('"', '\\"'))
    throws = "function handler(event) {\n  var missing = null;\n  return missing.field;\n}\n"
    edge = await start_edge(config, files={"src/tag.ts": throws})
    status, _, _ = await edge.get("/")
    assert status == 503
    async with edge.session.get(edge.admin + "/inspector/api/flows") as response:
        newest = (await response.json())["flows"][0]
    async with edge.session.get(edge.admin + f"/inspector/api/flows/{newest['id']}") as response:
        detail = await response.json()
    built = tmp_path / "dist/tag.js"
    [run] = detail["function_runs"]
    assert run["error_position"].startswith("src/tag.ts:3:"), run["error_position"]
    assert f"[{built}:" in run["error_position"]
    assert detail["error"]["position"] == run["error_position"]
    async with edge.session.get(edge.admin + "/inspector/api/functions") as response:
        [function] = (await response.json())["functions"]
    assert function["build"]["ok"] is True
    assert function["build"]["functions"] == ["tag"]
