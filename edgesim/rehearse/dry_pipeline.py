"""One recorded viewer request through a distribution the way ``serve`` runs it, Lambda@Edge
included, up to the origin and back, without a cache and without calling any origin: the
viewer stage (POP, country, refusals, behaviour), the viewer-request function or lambda, the
request CloudFront would send (``origin_stage.build_request``), the origin-request lambda; then
the origin's answer (recorded, or a configured default) through the origin-response lambda and
the viewer-response function or lambda.

The result is a :class:`DryOutcome` normalised so that two versions whose code differs in kind
(an origin-request lambda, a viewer-request function) can be compared on what matters: the
request as it reaches the origin, or the response generated instead, or the error.

Normalisation (see docs/lambda-edge.md, "Migration check"): header names compared without
case, headers of different names unordered (values of one name keep their order), cookies as a
sorted list, ``Host`` without case and port, CloudFront's per-request ``X-Amz-Cf-Id`` left
out, the origin as the URL and path the request goes to (not the origin's id, which a lambda's
``request.origin`` does not keep).
Both versions run a request with the same request id, time and viewer address.

The path mirrors :class:`edgesim.edge.proxy.EdgeProxy` (``_process`` and ``_fetch``) minus the
cache and the origin call: every request is a miss, the primary origin of a group answers.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import cast

from edgesim.distribution.model import Distribution, LambdaAssociation, Origin
from edgesim.edge.compiled import compile_distribution
from edgesim.edge.event_codec import function_host
from edgesim.edge.flow import EdgeResponse, Flow, GeneratedBody, OriginBody, XCache
from edgesim.edge.functions import FunctionRegistry
from edgesim.edge.lambdas import LambdaRegistry
from edgesim.edge.message import Headers
from edgesim.edge.origin import OriginRequest, OriginResponse
from edgesim.edge.response_headers import via_host_id
from edgesim.edge.stages import functions as function_stage
from edgesim.edge.stages import lambdas as lambda_stage
from edgesim.edge.stages import origin as origin_stage
from edgesim.edge.stages import response as response_stage
from edgesim.edge.stages import viewer as viewer_stage
from edgesim.edge.stages.cache import as_cached
from edgesim.edge.viewer import CONTROL_HEADERS, ViewerResolver
from edgesim.errors import InputError
from edgesim.rehearse.airports import PopMapper
from edgesim.rehearse.traffic import OriginStub, TrafficRecord
from edgesim.rehearse.versions import Version, build_version, current_data

Grouped = tuple[tuple[str, tuple[str, ...]], ...]  # (lower-case name, its values in order), sorted
_NO_BODY = frozenset({"GET", "HEAD"})
# Per-request values CloudFront adds that differ between any two runs (not code's doing).
_PER_REQUEST = frozenset({"x-amz-cf-id"})
_POSITION = re.compile(r" at \S+:\d+:\d+(?=:)")
_ERRORS = frozenset(
    {
        XCache.FUNCTION_EXECUTION_ERROR,
        XCache.FUNCTION_VALIDATION_ERROR,
        XCache.FUNCTION_THROTTLED,
        XCache.LAMBDA_EXECUTION_ERROR,
        XCache.LAMBDA_VALIDATION_ERROR,
        XCache.LAMBDA_LIMIT_EXCEEDED,
    }
)
_GENERATED = frozenset({XCache.FUNCTION_GENERATED, XCache.LAMBDA_GENERATED})


@dataclass(frozen=True)
class OriginCall:
    """The request as it reaches the origin."""

    origin: str  # scheme://host[:port] + the origin path
    method: str
    uri: str
    query: str | None
    headers: Grouped  # without Cookie and X-Amz-Cf-Id
    cookies: tuple[str, ...]  # "name=value", sorted
    body_sha: str | None  # a body a lambda read or replaced, else the recorded one

    @property
    def target(self) -> str:
        return self.uri if self.query is None else f"{self.uri}?{self.query}"


@dataclass(frozen=True)
class DryOutcome:
    """What one version does with one request; equal outcomes = no change."""

    status: int
    kind: str  # "origin" (went to the origin) | "generated" (by code) | "error" | "refused"
    origin_call: OriginCall | None
    headers: Grouped  # the response's headers as the viewer gets them (before CloudFront's own)
    body_sha: str | None = None  # a generated body's digest
    error: str | None = None  # "LambdaExecutionError: lambda x (origin-request): …"

    def summary(self) -> str:
        if self.error is not None:
            return f"{self.status} {self.error}"
        if self.origin_call is not None:
            call = self.origin_call
            return f"{self.status} via {call.origin} {call.method} {call.target}"
        location = dict(self.headers).get("location")
        if location:
            return f"{self.status} {self.kind} → {location[0]}"
        return f"{self.status} {self.kind}"


class _Released:
    """Stands in for the origin's response object: there is no connection to give back."""

    def release(self) -> None:
        return None


