"""Viewer functions under serve, from outside: what they may return (headers CloudFront hides from
them, line breaks in values) and the time they see."""

from __future__ import annotations

from tests.e2e.conftest import PASS_JS, WITH_FUNCTION, StartEdge


async def test_pass_through_function_with_hidden_headers_is_not_a_validation_error(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": PASS_JS})
    status, _, _ = await edge.get(
        "/x", **{"Connection": "keep-alive", "X-Forwarded-Proto": "https", "X-Real-IP": "1.2.3.4"}
    )
    assert status == 200


async def test_line_break_in_a_function_header_is_a_validation_error(
    start_edge: StartEdge,
) -> None:
    js = (
        "function handler(event) { event.request.headers['x-a'] = {value: 'a\\r\\nx-b: 1'};"
        " return event.request; }"
    )
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": js})
    status, headers, body = await edge.get("/x")
    assert status == 502
    assert headers["X-Cache"] == "FunctionValidationError from cloudfront"
    assert b"<H1>502 ERROR</H1>" in body
    assert any("line break" in line for line in edge.server.stream.lines)  # type: ignore[attr-defined]
    assert edge.server.cache.stats().get("writers", 0) == 0


async def test_functions_see_the_current_time(start_edge: StartEdge) -> None:
    import time

    js = (
        "function handler(event) {"
        " return {statusCode: 200, headers: {'x-now': {value: String(Date.now())}}}; }"
    )
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": js})
    _, headers, _ = await edge.get("/x")
    assert abs(int(headers["X-Now"]) - time.time() * 1000) < 60_000


HOST_JS = """
function handler(event) {
  return { statusCode: 200, headers: { 'x-host': { value: event.request.headers.host.value } } };
}
"""


async def test_functions_see_the_host_lower_cased_without_a_port(start_edge: StartEdge) -> None:
    edge = await start_edge(WITH_FUNCTION, files={"pass.js": HOST_JS})
    _, headers, _ = await edge.get("/", Host="WWW.Example.COM:8080")
    assert headers["X-Host"] == "www.example.com"
    _, headers, _ = await edge.get("/", Host="[::1]:8080")
    assert headers["X-Host"] == "[::1]"


async def test_debug_header_carries_the_error_detail_only_when_enabled(
    start_edge: StartEdge,
) -> None:
    throw = "function handler(event) { throw new Error('kaboom ' + '\u00e9'); }"
    edge = await start_edge("debug_headers = true\n" + WITH_FUNCTION, files={"pass.js": throw})
    status, headers, body = await edge.get("/x")
    assert status == 503
    assert "kaboom" in headers["X-Edgesim-Error"]
    assert "function pass" in headers["X-Edgesim-Error"]
    assert b"kaboom" not in body
    quiet = await start_edge(WITH_FUNCTION, files={"pass.js": throw})
    _, headers, _ = await quiet.get("/x")
    assert "X-Edgesim-Error" not in headers


NESTED_JS = """function country(headers) {
  return headers['cloudfront-viewer-country'].value;
}
function handler(event) {
  var c = country(event.request.headers);
  return event.request;
}
"""


async def test_function_errors_name_the_line_and_the_stack(start_edge: StartEdge) -> None:
    edge = await start_edge("debug_headers = true\n" + WITH_FUNCTION, files={"pass.js": NESTED_JS})
    status, headers, _ = await edge.get("/x")
    assert status == 503
    assert "pass.js:2:" in headers["X-Edgesim-Error"]
    console = "\n".join(edge.server.stream.lines)  # type: ignore[attr-defined]
    assert "execution error at " in console
    assert "pass.js:2:" in console
    assert "at country (" in console
    assert "at handler (" in console
    assert "prelude" not in console
    assert "<input>" not in console
