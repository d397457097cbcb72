"""Functions stage with real functions (QuickJS, no sockets): what CloudFront answers for a
generated response, a thrown error and an invalid result, how a changed request replaces the
flow's, origin helpers, and the viewer-response function's place on a response."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.distribution.model import Distribution
from edgesim.edge.cache import CachedObject, HttpCache
from edgesim.edge.delivery import pump
from edgesim.edge.flow import (
    NOT_LOADED,
    CachedBody,
    EdgeResponse,
    Flow,
    GeneratedBody,
    OriginBody,
    XCache,
    generated,
)
from edgesim.edge.functions import FunctionRegistry
from edgesim.edge.message import EdgeRequest
from edgesim.edge.stages import functions as stage
from edgesim.edge.stages import viewer
from edgesim.edge.stages.origin import route_for
from edgesim.edge.ttl import TtlDecision
from edgesim.runtime.function import BudgetPolicy
from tests.unit.edge.stages.conftest import FakeOriginResponse, make_dist, make_flow, make_request

NOW_MS = 1_700_000_000_000.0
REQUEST_ID = "REQ-ID-3"

FILES = {
    "generate.js": """
        function handler(event) {
          return {
            statusCode: 302,
            statusDescription: 'Found',
            headers: { location: { value: 'https://example.com/moved' } },
            body: 'moved',
          };
        }
    """,
    "throw.js": "function handler(event) { throw new Error('kaboom-7'); }\n",
    "invalid.js": "function handler(event) { return 42; }\n",
    "change.js": """
        function handler(event) {
          event.request.headers['x-added'] = { value: 'yes' };
          return event.request;
        }
    """,
    "route.js": """
        import cf from 'cloudfront';
        function handler(event) {
          var uri = event.request.uri;
          if (uri === '/route/nope') { cf.selectRequestOriginById('nope'); }
          if (uri === '/route/backup') { cf.selectRequestOriginById('backup'); }
          return event.request;
        }
    """,
    "broken.js": "function handler(event) { return event.request;\n",
    "log.js": """
        function handler(event) {
          var n = 0;
          for (var i = 0; i < 200; i++) { n += i; }
          console.log('seen ' + event.request.uri);
          return event.request;
        }
    """,
    "replace_body.js": """
        function handler(event) {
          var response = event.response;
          response.headers['x-fn'] = { value: 'ran' };
          response.body = { encoding: 'text', data: 'replaced' };
          return response;
        }
    """,
    "add_header.js": """
        function handler(event) {
          event.response.headers['x-fn'] = { value: 'ran' };
          return event.response;
        }
    """,
    "response_throw.js": "function handler(event) { throw new Error('late-9'); }\n",
}

NAMES = [name.removesuffix(".js") for name in FILES]

TOML = (
    """
