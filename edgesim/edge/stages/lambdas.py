"""Lambda@Edge stage: run a behaviour's lambda at one of the four events and apply its result.

When each runs (Developer Guide, "CloudFront events that can trigger a Lambda@Edge function"):
viewer request before the cache (not for custom error pages nor HTTP→HTTPS redirects); origin
request only when CloudFront forwards a request to the origin (a cache miss; again for the
secondary origin of a group, "Use origin failover with Lambda@Edge functions"); origin response
after the origin answered — errors included — and before caching, never for a response an
origin-request lambda generated; viewer response before the viewer gets the response, hits
included, but not for origin status ≥ 400, custom error pages, responses generated at viewer
request or redirects.

CloudFront's answers ("HTTP 502 status code (Lambda validation error)", "HTTP 503 status code
(Lambda execution error)", "… (Lambda limit exceeded)"): 502 ``LambdaValidationError`` for a
result that breaks a rule, 503 ``LambdaExecutionError`` for an exception, crash, timeout or a
module that does not load, 503 ``LambdaLimitExceeded`` when Lambda throttles; each with
``X-Cache: <error> from cloudfront`` and CloudFront's HTML page. A response generated at a
request event carries ``X-Cache: LambdaGeneratedResponse from cloudfront``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from edgesim.distribution.model import LambdaAssociation, Origin
from edgesim.edge import error_pages, lambda_codec
from edgesim.edge.flow import (
    EdgeResponse,
    Flow,
    FunctionRun,
    GeneratedBody,
    XCache,
    json_text,
    keep_filling,
    replace_body,
)
from edgesim.edge.lambdas import LambdaRegistry
from edgesim.edge.message import Headers
from edgesim.edge.origin import OriginRequest
from edgesim.edge.stages.origin import OriginRequestHook
from edgesim.lambda_edge import events, limits
from edgesim.lambda_edge.function import (
    EXECUTION_ERROR,
    LIMIT_EXCEEDED,
    VALIDATION_ERROR,
    LambdaOutcome,
)

DISTRIBUTION_ID = events.DEFAULT_DISTRIBUTION_ID

_ANSWERS = {
    VALIDATION_ERROR: (502, XCache.LAMBDA_VALIDATION_ERROR, error_pages.LAMBDA_VALIDATION_ERROR),
    EXECUTION_ERROR: (503, XCache.LAMBDA_EXECUTION_ERROR, error_pages.LAMBDA_EXECUTION_ERROR),
    LIMIT_EXCEEDED: (503, XCache.LAMBDA_LIMIT_EXCEEDED, error_pages.LAMBDA_LIMIT_EXCEEDED),
}


class LambdaAnswered(Exception):
    """An origin-request lambda answered instead of the origin: with CloudFront's error page
    (``response.x_cache`` an error) or a generated response (which the caller caches)."""

    def __init__(self, response: EdgeResponse) -> None:
        super().__init__(response.detail or str(response.x_cache))
        self.response = response


async def _invoke(
    flow: Flow,
    lambdas: LambdaRegistry,
    association: LambdaAssociation,
    request: dict[str, Any],
    response: dict[str, Any] | None = None,
) -> LambdaOutcome:
    event_type = association.event_type
    run = FunctionRun(association.name, event_type, lambda_edge=True)
    flow.function_runs.append(run)
    config = {
        "distributionDomainName": flow.dist.server.domain_name,
        "distributionId": DISTRIBUTION_ID,
        "eventType": event_type,
        "requestId": flow.request_id,
    }
    fn = lambdas.function(association.name, flow.request.pop)
    outcome = await fn.invoke(
        event_type, request, response, config=config, now=_now_s(lambdas),
    )  # fmt: skip
    run.logs = list(outcome.logs)
    run.warnings = list(outcome.warnings)
    run.duration_ms = outcome.duration_ms
    run.received = json_text(response if response is not None else request)
    run.returned = json_text(outcome.result) if isinstance(outcome.result, dict) else None
    failure = outcome.failure
    if failure is not None:
        run.error_kind = "validation" if failure.error_type == VALIDATION_ERROR else "execution"
        run.error = f"{failure.error_type} ({failure.rule}): {failure.message}"
        run.error_position, run.error_stack = failure.position, failure.stack
    flow.mark("lambda", name=association.name, event_type=event_type, error=run.error_kind)
    return outcome


def _now_s(lambdas: LambdaRegistry) -> float | None:
    """The edge clock, epoch seconds, for the worker's ``Date`` (None: the real time)."""
    clock = lambdas.clock_ms
    return clock() / 1000 if clock is not None else None


