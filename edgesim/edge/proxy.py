"""The viewer-facing proxy: the path of one request through the edge, stage by stage.

viewer (POP, country, refusals, behaviour) → viewer-request function → cache → origin (or group)
→ viewer-response function (skipped for status ≥ 400) → response headers policy and CloudFront's
headers → viewer. Each step is a stage module under ``edgesim/edge/stages/`` that reads and
records the request's :class:`~edgesim.edge.flow.Flow`; this module only calls them in order and
hands the finished flow to the observers (metrics, request log, …).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeVar

from aiohttp import web

from edgesim.distribution.model import Behavior, Distribution
from edgesim.distribution.patterns import select_behavior
from edgesim.edge import delivery
from edgesim.edge.batch import StageBatch
from edgesim.edge.cache import HttpCache
from edgesim.edge.compiled import compile_distribution
from edgesim.edge.flow import (
    EdgeResponse,
    Flow,
    FlowObserver,
    GeneratedBody,
    OriginBody,
    XCache,
    generated,
)
from edgesim.edge.functions import FunctionRegistry
from edgesim.edge.lambda_codec import LambdaMadeResponse
from edgesim.edge.lambdas import LambdaRegistry
from edgesim.edge.message import EdgeRequest
from edgesim.edge.origin import OriginClient, OriginFailure
from edgesim.edge.response_headers import new_request_id, via_host_id
from edgesim.edge.stages import cache as cache_stage
from edgesim.edge.stages import functions as function_stage
from edgesim.edge.stages import lambdas as lambda_stage
from edgesim.edge.stages import origin as origin_stage
from edgesim.edge.stages import response as response_stage
from edgesim.edge.stages import viewer as viewer_stage
from edgesim.edge.viewer import ViewerResolver
from edgesim.errors import InputError
from edgesim.kvs.clock import Clock, RealClock

log = logging.getLogger("edgesim.serve")
BAD_REQUEST = "Bad Request: the request could not be parsed as HTTP/1.1."
_NO_BODY = frozenset({"GET", "HEAD"})  # methods whose viewer body never goes to the origin
_BODY_FRAMING = frozenset({"content-length", "transfer-encoding"})
_REBUILDING = object()  # a batched function stage that must wait for its context first
_T = TypeVar("_T")


@dataclass
class EdgeState:
    """What hot reload swaps: the distribution and its functions (replaced together)."""

    dist: Distribution
    functions: FunctionRegistry
    lambdas: LambdaRegistry | None = None  # Lambda@Edge functions, when the distribution has any


class EdgeProxy:
    def __init__(
        self,
        state: EdgeState,
        *,
        cache: HttpCache,
        origins: OriginClient,
        clock: Clock | None = None,
        observers: Sequence[FlowObserver] = (),
    ) -> None:
        self.cache = cache
        self.origins = origins
        self.clock = clock or RealClock()
        self._real_clock = isinstance(self.clock, RealClock)
        # A settable clock (serve's) reads its time as integer nanoseconds: no datetime per read.
        self._wall_ns = getattr(self.clock, "wall_ns", None)
        self.https_port: int | None = None  # where HTTP viewers are redirected to, once listening
        self.observers = list(observers)
        # Function stages of requests arriving together run back to back (edge/batch.py).
        self.batch = StageBatch()
        self.swap(state)

    def swap(self, state: EdgeState) -> None:
        compile_distribution(state.dist)  # each behaviour's policies, once per distribution
        self.state = state
        self.viewer = ViewerResolver(state.dist.edges)
        self.via_id = via_host_id(state.dist.server.domain_name)

    def now_ms(self) -> float:
        """The edge clock's time in epoch milliseconds (read on every request: the real clock
        takes the cheap path)."""
        if self._real_clock:
            return time.time() * 1000
        if self._wall_ns is not None:
            return float(self._wall_ns() / 1_000_000)
        return self.clock.wall().timestamp() * 1000

    # -- the request's path ------------------------------------------------------------------
    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        state = self.state  # one distribution and its functions for the whole request
        flow = Flow(delivery.viewer_request(request), state.dist, new_request_id(), self.now_ms())
        response = viewer_stage.place(flow, self.viewer) or await self._process(
            flow, request, state.functions, state.lambdas
        )
        return await self._send(flow, request, response)

    async def _process(
        self,
        flow: Flow,
        request: web.BaseRequest,
        functions: FunctionRegistry,
        lambdas: LambdaRegistry | None = None,
    ) -> EdgeResponse:
        refused = viewer_stage.admit(flow, https_port=self.https_port)
        if refused is not None:
            blocked = refused.detail and refused.detail.startswith(viewer_stage.GEO_BLOCKED)
            if blocked and 403 in flow.dist.custom_error_responses:
                return await self._custom_error(flow, 403)
            return refused
        assert flow.behavior is not None
        # The function runs as the request arrives: its Date.now() is the arrival time.
        stage = partial(function_stage.run_viewer_request, flow, functions, flow.received_ms)
        name = flow.behavior.viewer_request
        answered = await self._in_batch(functions, name, stage) if name else stage()
        if answered is not None:
            return answered
        behavior = flow.behavior
        if behavior.lambdas and lambdas:
            association = behavior.lambda_at("viewer-request")
            if association is not None:
                body = await _viewer_body(request, flow) if association.include_body else None
                answered = await lambda_stage.run_viewer_request(flow, lambdas, association, body)
                if answered is not None:
                    return answered
        if behavior.trusted_key_groups and flow.dist.private_content.after_function:
            refused = viewer_stage.private_content(flow, behavior)
            if refused is not None:
                return refused
        response = await self._fetch(
            flow, flow.request, flow.behavior, flow.origin, request, lambdas=lambdas
        )
        if function_stage.viewer_response_applies(flow, response):
            response = await self._in_batch(
                functions,
                flow.behavior.viewer_response,
                partial(
                    function_stage.run_viewer_response, flow, functions, response, self.now_ms()
                ),
            )
        elif lambdas:
            association = lambda_stage.viewer_response_applies(flow, response)
            if association is not None:
                response = await lambda_stage.run_viewer_response(
                    flow, lambdas, association, response,
                    lambda_stage.viewer_event_request(flow),
                )  # fmt: skip
        return response

    async def _in_batch(
        self, functions: FunctionRegistry, name: str | None, stage: Callable[[], _T]
    ) -> _T:
        """``stage`` (a function stage of ``name``), run in this loop turn's batch once the
        function's context is ready; again in a later batch when a runaway earlier in its batch
        took the context away (its spare is then built in steps while other requests go on)."""
        while True:
            await _context_ready(functions, name)
            result = await self.batch.run(partial(_unless_rebuilding, functions, name, stage))
            if result is not _REBUILDING:
                return result  # type: ignore[return-value]

    async def _fetch(
        self,
        flow: Flow,
        req: EdgeRequest,
        behavior: Behavior,
        target: origin_stage.Target,
        request: web.BaseRequest | None,
        *,
        custom_errors: bool = True,
        lambdas: LambdaRegistry | None = None,
    ) -> EdgeResponse:
        """Cache, then origin: a fresh hit, a revalidated or stale copy, or the origin's answer
        (stored on the way when cacheable); custom error pages replace error statuses. The
        behaviour's origin-request and origin-response lambdas run around the origin."""
        dist = flow.dist
        req = cache_stage.as_cached(req)
        key = cache_stage.key_for(req, behavior, dist)
        cached = self.cache.lookup(key) if key is not None else None
        now = self.clock.monotonic()
        flow.cache_key = key if custom_errors else flow.cache_key
        if cached is not None and cached.is_fresh(now):
            flow.mark("cache", result="hit")
            if custom_errors and cached.status in dist.custom_error_responses:
                return await self._custom_error(flow, cached.status)
            return cache_stage.serve_fresh(cached, req, now)
        conditional = cache_stage.revalidation_headers(cached, req)
        body: AsyncIterator[bytes] | bytes | None = None
        sent_req = req
        if flow.request_body is not None and req.method not in _NO_BODY:
            body = flow.request_body  # a viewer-request lambda read (or replaced) it
            # Its length is the body's own now (a replacement's, or a chunked body's read whole).
            sent_req = replace(
                req, headers=[(n, v) for n, v in req.headers if n not in _BODY_FRAMING]
            )
        elif request is not None and req.method not in _NO_BODY and request.can_read_body:
            body = request.content.iter_chunked(delivery.CHUNK)
        flow.mark("cache", result="stale" if cached is not None else "miss")
        on_request = on_response = hook = None
        if lambdas and behavior.lambdas:
            on_request = behavior.lambda_at("origin-request")
            on_response = behavior.lambda_at("origin-response")
            if on_request is not None or on_response is not None:
                hook = lambda_stage.origin_hook(
                    flow, lambdas, on_request, keep_event=on_response is not None
                )
        lambda_generated = False
        try:
            origin_response = await origin_stage.send(
                self.origins, dist, sent_req, behavior, target, request_id=flow.request_id,
                via_id=self.via_id, body=body, conditional=conditional,
                sent=flow.origin_requests, hook=hook,
            )  # fmt: skip
        except lambda_stage.LambdaAnswered as answered:
            if answered.response.x_cache != XCache.LAMBDA_GENERATED:
                return answered.response  # CloudFront's error answer: not cached
            # Generated at origin request: cached per the behaviour like an origin's answer,
            # and no origin-response lambda runs for it.
            made = answered.response
            assert isinstance(made.source, GeneratedBody)
            origin_response = LambdaMadeResponse(
                made.status, made.reason, made.headers, made.source.data
            )
            lambda_generated, on_response = True, None
        except OriginFailure as failure:
            flow.mark("origin", failure=failure.reason)
            if cached is not None:
                # Reference B.8: an origin timeout counts as a 5xx, so the stale copy is served.
                return cache_stage.serve(cached, XCache.REFRESH_HIT, now)
            if custom_errors and failure.status in dist.custom_error_responses:
                return await self._custom_error(flow, failure.status)
            response = generated(failure.status, f"{failure.reason}\n", XCache.ERROR)
            response.detail = failure.reason
            return response
        status = origin_response.status
        if on_response is not None and lambdas and not (status == 304 and conditional):
            changed = await lambda_stage.run_origin_response(
                flow, lambdas, on_response, flow.origin_event_request or {}, status,
                origin_response.reason, delivery.origin_headers(origin_response.raw_headers),
            )  # fmt: skip
            if isinstance(changed, EdgeResponse):
                origin_response.release()
                return changed
            new_status, reason, new_headers, new_body = changed
            origin_response = LambdaMadeResponse(
                new_status, reason, new_headers, new_body, inner=origin_response
            )
            status = new_status
        flow.origin_status = status if custom_errors else flow.origin_status
        flow.mark("origin", status=status)
        headers = delivery.origin_headers(origin_response.raw_headers)
        if cached is not None and key is not None and (status == 304 and conditional):
            origin_response.release()
            refreshed = cache_stage.refresh(
                self.cache, key, cached, headers, req=req, behavior=behavior, dist=dist,
                wall=self.clock.wall(),
            )  # fmt: skip
            if refreshed is not None:
                return cache_stage.serve(refreshed, XCache.REFRESH_HIT, self.clock.monotonic())
            # The object was invalidated or evicted while the origin revalidated it: that 304
            # answered edgesim's own condition, not the viewer's, so look again (a copy stored
            # meanwhile is served; otherwise the origin is asked without a condition).
            flow.mark("cache", result="gone while revalidating")
            return await self._fetch(
                flow, req, behavior, target, request, custom_errors=custom_errors,
                lambdas=lambdas,
            )  # fmt: skip
        if status >= 500 and cached is not None:
            # Expired object + origin 5xx: CloudFront serves the stale copy (reference B.8).
            origin_response.release()
            return cache_stage.serve(cached, XCache.REFRESH_HIT, now)
        source = OriginBody(origin_response)
        response = response_stage.from_origin(
            source, status, headers, origin_response.reason, req=req, behavior=behavior
        )
        if lambda_generated:
            response.x_cache = XCache.LAMBDA_GENERATED
        if key is not None:
            source.writer = cache_stage.begin_store(
                self.cache, key, status, response.headers, req=req, behavior=behavior,
                dist=dist, wall=self.clock.wall(),
            )  # fmt: skip
        if custom_errors and status >= 400 and status in dist.custom_error_responses:
            # The origin's error is cached as usual (for the error caching TTL); the viewer gets
            # the custom page, now and on hits.
            if source.writer is not None:
                problem = await delivery.fill_cache(source)
                if problem is not None:
                    flow.mark("fill", failure=problem)
            response.release()
            return await self._custom_error(flow, status)
        return response

    async def _custom_error(self, flow: Flow, status: int) -> EdgeResponse:
        """The configured error page, fetched through the behaviour its path matches (and that
        behaviour's cache), with the configured status. Viewer-response functions do not run
        for it (reference §1.6)."""
        rule = flow.dist.custom_error_responses[status]
        code = rule.response_code or status
        flow.mark("custom-error", status=status)
        if not rule.response_page_path:
            response = generated(code, "", XCache.ERROR)
        else:
            req = flow.request
            page = EdgeRequest(
                "GET", rule.response_page_path, None, [], client_ip=req.client_ip,
                pop=req.pop, country=req.country,
            )  # fmt: skip
            behavior = select_behavior(flow.dist, page.path)
            response = await self._fetch(
                flow, page, behavior, behavior.origin, None, custom_errors=False
            )
            if response.status >= 400 and response.status != code:
                response.release()
                response = generated(code, "", XCache.ERROR)
        response.status, response.reason, response.x_cache = code, None, XCache.ERROR
        response.viewer_response_allowed = False
        return response

    # -- the way out -------------------------------------------------------------------------
    async def _send(
        self, flow: Flow, request: web.BaseRequest, response: EdgeResponse
    ) -> web.StreamResponse:
        flow.response = response
        out = delivery.ViewerResponse(status=response.status, reason=response.reason)
        try:
            out.headers.extend(
                response_stage.wire_headers(
                    response, flow.request, flow.behavior, request_id=flow.request_id,
                    via_id=self.via_id, debug=flow.dist.server.debug_headers,
                )
            )  # fmt: skip
            if response.close_connection:
                out.force_close()
            await delivery.send(request, out, flow)
        finally:
            response.release()
            failure = flow.failure.kind if flow.failure is not None else None
            flow.mark("sent", bytes=flow.bytes_sent, failure=failure)
            self._finished(flow)
        return out

    def refuse(self, request: web.BaseRequest, too_long: bool, detail: str) -> web.Response:
        """A request the HTTP parser could not read — malformed, or over CloudFront's length
        limits — answered with CloudFront's headers, the connection closed, and logged as one
        line (not in the access log: CloudFront's standard logs leave such requests out)."""
        state = self.state
        req = EdgeRequest(
            "-", "-", None, [], client_ip=request.remote or "127.0.0.1", scheme=request.scheme
        )
        flow = Flow(req, state.dist, new_request_id(), self.now_ms(), standard_log=False)
        try:
            req.pop = self.viewer.pop_for(req)
        except InputError:
            req.pop = state.dist.edges.pops[0]
        if too_long:
            response = viewer_stage.too_large(flow, f"the parser refused it ({detail})")
        else:
            response = generated(400, BAD_REQUEST, XCache.ERROR)
            response.detail = f"the request could not be parsed: {detail}"
            response.close_connection = True
        flow.response = response
        headers = response_stage.wire_headers(
            response, req, None, request_id=flow.request_id, via_id=self.via_id,
            debug=state.dist.server.debug_headers,
        )  # fmt: skip
        body = response.source.data if isinstance(response.source, GeneratedBody) else b""
        out = web.Response(status=response.status, body=body, headers=headers)
        # On the edge clock, as delivery dates the others (aiohttp would use the machine's).
        out.headers.setdefault("Date", delivery.http_date(flow.received_ms))
        out.force_close()
        flow.response_started = True
        flow.bytes_sent = len(body)
        flow.mark("sent", bytes=flow.bytes_sent)
        self._finished(flow)
        return out

    def _finished(self, flow: Flow) -> None:
        for observer in self.observers:
            try:
                observer.flow_finished(flow)
            except Exception:  # an observer's bug must not break the viewer's response
                log.exception("flow observer %r failed", observer)