[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[[origins]]
id = "backup"
url = "http://127.0.0.1:3001"
"""
    + "".join(f'[[functions]]\nname = "{n}"\nfile = "{n}.js"\n' for n in NAMES)
    + "".join(
        f'[[behaviors]]\npath = "/{n}*"\norigin = "app"\nviewer_request = "{n}"\n'
        for n in ("generate", "throw", "invalid", "change", "route", "broken", "log")
    )
    + "".join(
        f'[[behaviors]]\npath = "/{n}*"\norigin = "app"\nviewer_response = "{n}"\n'
        for n in ("replace_body", "add_header", "response_throw")
    )
    + """
[default_behavior]
origin = "app"
"""
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Distribution:
    return make_dist(tmp_path_factory.mktemp("functions"), TOML, FILES)


@pytest.fixture(scope="module")
def functions(dist: Distribution) -> FunctionRegistry:
    # Deterministic compute accounting: utilization is counted work, not this machine's speed.
    registry = FunctionRegistry(dist.functions, kvs=None, budget=BudgetPolicy(deterministic=True))
    errors = registry.load_all()
    assert [e.split(":")[0] for e in errors] == ["function broken"], errors
    return registry


def admitted(dist: Distribution, req: EdgeRequest) -> Flow:
    flow = make_flow(dist, req, request_id=REQUEST_ID)
    assert viewer.admit(flow) is None
    return flow


def viewer_request(
    dist: Distribution, functions: FunctionRegistry, path: str, **kw: object
) -> tuple[Flow, EdgeResponse | None]:
    flow = admitted(dist, make_request(path=path, **kw))  # type: ignore[arg-type]
    return flow, stage.run_viewer_request(flow, functions, NOW_MS)


def body_of(response: EdgeResponse) -> bytes:
    assert isinstance(response.source, GeneratedBody)
    return response.source.data


def assert_cloudfront_error_page(response: EdgeResponse, detail: str) -> None:
    """CloudFront's HTML error page, generic; the detail (which function, what error) is kept
    for the console, the request log and the debug header, never put in the page."""
    page = body_of(response)
    assert b"The request could not be satisfied." in page
    assert f"Request ID: {REQUEST_ID}".encode() in page
    assert ("content-type", "text/html") in response.headers
    assert response.made_by_edge
    assert response.detail is not None
    assert detail in response.detail
    assert detail.encode() not in page


# -- viewer request ------------------------------------------------------------------------------


def test_generated_response_ends_the_request(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow, response = viewer_request(dist, functions, "/generate")
    assert response is not None
    assert (response.status, response.reason) == (302, "Found")
    assert response.x_cache == XCache.FUNCTION_GENERATED
    assert ("location", "https://example.com/moved") in response.headers
    assert body_of(response) == b"moved"
    assert response.made_by_edge  # so it carries Server: CloudFront
    assert [(r.name, r.event_type, r.error_kind) for r in flow.function_runs] == [
        ("generate", "viewer-request", None)
    ]


def test_thrown_error_is_503_function_execution_error_naming_it(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow, response = viewer_request(dist, functions, "/throw")
    assert response is not None
    assert (response.status, response.x_cache) == (503, XCache.FUNCTION_EXECUTION_ERROR)
    assert_cloudfront_error_page(response, "kaboom-7")
    run = flow.function_runs[0]
    assert run.error_kind == "execution"
    assert run.error is not None
    assert "kaboom-7" in run.error


def test_invalid_result_is_502_function_validation_error(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow, response = viewer_request(dist, functions, "/invalid")
    assert response is not None
    assert (response.status, response.x_cache) == (502, XCache.FUNCTION_VALIDATION_ERROR)
    assert_cloudfront_error_page(response, "number")  # what it returned instead
    assert flow.function_runs[0].error_kind == "validation"


def test_changed_request_replaces_the_flows_request_and_event(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    query = "b=%20x&a&b=2&c=%2F%2f"
    flow, response = viewer_request(
        dist, functions, "/change", query=query, headers=[("host", "example.com")]
    )
    assert response is None
    assert flow.request.headers == [("host", "example.com"), ("x-added", "yes")]
    assert flow.request.query == query  # the function left it alone: byte for byte
    assert (flow.request.pop, flow.request.client_ip) == ("IAD", "203.0.113.7")
    assert flow.event is not None
    assert flow.event["request"]["headers"]["x-added"] == {"value": "yes"}


def test_no_event_is_built_when_no_function_sees_the_request(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow, response = viewer_request(dist, functions, "/plain")
    assert response is None
    assert flow.function_runs == []
    assert flow.event is None


def test_viewer_request_event_is_kept_for_a_viewer_response_function(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow, response = viewer_request(dist, functions, "/add_header/x")
    assert response is None
    assert flow.function_runs == []
    assert flow.event is not None
    assert flow.event["request"]["uri"] == "/add_header/x"
    assert flow.event["context"]["requestId"] == REQUEST_ID


def test_select_origin_by_id_switches_the_flows_origin(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow, response = viewer_request(dist, functions, "/route/backup")
    assert response is None
    assert route_for(dist, flow.origin).members == (dist.origins["backup"],)


def test_selecting_an_unknown_origin_is_502_naming_it(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow, response = viewer_request(dist, functions, "/route/nope")
    assert response is not None
    assert (response.status, response.x_cache) == (502, XCache.FUNCTION_VALIDATION_ERROR)
    assert_cloudfront_error_page(response, "'nope'")
    assert "app, backup" in (response.detail or "")  # what is configured
    assert b"invalid value for origin rewrite" in body_of(response)
    assert flow.origin == "app"
    assert flow.function_runs[0].error_kind == "validation"


def test_function_that_failed_to_load_answers_503_execution_error(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow, response = viewer_request(dist, functions, "/broken", query="x=1")
    assert response is not None
    assert (response.status, response.x_cache) == (503, XCache.FUNCTION_EXECUTION_ERROR)
    assert_cloudfront_error_page(response, "broken.js")  # where the load error is
    (run,) = flow.function_runs
    assert (run.name, run.error_kind) == ("broken", NOT_LOADED)
    assert run.error is not None
    assert "syntax" in run.error
    assert (flow.request.path, flow.request.query) == ("/broken", "x=1")  # nothing ran


def test_function_run_records_utilization_and_logs(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow, response = viewer_request(dist, functions, "/log")
    assert response is None
    (run,) = flow.function_runs
    assert run.logs == ["seen /log"]
    assert run.utilization > 0
    assert run.error_kind is None
    assert [t.stage for t in flow.trace] == ["function"]


# -- viewer response: when it runs ---------------------------------------------------------------


def origin_response(status: int = 200, **kw: object) -> EdgeResponse:
    fake = FakeOriginResponse(status, [b"origin body"])
    x_cache = XCache.MISS if status < 400 else XCache.ERROR
    return EdgeResponse(status, [("content-length", "11")], x_cache, OriginBody(fake), **kw)  # type: ignore[arg-type]


def response_flow(dist: Distribution, functions: FunctionRegistry, path: str) -> Flow:
    flow, response = viewer_request(dist, functions, path)
    assert response is None
    return flow


@pytest.mark.parametrize("status", [200, 301, 304, 399])
def test_viewer_response_runs_below_400(
    dist: Distribution, functions: FunctionRegistry, status: int
) -> None:
    flow = response_flow(dist, functions, "/add_header")
    assert stage.viewer_response_applies(flow, origin_response(status))


@pytest.mark.parametrize("status", [400, 403, 404, 500, 503])
def test_viewer_response_skipped_for_400_and_above(
    dist: Distribution, functions: FunctionRegistry, status: int
) -> None:
    flow = response_flow(dist, functions, "/add_header")
    assert not stage.viewer_response_applies(flow, origin_response(status))


def test_viewer_response_skipped_for_generated_responses(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow = response_flow(dist, functions, "/add_header")
    assert not stage.viewer_response_applies(flow, generated(301, "", XCache.REDIRECT))
    by_function = EdgeResponse(200, [], XCache.FUNCTION_GENERATED, GeneratedBody(b"x"))
    assert not stage.viewer_response_applies(flow, by_function)


def test_viewer_response_skipped_for_custom_error_pages(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow = response_flow(dist, functions, "/add_header")
    page = origin_response(200, viewer_response_allowed=False)
    assert not stage.viewer_response_applies(flow, page)


def test_viewer_response_needs_a_function_on_the_behaviour(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow = response_flow(dist, functions, "/plain")
    assert not stage.viewer_response_applies(flow, origin_response(200))


# -- viewer response: what it does ---------------------------------------------------------------


def cached_object() -> CachedObject:
    return CachedObject(
        status=200,
        headers=[("content-type", "text/plain"), ("content-length", "6"), ("age", "3")],
        stored_at=0.0,
        ttl=60.0,
        stale_while_revalidate=0.0,
        stale_if_error=0.0,
        size=6,
        path="/replace_body",
        body=b"cached",
    )


def test_replaced_body_of_a_cached_response(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow = response_flow(dist, functions, "/replace_body")
    obj = cached_object()
    response = EdgeResponse(200, list(obj.headers), XCache.HIT, CachedBody(obj))
    out = stage.run_viewer_response(flow, functions, response, NOW_MS)
    assert isinstance(out.source, GeneratedBody)
    assert out.source.data == b"replaced"
    assert not out.source.made_by_edge  # the function's, on a cached response: no Server header
    assert not out.made_by_edge
    assert out.x_cache == XCache.HIT
    assert "content-length" not in [n for n, _ in out.headers]  # the old length is wrong now
    assert ("x-fn", "ran") in out.headers
    assert ("content-type", "text/plain") in out.headers
    assert obj.body == b"cached"  # the stored copy is untouched
    assert [(r.name, r.event_type) for r in flow.function_runs] == [
        ("replace_body", "viewer-response")
    ]


def test_header_change_keeps_the_body_and_its_length(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow = response_flow(dist, functions, "/add_header")
    response = origin_response(200)
    source = response.source
    out = stage.run_viewer_response(flow, functions, response, NOW_MS)
    assert out.source is source
    assert ("x-fn", "ran") in out.headers
    assert out.headers.count(("content-length", "11")) == 1


async def test_replaced_body_of_a_miss_still_fills_the_cache(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow = response_flow(dist, functions, "/replace_body")
    cache = HttpCache()
    writer = cache.begin(
        "k", status=200, headers=[], decision=TtlDecision(True, 60, reason="t"), path="/"
    )
    fake = FakeOriginResponse(200, [b"origin ", b"body"])
    body = OriginBody(fake, writer)  # type: ignore[arg-type]
    response = EdgeResponse(200, [("content-length", "11")], XCache.MISS, body)
    out = stage.run_viewer_response(flow, functions, response, NOW_MS)
    assert isinstance(out.source, GeneratedBody)
    assert out.source.data == b"replaced"
    assert out.source.fill is body
    assert fake.released == 0
    assert body.writer is writer
    await pump(out.source.fill, None)
    stored = cache.lookup("k")
    assert stored is not None
    assert stored.body == b"origin body"


def test_replaced_body_of_an_uncached_miss_releases_the_origin(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow = response_flow(dist, functions, "/replace_body")
    response = origin_response(200)
    assert isinstance(response.source, OriginBody)
    fake = response.source.response
    out = stage.run_viewer_response(flow, functions, response, NOW_MS)
    assert isinstance(out.source, GeneratedBody)
    assert out.source.fill is None
    assert fake.released == 1  # type: ignore[attr-defined]


def test_replaced_body_drops_a_content_encoding_the_function_left(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow = response_flow(dist, functions, "/replace_body")
    response = origin_response(200)
    response.headers = [("content-encoding", "gzip"), ("content-type", "text/html")]
    out = stage.run_viewer_response(flow, functions, response, NOW_MS)
    assert "content-encoding" not in [n for n, _ in out.headers]


def test_viewer_response_error_is_503_and_releases_the_origin(
    dist: Distribution, functions: FunctionRegistry
) -> None:
    flow = response_flow(dist, functions, "/response_throw")
    response = origin_response(200)
    assert isinstance(response.source, OriginBody)
    fake = response.source.response
    out = stage.run_viewer_response(flow, functions, response, NOW_MS)
    assert (out.status, out.x_cache) == (503, XCache.FUNCTION_EXECUTION_ERROR)
    assert_cloudfront_error_page(out, "late-9")
    assert fake.released == 1  # type: ignore[attr-defined]
    assert flow.function_runs[-1].error_kind == "execution"


def test_function_that_failed_to_load_at_viewer_response_answers_503(tmp_path: Path) -> None:
    text = """
        [[origins]]
        id = "app"
        url = "http://127.0.0.1:3000"

        [[functions]]
        name = "late"
        file = "late.js"

        [default_behavior]
        origin = "app"
        viewer_response = "late"
    """
    dist = make_dist(tmp_path, text, {"late.js": "function handler(event) {\n"})
    registry = FunctionRegistry(dist.functions, kvs=None)
    assert registry.load_all()
    flow = admitted(dist, make_request())
    assert stage.run_viewer_request(flow, registry, NOW_MS) is None
    response = origin_response(200)
    assert isinstance(response.source, OriginBody)
    fake = response.source.response
    out = stage.run_viewer_response(flow, registry, response, NOW_MS)
    assert (out.status, out.x_cache) == (503, XCache.FUNCTION_EXECUTION_ERROR)
    assert fake.released == 1  # type: ignore[attr-defined]
    assert [(r.name, r.error_kind) for r in flow.function_runs] == [("late", NOT_LOADED)]