def failed(flow: Flow, outcome: LambdaOutcome) -> EdgeResponse:
    """CloudFront's answer to a lambda that failed, with its HTML page; the detail (lambda,
    event, rule, position) goes to the console, logs and the opt-in debug header."""
    failure = outcome.failure
    assert failure is not None
    status, x_cache, line = _ANSWERS[failure.error_type]
    where = f" at {failure.position}" if failure.position else ""
    detail = (
        f"lambda {outcome.lambda_name} ({outcome.event_type}): {failure.error_type} "
        f"({failure.rule}){where}: {failure.message}"
    )
    body = error_pages.error_page(status, line, flow.request_id)
    headers: Headers = [("content-type", error_pages.CONTENT_TYPE)]
    return EdgeResponse(status, headers, x_cache, GeneratedBody(body), detail=detail)


def generated(result: dict[str, Any]) -> EdgeResponse:
    """A response a request lambda generated."""
    status = int(result["status"])
    headers = lambda_codec.plain_headers(result.get("headers", {}))
    body = lambda_codec.response_body(result) or b""
    reason = result.get("statusDescription") or None
    return EdgeResponse(
        status, headers, XCache.LAMBDA_GENERATED, GeneratedBody(body, made_by_edge=False),
        reason=reason,
    )  # fmt: skip


# -- viewer request ------------------------------------------------------------------------------
async def run_viewer_request(
    flow: Flow, lambdas: LambdaRegistry, association: LambdaAssociation, body: bytes | None
) -> EdgeResponse | None:
    """Run the viewer-request lambda; a response ends the request. A replaced body is kept on
    the flow for the origin (``flow.request_body``)."""
    event_request = lambda_codec.viewer_request(
        flow.request, body, include_body=association.include_body
    )
    outcome = await _invoke(flow, lambdas, association, event_request)
    if outcome.failure is not None:
        return failed(flow, outcome)
    if outcome.response is not None:
        return generated(outcome.response)
    assert outcome.request is not None
    flow.request = lambda_codec.apply_request(flow.request, outcome.request)
    replaced = lambda_codec.replaced_body(outcome.request)
    if replaced is not None:
        flow.request_body = replaced
    return None


# -- origin request ------------------------------------------------------------------------------
async def run_origin_request(
    flow: Flow,
    lambdas: LambdaRegistry,
    association: LambdaAssociation,
    outgoing: OriginRequest,
    origin: Origin,
    body: bytes | None,
) -> tuple[OriginRequest, Origin]:
    """Run the origin-request lambda on the request CloudFront is about to send ``origin``;
    returns what to send where, or raises :class:`LambdaAnswered`."""
    region = lambdas.region_for(flow.request.pop)
    event_request = lambda_codec.origin_request(
        outgoing, origin, client_ip=flow.request.client_ip, region=region
    )
    if association.include_body:
        event_request["body"] = events.request_body(body or b"", limits.ORIGIN_REQUEST)
    outcome = await _invoke(flow, lambdas, association, event_request)
    if outcome.failure is not None:
        raise LambdaAnswered(failed(flow, outcome))
    if outcome.response is not None:
        raise LambdaAnswered(generated(outcome.response))
    result = outcome.request
    assert result is not None
    new_origin = origin
    if result.get("origin") != event_request["origin"]:  # rebuilt only when the lambda changed it
        new_origin = lambda_codec.origin_from(origin, result["origin"])
    headers = lambda_codec.wire_headers(result["headers"])
    headers.append(("X-Amz-Cf-Id", flow.request_id))
    for custom in new_origin.custom_headers:
        headers = [(n, v) for n, v in headers if n.lower() != custom.name.lower()]
        headers.append((custom.name, custom.value))
    query = result.get("querystring", "")
    replaced = lambda_codec.replaced_body(result)
    sent_body = replaced if replaced is not None else (body if body is not None else outgoing.body)
    if replaced is not None:
        headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
    request = OriginRequest(
        outgoing.method,
        result["uri"],
        query if query or outgoing.query is not None else None,
        headers,
        sent_body,
    )
    return request, new_origin


def origin_hook(
    flow: Flow,
    lambdas: LambdaRegistry,
    association: LambdaAssociation | None,
    *,
    keep_event: bool = True,
) -> OriginRequestHook:
    """The hook the origin stage calls before each request it sends: runs the origin-request
    lambda (when there is one) and keeps the request, in the event's shape, for an
    origin-response lambda."""

    async def hook(outgoing: OriginRequest, origin: Origin) -> tuple[OriginRequest, Origin]:
        if association is not None:
            body = None
            if association.include_body and outgoing.body is not None:
                body = await _drained(outgoing.body)
                outgoing.body = body
            outgoing, origin = await run_origin_request(
                flow, lambdas, association, outgoing, origin, body
            )
        if keep_event:  # only an origin-response lambda reads it
            flow.origin_event_request = lambda_codec.origin_request(
                outgoing, origin, client_ip=flow.request.client_ip,
                region=lambdas.region_for(flow.request.pop),
            )  # fmt: skip
        return outgoing, origin

    return hook