async def _viewer_body(request: web.BaseRequest, flow: Flow) -> bytes:
    """The viewer's body, read whole for a request lambda with the include-body option (it is
    then sent to the origin from memory). Read from the stream: ``request.read()`` would refuse
    a body over aiohttp's own 1 MiB limit, which CloudFront does not have."""
    if not request.can_read_body:
        flow.request_body = b""
        return b""
    data = b"".join([chunk async for chunk in request.content.iter_chunked(delivery.CHUNK)])
    flow.request_body = data
    return data


def _unless_rebuilding(
    functions: FunctionRegistry, name: str | None, stage: Callable[[], _T]
) -> _T | object:
    return _REBUILDING if _rebuilding(functions, name) else stage()


def _rebuilding(functions: FunctionRegistry, name: str | None) -> bool:
    """Whether ``name``'s context is gone and its spare is still being built: the request
    waits for it (the invocation would otherwise build one on the event loop in one go)."""
    slot = functions.slots.get(name) if name else None
    return bool(
        slot and slot.function and not slot.throttle.throttled() and slot.function.awaits_spare
    )


async def _context_ready(functions: FunctionRegistry, name: str | None) -> None:
    """Wait (without blocking the event loop) for a function whose QuickJS context is being
    rebuilt after a runaway: the spare is built in small steps between other requests, so one
    looping function does not stall everyone else's (issue 11)."""
    if _rebuilding(functions, name):
        await functions.slots[name].function.until_ready()  # type: ignore[index,union-attr]
