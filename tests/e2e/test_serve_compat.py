"""serve refuses what `edgesim test` refuses: a function that breaks a strict compatibility rule
or does not compile stops serve at start-up, and a reload to such a version is refused while the
last good version keeps serving."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from edgesim.app import EdgeServer
from edgesim.distribution.config import load_config
from edgesim.errors import FunctionLoadError
from tests.e2e.conftest import PASS_JS, WITH_FUNCTION, StartEdge

OPTIONAL_CHAINING = (
    "function handler(event) {\n"
    "  var visitor = event.request.cookies?.visitor;\n"
    "  return event.request;\n"
    "}\n"
)


async def test_start_up_refuses_a_function_that_breaks_a_strict_rule(tmp_path: Path) -> None:
    (tmp_path / "pass.js").write_text(OPTIONAL_CHAINING)
    config = tmp_path / "edgesim.toml"
    config.write_text(
        "[server]\nport = 0\nadmin_port = 0\nhttps_port = 0\nephemeral = true\n"
        + WITH_FUNCTION.replace("{origin}", "http://127.0.0.1:9")
    )
    stream = io.StringIO()
    server = EdgeServer(load_config(config), stream=stream)
    try:
        with pytest.raises(FunctionLoadError) as caught:
            await server.start()
    finally:
        await server.stop()
    message = str(caught.value)
    assert "pass.js:2:" in message  # file:line:col of the user's source
    assert "optional" in message.lower()
    assert "ERROR" in stream.getvalue()


async def test_reload_to_a_strict_breaking_version_keeps_the_last_good_one(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    assert (await edge.get("/x"))[0] == 200
    (tmp_path / "pass.js").write_text(OPTIONAL_CHAINING)
    assert edge.server.reload_function_file(tmp_path / "pass.js")
    assert (await edge.get("/x"))[0] == 200  # still the good version
    console = "\n".join(edge.server.stream.lines)  # type: ignore[attr-defined]
    refused = console[console.index("edgesim: ERROR function pass") :]
    assert "pass.js:2:" in refused
    assert "still serving the last good version" in refused
    status = edge.server.status()["functions"][0]
    assert status["versions"] == 1
    assert "pass.js:2:" in status["last_error"]


async def test_a_config_reload_with_a_broken_function_is_refused(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    (tmp_path / "other.js").write_text("function handler(event) { return event.request;")
    text = edge.config.read_text().replace('file = "pass.js"', 'file = "other.js"')
    edge.config.write_text(text)
    edge.server.reload_config(load_config(edge.config))
    assert edge.server.dist.functions["pass"].file.name == "pass.js"
    assert (await edge.get("/x"))[0] == 200
    lines = edge.server.stream.lines  # type: ignore[attr-defined]
    assert any("config not reloaded" in line for line in lines)


LENIENT = WITH_FUNCTION.replace('file = "pass.js"', 'file = "pass.js"\ncompat = "lenient"')


async def test_lenient_function_serves_and_warns_once_per_loaded_version(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    edge = await start_edge(LENIENT, files={"pass.js": OPTIONAL_CHAINING})
    for _ in range(3):
        assert (await edge.get("/x"))[0] == 200
    lines = edge.server.stream.lines  # type: ignore[attr-defined]
    warnings = [line for line in lines if "warning (lenient compatibility)" in line]
    assert len(warnings) == 1
    assert "pass.js:2:" in warnings[0]
    (tmp_path / "pass.js").write_text(OPTIONAL_CHAINING + "\n")
    assert edge.server.reload_function_file(tmp_path / "pass.js")
    await edge.get("/x")
    await edge.get("/x")
    warnings = [line for line in lines if "warning (lenient compatibility)" in line]
    assert len(warnings) == 2  # once more for the reloaded version


async def test_lenient_function_the_engine_cannot_run_answers_503(start_edge: StartEdge) -> None:
    edge = await start_edge(LENIENT, files={"pass.js": "function handler(event) {"})
    status, headers, body = await edge.get("/x")
    assert status == 503
    assert headers["X-Cache"] == "FunctionExecutionError from cloudfront"
    assert b"invalid or could not run" in body
    assert "ERROR function pass" in "\n".join(edge.server.stream.lines)  # type: ignore[attr-defined]


async def test_an_empty_or_handlerless_save_keeps_the_last_good_version(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    for half_saved in ("", "var config = {\n"):
        (tmp_path / "pass.js").write_text(half_saved)
        assert edge.server.reload_function_file(tmp_path / "pass.js")
        assert (await edge.get("/x"))[0] == 200  # still the good version
    console = "\n".join(edge.server.stream.lines)  # type: ignore[attr-defined]
    assert "defines no handler function" in console
    assert edge.server.status()["functions"][0]["versions"] == 1
