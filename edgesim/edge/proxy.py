"""The viewer-facing proxy: the request pipeline of docs/serve.md, stage by stage.

Each stage is a plain function in its own module (viewer, patterns, event codec, policy rules,
TTL, cache, origin, response headers); this module only calls them in CloudFront's order:

viewer → POP/country → behaviour → viewer-request function → cache → origin (or group) →
viewer-response function (skipped for status ≥ 400) → response headers policy → CloudFront's
headers → viewer.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from aiohttp import web

from edgesim import limits
from edgesim.devloop.metrics import Metrics
from edgesim.devloop.requestlog import RequestLog, RequestRecord
from edgesim.distribution.model import Behavior, Distribution, Origin, OriginGroup
from edgesim.distribution.patterns import select_behavior
from edgesim.edge.cache import CachedObject, CacheWriter, HttpCache
from edgesim.edge.compression import (
    StreamEncoder,
    choose_encoding,
    compressible,
    response_headers_for,
    revalidated_headers,
)
from edgesim.edge.event_codec import (
    apply_request_output,
    cookie_header,
    request_event,
    response_event,
    response_from_output,
    wire_name,
)
from edgesim.edge.functions import FunctionRegistry
from edgesim.edge.message import HOP_BY_HOP, EdgeRequest, Headers
from edgesim.edge.origin import OriginClient, OriginFailure, OriginRequest, origin_host
from edgesim.edge.policy_rules import (
    cache_key,
    host_forwarded,
    invalidation_path,
    names_any_cloudfront_header,
    origin_forward,
    policy_names_header,
)
from edgesim.edge.response_headers import (
    apply_response_headers_policy,
    cloudfront_response_headers,
    new_request_id,
)
from edgesim.edge.ttl import decide_ttl
from edgesim.edge.viewer import (
    ViewerResolver,
    cloudfront_viewer_headers,
    edge_location_info,
    strip_control_headers,
)
from edgesim.errors import InputError
from edgesim.runtime.event import VIEWER_REQUEST
from edgesim.runtime.function import InvocationResult
from edgesim.runtime.origin_checks import check_origin_modifications

log = logging.getLogger("edgesim.serve")

DISTRIBUTION_ID = "EDFDVBD6EXAMPLE"
# Methods CloudFront never sends a body for; others stream the viewer's body to the origin.
_NO_BODY = frozenset({"GET", "HEAD"})
_BODY_HEADERS = frozenset({"content-length", "content-type", "content-encoding"})
_FAILOVER_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class EdgeState:
    """What hot reload swaps: the distribution and its functions (replaced as a pair)."""

    dist: Distribution
    functions: FunctionRegistry


@dataclass
class Outcome:
    """A response on its way to the viewer, with what the log line needs."""

    status: int
    headers: Headers
    x_cache: str
    body: bytes | None = None
    stream: aiohttp.ClientResponse | None = None
    cached: CachedObject | None = None
    writer: CacheWriter | None = None
    encoder: StreamEncoder | None = None  # CloudFront compresses ``stream`` on the way through
    reason: str | None = None
    generated: bool = False  # made by CloudFront or a function (Server: CloudFront)
    skip_viewer_response: bool = False  # custom error pages: no viewer-response function
    origin_status: int | None = None
    functions: list[tuple[str, int, str | None]] = field(default_factory=list)


class EdgeProxy:
    def __init__(
        self,
        state: EdgeState,
        *,
        cache: HttpCache,
        origins: OriginClient,
        metrics: Metrics,
        request_log: RequestLog,
    ) -> None:
        self.state = state
        self.cache = cache
        self.origins = origins
        self.metrics = metrics
        self.request_log = request_log
        self.viewer = ViewerResolver(state.dist.edges)
        self.via_id = _via_id(state.dist.server.domain_name)

    def swap(self, state: EdgeState) -> None:
        self.state = state
        self.viewer = ViewerResolver(state.dist.edges)
        self.via_id = _via_id(state.dist.server.domain_name)

    # -- entry point ---------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        state = self.state
        req = _edge_request(request)
        request_id = new_request_id()
        try:
            req.pop = self.viewer.pop_for(req)
            req.country = self.viewer.country_for(req)
        except InputError as exc:
            req.pop = state.dist.edges.pops[0]
            outcome = _generated(400, str(exc), "Error")
            return await self._send(request, req, None, outcome, request_id, started)
        if len(req.target) >= limits.MAX_URI_AND_QUERY_CHARS:
            outcome = _generated(414, "Request-URI Too Long", "Error")
            return await self._send(request, req, None, outcome, request_id, started)
        # Control headers never go further; CloudFront-* viewer headers are CloudFront's to set,
        # so a viewer cannot spoof them (their values come from _add_viewer_headers only).
        req.headers = [
            (n, v) for n, v in strip_control_headers(req.headers) if not _cloudfront_generated(n)
        ]
        behavior = select_behavior(state.dist, req.path)
        outcome = await self._process(request, req, behavior, state, request_id)
        return await self._send(request, req, behavior, outcome, request_id, started)

    async def _process(
        self,
        request: web.Request,
        req: EdgeRequest,
        behavior: Behavior,
        state: EdgeState,
        request_id: str,
    ) -> Outcome:
        if req.method not in behavior.allowed_methods:
            return _generated(
                403,
                "This distribution is not configured to allow the HTTP "
                "request method that was used for this request.",
                "Error",
            )
        if req.method == "GET" and request.body_exists:
            # Developer Guide, "HTTP status codes": CloudFront returns 403 for a GET request
            # that includes a body.
            return _generated(403, "GET requests with a body are not allowed.", "Error")
        if behavior.viewer_protocol_policy == "https-only" and req.scheme != "https":
            return _generated(403, "HTTPS is required for this path.", "Error")
        if behavior.viewer_protocol_policy == "redirect-to-https" and req.scheme != "https":
            host = req.header("host") or state.dist.server.domain_name
            outcome = _generated(301, "", "Redirect")
            outcome.headers.append(("location", f"https://{_host_without_port(host)}{req.target}"))
            return outcome
        self._add_viewer_headers(req, behavior)
        context = {
            "distributionDomainName": state.dist.server.domain_name,
            "distributionId": DISTRIBUTION_ID,
            "requestId": request_id,
        }
        event = request_event(req, event_type=VIEWER_REQUEST, context=context)
        origin_id: str | OriginGroup = behavior.origin
        functions: list[tuple[str, int, str | None]] = []
        if behavior.viewer_request:
            result = self._invoke(state, behavior.viewer_request, event, req, functions)
            if result is None:
                pass  # function failed to load: CloudFront would not have deployed it
            elif result.error is not None:
                return _function_error(result, functions)
            elif result.kind == "response":
                assert result.output is not None
                status, reason, headers, body = response_from_output(result.output, None)
                outcome = Outcome(
                    status,
                    headers,
                    "FunctionGeneratedResponse",
                    body=body or b"",
                    reason=reason,
                    generated=True,
                    functions=functions,
                )
                return outcome
            else:
                assert result.output is not None
                problems = check_origin_modifications(VIEWER_REQUEST, result.origin_modifications)
                if problems:
                    return _function_error_text(
                        "FunctionValidationError",
                        502,
                        "The CloudFront function returned an invalid value for origin rewrite: "
                        + "; ".join(problems),
                        functions,
                    )
                req = apply_request_output(req, result.output, event)
                event["request"] = result.output
                try:
                    origin_id = _origin_after_helpers(state.dist, origin_id, result)
                except InputError as exc:
                    return _function_error_text("FunctionValidationError", 502, str(exc), functions)
        outcome = await self._fetch(request, req, behavior, state, origin_id, request_id)
        outcome.functions = functions
        if (
            behavior.viewer_response
            and outcome.status < 400
            and not outcome.generated
            and not outcome.skip_viewer_response
        ):
            # AWS: viewer-response functions are not invoked when the origin returns ≥ 400.
            outcome = self._viewer_response(state, behavior, event, req, outcome)
        return outcome

    def _add_viewer_headers(self, req: EdgeRequest, behavior: Behavior) -> None:
        # CloudFront-* headers exist for the function and the origin only when a policy names
        # them (reference notes B.6).
        if not _names_cloudfront_headers(behavior):
            return
        for name, value in cloudfront_viewer_headers(req):
            if policy_names_header(name, behavior.cache_policy, behavior.origin_request_policy):
                req.headers.append((name, value))

    def _invoke(
        self,
        state: EdgeState,
        name: str,
        event: dict[str, Any],
        req: EdgeRequest,
        functions: list[tuple[str, int, str | None]],
    ) -> InvocationResult | None:
        function = state.functions.get(name)
        if function is None:
            functions.append((name, 0, "not loaded"))
            return None
        result = function.invoke(
            event,
            now=time.time() * 1000,  # invoke takes epoch milliseconds (or a datetime)
            edge=edge_location_info(req.pop, req.client_ip),
            raw_query=req.query,
            replica=state.functions.replica(name, req.pop),
        )
        error_kind = result.error.kind if result.error else None
        self.metrics.record_function(
            name, utilization=result.compute_utilization, error_kind=error_kind
        )
        functions.append((name, result.compute_utilization, error_kind))
        for line in result.logs:
            self.request_log.function_log(name, line)
        if result.error is not None:
            self.request_log.function_log(
                name, f"{result.error.kind} error: {result.error.message}"
            )
        return result

    # -- cache and origin ----------------------------------------------------------------------
    async def _fetch(
        self,
        request: web.Request,
        req: EdgeRequest,
        behavior: Behavior,
        state: EdgeState,
        origin_id: str | OriginGroup,
        request_id: str,
        *,
        custom_errors: bool = True,
    ) -> Outcome:
        policy = behavior.cache_policy
        if req.http_version == "1.0" and req.header("accept-encoding") is not None:
            # "If a request to CloudFront uses HTTP 1.0, CloudFront removes the Accept-Encoding
            # header" (Developer Guide, "Serve compressed files"): neither keyed nor forwarded.
            # Done after the viewer-request function; whether functions see it is unverified.
            req = dataclasses.replace(
                req, headers=[(n, v) for n, v in req.headers if n != "accept-encoding"]
            )
        cacheable = req.method in behavior.cached_methods and policy.max_ttl > 0
        # Every edge location has its own cache: the POP is part of where an object lives.
        key = (
            f"{req.pop}|{cache_key(req, policy, host=_cache_host(req, state))}"
            if cacheable
            else None
        )
        cached = self.cache.lookup(key) if key is not None else None
        now = self.cache.clock()
        if cached is not None and cached.is_fresh(now):
            if cached.status in state.dist.custom_error_responses and custom_errors:
                return await self._custom_error(request, req, state, cached.status, request_id)
            if _not_modified(cached, req):
                outcome = _from_cache(cached, "Hit", now)
                outcome.cached, outcome.status, outcome.body = None, 304, b""
                outcome.headers = [(n, v) for n, v in outcome.headers if n not in _BODY_HEADERS]
                return outcome
            return _from_cache(cached, "Hit", now)
        # An expired object is revalidated with a conditional request; a 304 refreshes it
        # (x-cache RefreshHit: "expired, revalidated with the origin", reference B.7).
        conditional = _revalidation_headers(cached, req) if cached is not None else []
        try:
            response = await self._origin_response(
                request, req, behavior, state, origin_id, request_id, conditional
            )
        except OriginFailure as failure:
            if cached is not None:
                # Reference B.8: an origin timeout counts as a 5xx, so the stale copy is served.
                return _from_cache(cached, "RefreshHit", now)
            if failure.status in state.dist.custom_error_responses and custom_errors:
                return await self._custom_error(request, req, state, failure.status, request_id)
            return _generated(failure.status, f"{failure.reason}\n", "Error")
        status = response.status
        headers = _response_headers(response)
        if status == 304 and conditional and cached is not None and key is not None:
            response.release()
            # No compression on a 304: the stored copy (compressed or not) is kept as it is.
            merged = _merge_headers(cached.headers, revalidated_headers(cached.headers, headers))
            decision = decide_ttl(
                cached.status,
                merged,
                policy,
                now=_utc_now(),
                method=req.method,
                error_min_ttl=_error_ttl(state.dist, cached.status),
            )
            refreshed = self.cache.refresh(key, decision, headers=merged)
            if refreshed is not None:
                return _from_cache(refreshed, "RefreshHit", self.cache.clock())
        if status >= 500 and cached is not None:
            # Expired object + origin 5xx: CloudFront serves the stale copy (reference B.8).
            response.release()
            return _from_cache(cached, "RefreshHit", now)
        encoder: StreamEncoder | None = None
        encoding = choose_encoding(
            behavior,
            req.header("accept-encoding"),
            http_version=req.http_version,
            method=req.method,
        )
        if encoding is not None and compressible(status, headers):
            # CloudFront compresses before caching: the compressed copy is what later hits get.
            headers = response_headers_for(headers, encoding)
            encoder = StreamEncoder(encoding)
        outcome = Outcome(
            status,
            headers,
            "Miss" if status < 400 else "Error",
            stream=response,
            encoder=encoder,
            reason=response.reason,
            origin_status=status,
        )
        if key is not None:
            decision = decide_ttl(
                status,
                headers,
                policy,
                now=_utc_now(),
                method=req.method,
                error_min_ttl=_error_ttl(state.dist, status),
            )
            if decision.cacheable:
                outcome.writer = self.cache.begin(
                    key,
                    status=status,
                    headers=headers,
                    decision=decision,
                    path=invalidation_path(req, policy),
                )
        if status >= 400 and status in state.dist.custom_error_responses and custom_errors:
            # The origin's error is cached as usual (for the error caching TTL); the viewer gets
            # the custom page, now and on hits.
            if outcome.writer is not None:
                await _pump(outcome, None)
            response.release()
            return await self._custom_error(request, req, state, status, request_id)
        return outcome

    async def _origin_response(
        self,
        request: web.Request,
        req: EdgeRequest,
        behavior: Behavior,
        state: EdgeState,
        origin_id: str | OriginGroup,
        request_id: str,
        conditional: Headers | None = None,
    ) -> aiohttp.ClientResponse:
        dist = state.dist
        group = (
            origin_id if isinstance(origin_id, OriginGroup) else dist.origin_groups.get(origin_id)
        )
        members = [group.primary, group.secondary] if group else [str(origin_id)]
        body: AsyncIterator[bytes] | None = None
        if req.method not in _NO_BODY and request.can_read_body:
            body = request.content.iter_chunked(64 * 1024)
        last_failure: OriginFailure | None = None
        for index, member in enumerate(members):
            origin = dist.origins[member]
            outgoing = self._origin_request(req, behavior, origin, request_id, body)
            if conditional:
                outgoing.headers += [(wire_name(n), v) for n, v in conditional]
            try:
                response = await self.origins.send(origin, outgoing)
            except OriginFailure as failure:
                last_failure = failure
                if group and index == 0 and req.method in _FAILOVER_METHODS:
                    continue
                raise
            if (
                group
                and index == 0
                and req.method in _FAILOVER_METHODS
                and response.status in group.failover_status_codes
            ):
                response.release()
                continue
            return response
        assert last_failure is not None
        raise last_failure

    def _origin_request(
        self,
        req: EdgeRequest,
        behavior: Behavior,
        origin: Origin,
        request_id: str,
        body: AsyncIterator[bytes] | None,
    ) -> OriginRequest:
        forward = origin_forward(req, behavior.cache_policy, behavior.origin_request_policy)
        headers = [(n, v) for n, v in forward.headers if n not in HOP_BY_HOP and n != "host"]
        if forward.cookies:
            headers = [(n, v) for n, v in headers if n != "cookie"]
            headers.append(("cookie", cookie_header(forward.cookies)))
        if host_forwarded(behavior.cache_policy, behavior.origin_request_policy):
            headers.append(("host", req.header("host") or origin_host(origin)))
        else:
            headers.append(("host", origin_host(origin)))
        # X-Forwarded-For and Via: the viewer's values (all of them) with CloudFront's appended.
        xff = [*req.header_values("x-forwarded-for"), req.client_ip]
        via = [
            *req.header_values("via"),
            f"{req.http_version} {self.via_id}.cloudfront.net (CloudFront)",
        ]
        headers = [(n, v) for n, v in headers if n not in ("x-forwarded-for", "via")]
        headers.append(("x-forwarded-for", ", ".join(xff)))
        headers.append(("x-amz-cf-id", request_id))
        headers.append(("via", ", ".join(via)))
        if not any(n == "user-agent" for n, _ in headers):
            headers.append(("user-agent", "Amazon CloudFront"))
        for custom in origin.custom_headers:
            headers = [(n, v) for n, v in headers if n != custom.name.lower()]
            headers.append((custom.name.lower(), custom.value))
        return OriginRequest(
            req.method, req.path, forward.query, [(wire_name(n), v) for n, v in headers], body
        )

    async def _custom_error(
        self,
        request: web.Request,
        req: EdgeRequest,
        state: EdgeState,
        status: int,
        request_id: str,
    ) -> Outcome:
        """The configured error page, fetched through the behaviour its path matches (and that
        behaviour's cache), with the configured status. Viewer-response functions do not run for
        it (reference §1.6)."""
        rule = state.dist.custom_error_responses[status]
        code = rule.response_code or status
        if not rule.response_page_path:
            outcome = _generated(code, "", "Error")
            outcome.skip_viewer_response = True
            return outcome
        behavior = select_behavior(state.dist, rule.response_page_path)
        page = EdgeRequest(
            "GET",
            rule.response_page_path,
            None,
            [],
            client_ip=req.client_ip,
            pop=req.pop,
            country=req.country,
        )
        outcome = await self._fetch(
            request, page, behavior, state, behavior.origin, request_id, custom_errors=False
        )
        if outcome.status >= 400 and outcome.status != code:
            _discard(outcome)
            outcome = _generated(code, "", "Error")
        outcome.status, outcome.reason, outcome.x_cache = code, None, "Error"
        outcome.skip_viewer_response = True
        return outcome

    def _viewer_response(
        self,
        state: EdgeState,
        behavior: Behavior,
        event: dict[str, Any],
        req: EdgeRequest,
        outcome: Outcome,
    ) -> Outcome:
        assert behavior.viewer_response is not None
        headers = [(n, v) for n, v in outcome.headers if n not in ("content-length",)]
        rev = response_event(event, outcome.status, headers, outcome.reason)
        result = self._invoke(state, behavior.viewer_response, rev, req, outcome.functions)
        if result is None:
            return outcome
        if result.error is not None:
            _discard(outcome)
            return _function_error(result, outcome.functions)
        assert result.output is not None
        status, reason, new_headers, body = response_from_output(result.output, rev["response"])
        if body is not None and _same_values(outcome.headers, new_headers, "content-encoding"):
            # A replacement body is sent as the function wrote it: a Content-Encoding the
            # function left as it was (CloudFront's own compression of a miss or of the cached
            # copy, or the origin's) no longer describes it, so it is dropped (unverified).
            new_headers = [(n, v) for n, v in new_headers if n != "content-encoding"]
        outcome.status, outcome.reason = status, reason or outcome.reason
        content_length = [(n, v) for n, v in outcome.headers if n == "content-length"]
        outcome.headers = new_headers + ([] if body is not None else content_length)
        if body is not None:
            # The viewer gets the function's body, but the origin's response is still cached
            # (the function runs on every response, cached or not).
            if outcome.writer is None:
                _discard(outcome)
            outcome.cached = None
            outcome.body = body
        return outcome

    # -- the way out ---------------------------------------------------------------------------
    async def _send(
        self,
        request: web.Request,
        req: EdgeRequest,
        behavior: Behavior | None,
        outcome: Outcome,
        request_id: str,
        started: float,
    ) -> web.StreamResponse:
        size = 0
        try:
            response = self._response_head(req, behavior, outcome, request_id)
            size = await self._write_body(request, response, outcome)
        finally:
            # Whatever happened, the origin response is released and an unfinished cache write
            # abandoned (no-ops when the body was fully written).
            _discard(outcome)
            self._finish(req, behavior, outcome, size, started)
        return response

    def _response_head(
        self, req: EdgeRequest, behavior: Behavior | None, outcome: Outcome, request_id: str
    ) -> web.StreamResponse:
        headers = outcome.headers
        if behavior is not None and behavior.response_headers_policy is not None:
            headers = apply_response_headers_policy(
                headers, behavior.response_headers_policy, request=req
            )
        wire: list[tuple[str, str]] = [(wire_name(n), v) for n, v in headers if n not in HOP_BY_HOP]
        if outcome.generated and not any(n.lower() == "server" for n, _ in wire):
            wire.append(("Server", "CloudFront"))
        wire += cloudfront_response_headers(
            x_cache=f"{outcome.x_cache} from cloudfront",
            pop=req.pop,
            request_id=request_id,
            http_version=req.http_version,
            via_id=self.via_id,
        )
        response = web.StreamResponse(status=outcome.status, reason=outcome.reason)
        for name, value in wire:
            response.headers.add(name, value)
        return response

    async def _write_body(
        self, request: web.Request, response: web.StreamResponse, outcome: Outcome
    ) -> int:
        head = request.method == "HEAD"
        if outcome.body is not None:
            response.headers["Content-Length"] = str(len(outcome.body))
            await response.prepare(request)
            if not head:
                await response.write(outcome.body)
            await response.write_eof()
            if outcome.stream is not None and outcome.writer is not None:
                await _pump(outcome, None)  # still cache the origin's response
            _discard(outcome)
            return len(outcome.body)
        size = 0
        await response.prepare(request)
        if outcome.cached is not None:
            if not head:
                for chunk in outcome.cached.body_chunks():
                    await response.write(chunk)
                    size += len(chunk)
        elif outcome.stream is not None:
            size = await _pump(outcome, None if head else response)
        await response.write_eof()
        return size

    def _finish(
        self,
        req: EdgeRequest,
        behavior: Behavior | None,
        outcome: Outcome,
        size: int,
        started: float,
    ) -> None:
        self.metrics.record_request(outcome.x_cache, outcome.status, size)
        self.request_log.request(
            RequestRecord(
                method=req.method,
                target=req.target,
                pop=req.pop,
                behavior=behavior.path if behavior else "-",
                functions=outcome.functions,
                x_cache=outcome.x_cache,
                status=outcome.status,
                origin_status=outcome.origin_status,
                bytes=size,
                duration_ms=(time.perf_counter() - started) * 1000,
                client_ip=req.client_ip,
            )
        )


# -- helpers -------------------------------------------------------------------------------------
def _edge_request(request: web.Request) -> EdgeRequest:
    raw = request.raw_path
    path, mark, query = raw.partition("?")
    peer = request.transport.get_extra_info("peername") if request.transport else None
    port = int(peer[1]) if isinstance(peer, tuple) and len(peer) > 1 else 0
    headers = [(_text(name).lower(), _text(value)) for name, value in request.raw_headers]
    return EdgeRequest(
        method=request.method,
        path=path or "/",
        query=query if mark else None,
        headers=headers,
        client_ip=request.remote or "127.0.0.1",
        client_port=port,
        http_version=f"{request.version.major}.{request.version.minor}",
        scheme=request.scheme,
    )


def _response_headers(response: aiohttp.ClientResponse) -> Headers:
    pairs = [(_text(name).lower(), _text(value)) for name, value in response.raw_headers]
    return [(name, value) for name, value in pairs if name not in HOP_BY_HOP]


def _text(raw: bytes) -> str:
    """Header bytes as text the way CloudFront treats them (Developer Guide, "Restrictions on
    edge functions"): UTF-8 when valid, otherwise ISO-8859-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _generated(status: int, text: str, x_cache: str) -> Outcome:
    body = text.encode()
    headers: Headers = [("content-type", "text/plain; charset=utf-8")] if body else []
    return Outcome(status, headers, x_cache, body=body, generated=True)


def _function_error(
    result: InvocationResult, functions: list[tuple[str, int, str | None]]
) -> Outcome:
    assert result.error is not None
    if result.error.kind == "validation":
        return _function_error_text("FunctionValidationError", 502, result.error.message, functions)
    return _function_error_text("FunctionExecutionError", 503, result.error.message, functions)


def _function_error_text(
    x_cache: str, status: int, detail: str, functions: list[tuple[str, int, str | None]]
) -> Outcome:
    # CloudFront answers 503 for an execution error and 502 for invalid output; the body names
    # the problem so the developer does not have to dig through logs (CloudFront's own error
    # page is generic).
    outcome = _generated(status, f"{x_cache}: {detail}\n", x_cache)
    outcome.functions = functions
    return outcome


def _cloudfront_generated(name: str) -> bool:
    return name.startswith(("cloudfront-viewer-", "cloudfront-is-")) or name == (
        "cloudfront-forwarded-proto"
    )


def _host_without_port(host: str) -> str:
    if host.startswith("["):  # [IPv6]:port
        return host.split("]")[0] + "]"
    return host.split(":")[0]


def _not_modified(cached: CachedObject, req: EdgeRequest) -> bool:
    """A fresh hit whose validators match the viewer's conditional headers gets a 304."""
    etag = next((v for n, v in cached.headers if n == "etag"), None)
    wanted = req.header("if-none-match")
    if wanted is not None:
        if etag is None:
            return False
        tags = [t.strip().removeprefix("W/") for t in wanted.split(",")]
        return "*" in tags or etag.removeprefix("W/") in tags
    since = req.header("if-modified-since")
    modified = next((v for n, v in cached.headers if n == "last-modified"), None)
    if since is None or modified is None:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _revalidation_headers(cached: CachedObject, req: EdgeRequest) -> Headers:
    """If-None-Match / If-Modified-Since from the stored validators, unless the viewer sent its
    own conditional headers (then the origin's 304 belongs to the viewer)."""
    if req.header("if-none-match") is not None or req.header("if-modified-since") is not None:
        return []
    out: Headers = []
    for name, value in cached.headers:
        if name == "etag":
            out.append(("if-none-match", value))
        elif name == "last-modified":
            out.append(("if-modified-since", value))
    return out


def _merge_headers(stored: Headers, fresh: Headers) -> Headers:
    """A 304's headers update the stored ones (RFC 9111 §4.3.4), body headers excepted."""
    keep_stored = {"content-length", "content-encoding", "content-type", "transfer-encoding"}
    replaced = {n for n, _ in fresh if n not in keep_stored}
    merged = [(n, v) for n, v in stored if n not in replaced]
    merged += [(n, v) for n, v in fresh if n not in keep_stored]
    return merged


def _from_cache(cached: CachedObject, x_cache: str, now: float) -> Outcome:
    headers = [(n, v) for n, v in cached.headers if n != "age"]
    headers.append(("age", str(cached.age(now))))
    return Outcome(cached.status, headers, x_cache, cached=cached)


def _same_values(before: Headers, after: Headers, name: str) -> bool:
    """Whether header ``name`` is present in ``before`` and unchanged in ``after``."""
    old = [v for n, v in before if n == name]
    return bool(old) and old == [v for n, v in after if n == name]


async def _pump(outcome: Outcome, response: web.StreamResponse | None) -> int:
    """Stream the origin body (compressed on the way if CloudFront would) into the cache writer
    and, unless ``response`` is None, to the viewer; returns the bytes produced."""
    assert outcome.stream is not None
    writer, encoder = outcome.writer, outcome.encoder
    size = 0

    async def emit(chunk: bytes) -> None:
        nonlocal size
        if not chunk:
            return
        if writer is not None:
            writer.write(chunk)
        if response is not None:
            await response.write(chunk)
        size += len(chunk)

    try:
        async for chunk in outcome.stream.content.iter_chunked(64 * 1024):
            await emit(encoder.feed(chunk) if encoder is not None else chunk)
        if encoder is not None:
            await emit(encoder.finish())
    except BaseException:
        if writer is not None:
            writer.abort()
        outcome.writer = None
        raise
    finally:
        outcome.stream.release()
    if writer is not None:
        writer.commit()
        outcome.writer = None
    return size


def _discard(outcome: Outcome) -> None:
    if outcome.stream is not None:
        outcome.stream.release()
        outcome.stream = None
    if outcome.writer is not None:
        outcome.writer.abort()
        outcome.writer = None
    outcome.encoder = None
    outcome.cached = None


def _origin_after_helpers(
    dist: Distribution, origin_id: str | OriginGroup, result: InvocationResult
) -> str | OriginGroup:
    """Apply selectRequestOriginById / updateRequestOrigin to the configured origins.

    Locally an origin is reached by its configured URL, so a helper call must name a configured
    origin: by id, or by a domain name equal to an origin's id or URL host.
    """
    for call in result.origin_modifications:
        helper, argument = call["helper"], call["argument"]
        if helper == "selectRequestOriginById":
            wanted = argument[0] if isinstance(argument, list) else argument
            if wanted not in dist.origins:
                raise InputError(
                    f"selectRequestOriginById({wanted!r}): no origin with that id is configured "
                    f"(configured: {', '.join(sorted(dist.origins))})"
                )
            origin_id = str(wanted)
        elif helper == "updateRequestOrigin":
            domain = argument.get("domainName") if isinstance(argument, dict) else None
            if domain:
                origin_id = _origin_by_domain(dist, str(domain))
        elif helper == "createRequestOriginGroup":
            origin_id = _group_from_helper(dist, argument)
    return origin_id


def _group_from_helper(dist: Distribution, argument: dict[str, Any]) -> OriginGroup:
    """An origin group made by createRequestOriginGroup (argument already validated) out of
    configured origins."""
    ids = []
    for item in argument["originIds"]:
        origin = item if isinstance(item, str) else item["originId"]
        if origin not in dist.origins:
            raise InputError(
                f"createRequestOriginGroup: no origin {origin!r} is configured "
                f"(configured: {', '.join(sorted(dist.origins))})"
            )
        ids.append(origin)
    codes = frozenset(int(c) for c in argument["failoverCriteria"]["statusCodes"])
    return OriginGroup("function-group", ids[0], ids[1], codes)


def _origin_by_domain(dist: Distribution, domain: str) -> str:
    for origin in dist.origins.values():
        host = origin_host(origin).split(":")[0]
        if domain in (origin.id, host):
            return origin.id
    raise InputError(
        f"updateRequestOrigin({{domainName: {domain!r}}}): no configured origin has that id or "
        "host; add an [[origins]] entry with id = the domain name to route it locally"
    )


@functools.lru_cache(maxsize=256)
def _names_cloudfront_headers(behavior: Behavior) -> bool:
    return names_any_cloudfront_header(behavior.cache_policy, behavior.origin_request_policy)


def _cache_host(req: EdgeRequest, state: EdgeState) -> str:
    return state.dist.server.domain_name


def _error_ttl(dist: Distribution, status: int) -> int:
    rule = dist.custom_error_responses.get(status)
    return rule.error_caching_min_ttl if rule is not None else 10


def _utc_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _via_id(domain: str) -> str:
    import hashlib

    return hashlib.md5(domain.encode(), usedforsecurity=False).hexdigest()