async def _drained(body: AsyncIterator[bytes] | bytes) -> bytes:
    if isinstance(body, bytes):
        return body
    return b"".join([chunk async for chunk in body])


def viewer_event_request(flow: Flow) -> dict[str, Any]:
    """The request a viewer-response event carries: the viewer's, as viewer request left it."""
    return lambda_codec.viewer_request(flow.request, None, include_body=False)


# -- origin response -----------------------------------------------------------------------------
async def run_origin_response(
    flow: Flow,
    lambdas: LambdaRegistry,
    association: LambdaAssociation,
    request: dict[str, Any],
    status: int,
    reason: str | None,
    headers: Headers,
) -> tuple[int, str | None, Headers, bytes | None] | EdgeResponse:
    """Run the origin-response lambda on the origin's status and headers (it cannot read the
    body); returns the response to go on with — a replacement body when it set one — or
    CloudFront's error answer."""
    outcome = await _invoke_on_response(
        flow, lambdas, association, request, status, reason, headers
    )
    if outcome.failure is not None:
        return failed(flow, outcome)
    result = outcome.response
    assert result is not None
    new_headers, body = _response_result(result, headers)
    new_reason = result.get("statusDescription") or reason
    return int(result["status"]), new_reason, new_headers, body


# Not shown to functions and kept as the origin sent them (framing of the body they cannot see).
_UNSEEN_RESPONSE_HEADERS = frozenset({"transfer-encoding", "content-length"})
_BODY_FRAMING = frozenset({"transfer-encoding", "content-length", "content-encoding"})


async def _invoke_on_response(
    flow: Flow,
    lambdas: LambdaRegistry,
    association: LambdaAssociation,
    request: dict[str, Any],
    status: int,
    reason: str | None,
    headers: Headers,
) -> LambdaOutcome:
    """Run a response-event lambda on a response as functions see it (without its framing)."""
    visible = [(n, v) for n, v in headers if n not in _UNSEEN_RESPONSE_HEADERS]
    event_response = lambda_codec.response_event(status, reason, visible)
    return await _invoke(flow, lambdas, association, request, event_response)


def _response_result(result: dict[str, Any], headers: Headers) -> tuple[Headers, bytes | None]:
    """The headers and replacement body (None: the body stays) a response-event lambda left.
    The body's framing is the body's own: the original's, or a replacement's (set on the way
    out), never a value the function wrote (two Content-Lengths would cut the body)."""
    new_headers = lambda_codec.plain_headers(result.get("headers", {}))
    new_headers = [(n, v) for n, v in new_headers if n not in _UNSEEN_RESPONSE_HEADERS]
    body = lambda_codec.response_body(result)
    if body is not None:
        return [(n, v) for n, v in new_headers if n not in _BODY_FRAMING], body
    return new_headers + [(n, v) for n, v in headers if n in _UNSEEN_RESPONSE_HEADERS], None


# -- viewer response -----------------------------------------------------------------------------
def viewer_response_applies(flow: Flow, response: EdgeResponse) -> LambdaAssociation | None:
    behavior = flow.behavior
    if behavior is None or not behavior.lambdas:
        return None
    association = behavior.lambda_at(limits.VIEWER_RESPONSE)
    if (
        association is None
        or response.status >= 400
        or not response.viewer_response_allowed
        or (isinstance(response.source, GeneratedBody) and response.source.fill is None)
    ):
        return None
    return association


async def run_viewer_response(
    flow: Flow,
    lambdas: LambdaRegistry,
    association: LambdaAssociation,
    response: EdgeResponse,
    request: dict[str, Any],
) -> EdgeResponse:
    """Run the viewer-response lambda on ``response`` (it cannot change the status; a body it
    sets replaces the one the viewer gets, while a miss is still cached as the origin sent it)."""
    outcome = await _invoke_on_response(
        flow, lambdas, association, request, response.status, response.reason, response.headers
    )
    if outcome.failure is not None:
        answer = failed(flow, outcome)
        # The object is cached before viewer response runs (it runs on hits too): a miss still
        # fills the cache while the viewer gets the error.
        keep_filling(response, answer)
        return answer
    result = outcome.response
    assert result is not None
    response.headers, body = _response_result(result, response.headers)
    if body is not None:
        replace_body(response, body)
    response.reason = result.get("statusDescription") or response.reason
    return response