_NO_CONNECTION = cast(OriginResponse, _Released())


class DryVersion:
    """A distribution's functions (over its stores' seed data) and lambdas (Node.js workers,
    started on first use), ready to run records; :meth:`close` stops the workers."""

    def __init__(self, label: str, dist: Distribution, default_origin: OriginStub) -> None:
        compile_distribution(dist)
        self.label = label
        self.dist = dist
        self.default_origin = default_origin
        self.version: Version = build_version(label, dist, data=current_data(dist))
        self.functions: FunctionRegistry = self.version.functions
        self._now_ms = 0.0
        self.lambdas = LambdaRegistry(dist, clock_ms=lambda: self._now_ms)
        self.resolver = ViewerResolver(dist.edges)
        self.pops = PopMapper(dist.edges.pops)
        self.via_id = via_host_id(dist.server.domain_name)

    async def check(self) -> None:
        """Load every lambda's module now: one that does not load is bad input."""
        errors = await self.lambdas.check() if self.lambdas else []
        if errors:
            raise InputError(f"{self.label} version: " + "; ".join(errors))

    async def close(self) -> None:
        await self.lambdas.close()

    # -- one request --------------------------------------------------------------------------
    async def run(self, record: TrafficRecord, request_id: str) -> DryOutcome:
        dist = self.dist
        req = record.edge_request()
        req.headers = [(n, v) for n, v in req.headers if not _dropped_on_arrival(n)]
        req.pop = self.pops.map(req.pop) if req.pop else dist.edges.pops[0]
        if not req.country:
            req.country = self.resolver.country_for(req)
        self._now_ms = record.time_ms
        flow = Flow(req, dist, request_id, record.time_ms)
        flow.viewer_request = req  # as the viewer stage keeps it (serve's place())
        refused = viewer_stage.admit(flow, https_port=None)
        if refused is not None:
            return _outcome(refused, None, kind="refused")
        behavior = flow.behavior
        assert behavior is not None
        answered = function_stage.run_viewer_request(flow, self.functions, record.time_ms)
        if answered is not None:
            return _outcome(answered, None)
        if behavior.lambdas and self.lambdas:
            association = behavior.lambda_at("viewer-request")
            if association is not None:
                body = record.body if association.include_body else None
                answered = await lambda_stage.run_viewer_request(
                    flow, self.lambdas, association, body
                )
                if answered is not None:
                    return _outcome(answered, None)
        if behavior.trusted_key_groups and dist.private_content.after_function:
            refused = viewer_stage.private_content(flow, behavior)
            if refused is not None:
                return _outcome(refused, None, kind="refused")
        return await self._to_origin(flow, record)

    async def _to_origin(self, flow: Flow, record: TrafficRecord) -> DryOutcome:
        dist, behavior = flow.dist, flow.behavior
        assert behavior is not None
        req = as_cached(flow.request)
        body: bytes | None = None
        if req.method not in _NO_BODY:
            body = flow.request_body if flow.request_body is not None else record.body
        try:
            origin = origin_stage.route_for(dist, flow.origin).members[0]
        except KeyError as exc:  # an origin the config does not have: serve would fail too
            raise InputError(f"{self.label} version: no origin {exc}") from None
        outgoing = origin_stage.build_request(
            req, behavior, origin, request_id=flow.request_id, via_id=self.via_id, body=body
        )
        lambdas = self.lambdas if behavior.lambdas and self.lambdas else None
        on_request = behavior.lambda_at("origin-request") if lambdas else None
        on_response = behavior.lambda_at("origin-response") if lambdas else None
        stub = record.origin or self.default_origin
        status, reason, headers = stub.status, None, list(stub.headers)
        generated_body: bytes | None = None
        call: OriginCall | None = None
        try:
            if lambdas is not None and (on_request is not None or on_response is not None):
                hook = lambda_stage.origin_hook(flow, lambdas, on_request)
                outgoing, origin = await hook(outgoing, origin)
            call = _origin_call(outgoing, origin)
        except lambda_stage.LambdaAnswered as answered:
            made = answered.response
            if made.x_cache != XCache.LAMBDA_GENERATED:
                return _outcome(made, None)
            # Generated at origin request: goes on as the origin's answer would (serve caches
            # it), with no origin-response lambda.
            assert isinstance(made.source, GeneratedBody)
            status, reason, headers = made.status, made.reason, list(made.headers)
            generated_body, on_response = made.source.data, None
        if on_response is not None and lambdas is not None:
            changed = await lambda_stage.run_origin_response(
                flow, lambdas, on_response, flow.origin_event_request or {}, status, reason,
                headers,
            )  # fmt: skip
            if isinstance(changed, EdgeResponse):
                return _outcome(changed, call)
            status, reason, headers, replaced = changed
            if replaced is not None:
                generated_body = replaced
        source = OriginBody(_NO_CONNECTION)
        response = response_stage.from_origin(
            source, status, headers, reason, req=req, behavior=behavior
        )
        source.encoder = None  # nothing is streamed
        if call is None:
            response.x_cache = XCache.LAMBDA_GENERATED
        # The body stays an origin body for the viewer-response code, as in serve (where a
        # lambda's body travels as the origin response's); its digest is compared.
        response = await self._viewer_response(flow, response, lambdas)
        kind = "origin" if call is not None else "generated"
        return _outcome(response, call, kind=kind, body=generated_body)

    async def _viewer_response(
        self, flow: Flow, response: EdgeResponse, lambdas: LambdaRegistry | None
    ) -> EdgeResponse:
        if function_stage.viewer_response_applies(flow, response):
            return function_stage.run_viewer_response(
                flow, self.functions, response, flow.received_ms
            )
        if lambdas is not None:
            association: LambdaAssociation | None = lambda_stage.viewer_response_applies(
                flow, response
            )
            if association is not None:
                return await lambda_stage.run_viewer_response(
                    flow, lambdas, association, response, lambda_stage.viewer_event_request(flow)
                )
        return response


