"""A function that keeps running over its compute budget is throttled: 503
FunctionThrottledError without running, counted in FunctionThrottles, until the throttle ends or
the function is reloaded. Deterministic under the virtual clock (default [throttling]: 10 runs in
10 s, half over budget, 30 s throttle)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import PASS_JS, WITH_FUNCTION, StartEdge

LOOP_JS = "function handler(event) { while (true) {} }"


async def test_runaway_function_is_throttled_then_recovers(start_edge: StartEdge) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": LOOP_JS})
    results = [(await edge.get("/x"))[1]["X-Cache"] for _ in range(12)]
    assert results[:10] == ["FunctionExecutionError from cloudfront"] * 10
    assert results[10:] == ["FunctionThrottledError from cloudfront"] * 2
    status, _, body = await edge.get("/x")
    assert status == 503
    assert b"<H1>503 ERROR</H1>" in body
    metrics = await (await edge.session.get(edge.admin + "/metrics")).text()
    assert 'edgesim_function_throttles{function="pass"} 3' in metrics
    assert 'edgesim_function_invocations{function="pass"} 10' in metrics
    edge.clock.advance(30)
    assert (await edge.get("/x"))[1]["X-Cache"] == "FunctionExecutionError from cloudfront"


async def test_reloading_a_throttled_function_resets_its_throttle(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": LOOP_JS})
    for _ in range(10):
        await edge.get("/x")
    assert (await edge.get("/x"))[1]["X-Cache"] == "FunctionThrottledError from cloudfront"
    (tmp_path / "pass.js").write_text(PASS_JS)
    assert edge.server.reload_function_file(tmp_path / "pass.js")
    assert (await edge.get("/x"))[0] == 200
