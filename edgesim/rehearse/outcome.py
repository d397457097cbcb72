"""One recorded request through one version: the pipeline's own stages (behaviour, viewer
checks, viewer-request function, viewer-response function) with the origin stubbed, reduced to an
:class:`Outcome` that two versions can be compared on.

Nothing leaves the process: no origin is called (its answer is the recorded one, or a configured
default), no cache is consulted (every request is treated as a miss, so a viewer-response
function always sees the origin's answer).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import cast

from edgesim.edge.flow import EdgeResponse, Flow, GeneratedBody, OriginBody, XCache
from edgesim.edge.message import EdgeRequest, Headers
from edgesim.edge.origin import OriginResponse
from edgesim.edge.stages import functions as function_stage
from edgesim.edge.stages import viewer as viewer_stage
from edgesim.rehearse.traffic import OriginStub
from edgesim.rehearse.versions import Version

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Forwarded:
    """The request as it would go to the origin."""

    origin: str
    method: str
    uri: str
    query: str | None
    headers: Pairs  # sorted; cookies apart
    cookies: Pairs


@dataclass(frozen=True)
class Outcome:
    """What the viewer (and the origin) would get. Equal outcomes = no change."""

    status: int
    x_cache: str
    forwarded: Forwarded | None  # None: answered at the edge (generated, redirect, error)
    headers: Pairs  # the response's headers, sorted
    body_sha: str | None = None  # a generated body's digest
    error: str | None = None  # "execution: TypeError: …" when a function failed

    @property
    def location(self) -> str | None:
        return _first(self.headers, "location")

    def summary(self) -> str:
        if self.error is not None:
            return f"{self.status} {self.error}"
        if self.location is not None:
            return f"{self.status} → {self.location}"
        if self.forwarded is not None:
            f = self.forwarded
            target = f.uri if f.query is None else f"{f.uri}?{f.query}"
            return f"{self.status} via {f.origin} {f.method} {target}"
        return f"{self.status} ({self.x_cache})"


class _Released:
    """Stands in for the origin's response object: there is no connection to give back."""

    def release(self) -> None:
        return None


_NO_CONNECTION = cast(OriginResponse, _Released())


@dataclass
class Admitted:
    """A record after the viewer stage (the same for both versions: it does not depend on
    functions or data): the request with its CloudFront-* headers, or CloudFront's refusal."""

    flow: Flow
    refused: EdgeResponse | None


def admit(flow: Flow) -> Admitted:
    refused = viewer_stage.admit(flow, https_port=None)
    return Admitted(flow, refused)


def run(admitted: Admitted, version: Version, origin: OriginStub) -> Outcome:
    """The outcome of ``admitted`` under ``version``, the origin answering ``origin``."""
    if admitted.refused is not None:
        return outcome_of(admitted.refused, None)
    base = admitted.flow
    req = _copy_request(base.request)  # the stages may change it and its headers
    flow = Flow(
        req, version.dist, base.request_id, base.received_ms,
        viewer_request=base.viewer_request, behavior=base.behavior, origin=base.origin,
    )  # fmt: skip
    functions = version.functions
    answered = function_stage.run_viewer_request(flow, functions, flow.received_ms)
    if answered is not None:
        return outcome_of(answered, None)
    forwarded = _forwarded(flow)
    response = EdgeResponse(
        origin.status,
        list(origin.headers),
        XCache.MISS if origin.status < 400 else XCache.ERROR,
        OriginBody(_NO_CONNECTION),
    )
    if function_stage.viewer_response_applies(flow, response):
        response = function_stage.run_viewer_response(flow, functions, response, flow.received_ms)
    return outcome_of(response, forwarded)


def _copy_request(request: EdgeRequest) -> EdgeRequest:
    """A shallow copy with its own header list (what copy.copy and a new list give, in a
    tenth of the time: the request is a plain dataclass, its fields in its __dict__)."""
    req = object.__new__(EdgeRequest)
    req.__dict__.update(request.__dict__)
    req.headers = list(request.headers)
    return req


def outcome_of(response: EdgeResponse, forwarded: Forwarded | None) -> Outcome:
    source = response.source
    body = None
    if isinstance(source, GeneratedBody) and response.x_cache != XCache.ERROR:
        body = hashlib.sha1(source.data, usedforsecurity=False).hexdigest()[:16]
    error = None
    if response.x_cache in _FUNCTION_ERRORS:
        # Without the file:line:col, which moves whenever the code is edited.
        error = _POSITION.sub("", response.detail or str(response.x_cache))
    return Outcome(
        status=response.status,
        x_cache=str(response.x_cache),
        forwarded=forwarded if error is None else None,
        headers=tuple(sorted(response.headers)),
        body_sha=body,
        error=error,
    )


_POSITION = re.compile(r" at \S+:\d+:\d+(?=:)")
_FUNCTION_ERRORS = frozenset(
    {
        XCache.FUNCTION_EXECUTION_ERROR,
        XCache.FUNCTION_VALIDATION_ERROR,
        XCache.FUNCTION_THROTTLED,
    }
)


def _forwarded(flow: Flow) -> Forwarded:
    req: EdgeRequest = flow.request
    target = flow.origin
    if isinstance(target, str):
        origin = target
    elif hasattr(target, "members"):
        origin = "+".join(m.id if m.id else m.url for m in target.members)
    else:
        origin = target.id
    headers: Headers = [(n, v) for n, v in req.headers if n != "cookie"]
    return Forwarded(
        origin=origin,
        method=req.method,
        uri=req.path,
        query=req.query,
        headers=tuple(sorted(headers)),
        cookies=tuple(req.cookies()),
    )


def _first(pairs: Pairs, name: str) -> str | None:
    for key, value in pairs:
        if key == name:
            return value
    return None