def _dropped_on_arrival(name: str) -> bool:
    # As the viewer stage drops them on arrival: edgesim's control headers and the CloudFront-*
    # headers only CloudFront may set (a hand-written recording may hold them).
    return name in CONTROL_HEADERS or viewer_stage.is_cloudfront_generated(name)


def _origin_call(outgoing: OriginRequest, origin: Origin) -> OriginCall:
    headers: Headers = []
    cookies: list[str] = []
    for name, value in outgoing.headers:
        lower = name.lower()
        if lower in _PER_REQUEST:
            continue
        if lower == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        elif lower == "host":
            # Without case and port: a CloudFront Function sees (and passes on) the Host so
            # (edgesim.edge.event_codec.function_host), a lambda the viewer's spelling; a viewer
            # of CloudFront reaches port 80 or 443 only, and a recording made through serve
            # carries serve's local port.
            headers.append((lower, function_host(value)))
        else:
            headers.append((lower, value))
    body = outgoing.body if isinstance(outgoing.body, bytes) else None
    return OriginCall(
        origin=origin.url + origin.origin_path,
        method=outgoing.method,
        uri=outgoing.path,
        query=outgoing.query,
        headers=grouped(headers),
        cookies=tuple(sorted(cookies)),
        body_sha=_digest(body) if body else None,
    )


def grouped(pairs: Headers) -> Grouped:
    """Headers by lower-case name (names sorted, each name's values in their order)."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name.lower(), []).append(value)
    return tuple((name, tuple(out[name])) for name in sorted(out))


def _digest(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()[:16]


def _outcome(
    response: EdgeResponse, call: OriginCall | None, kind: str = "", body: bytes | None = None
) -> DryOutcome:
    """``body``: the body an origin-request or origin-response lambda made, which the viewer
    gets unless viewer-response code replaced it."""
    x_cache = response.x_cache
    error = None
    if x_cache in _ERRORS:
        # Without the file:line:col, which moves whenever the code is edited.
        error = f"{x_cache}: " + _POSITION.sub("", response.detail or "")
        kind, call = "error", None
    elif not kind:
        kind = "generated" if x_cache in _GENERATED else "refused"
    source = response.source
    digest = None
    if isinstance(source, GeneratedBody) and error is None:
        digest = _digest(source.data)
    elif body is not None and error is None:
        digest = _digest(body)
    return DryOutcome(
        status=response.status,
        kind=kind,
        origin_call=call,
        headers=grouped(response.headers),
        body_sha=digest,
        error=error,
    )
