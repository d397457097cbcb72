"""Response stage: what CloudFront does to a response before the viewer gets it — automatic
compression of an origin body, the behaviour's response headers policy, and CloudFront's own
headers (``X-Cache``, ``Via``, ``X-Amz-Cf-Pop``, ``X-Amz-Cf-Id``; ``Server: CloudFront`` on the
responses it or a function generated)."""

from __future__ import annotations

from edgesim.distribution.model import Behavior
from edgesim.edge.compression import (
    StreamEncoder,
    choose_encoding,
    compressible,
    response_headers_for,
)
from edgesim.edge.event_codec import wire_name
from edgesim.edge.flow import EdgeResponse, OriginBody, XCache
from edgesim.edge.message import HOP_BY_HOP, EdgeRequest, Headers
from edgesim.edge.response_headers import (
    SERVER_HEADER,
    apply_response_headers_policy,
    cloudfront_response_headers,
)

DEBUG_HEADER = "X-Edgesim-Error"


def from_origin(
    body: OriginBody, status: int, headers: Headers, reason: str | None, *, req: EdgeRequest,
    behavior: Behavior,
) -> EdgeResponse:  # fmt: skip
    """An origin response as it leaves the cache stage: compressed on the way when CloudFront
    would ("Serve compressed files"), before caching, so later hits get the compressed copy."""
    encoding = choose_encoding(
        behavior, req.header("accept-encoding"), http_version=req.http_version, method=req.method
    )
    if encoding is not None and compressible(status, headers):
        headers = response_headers_for(headers, encoding)
        body.encoder = StreamEncoder(encoding)
    x_cache = XCache.MISS if status < 400 else XCache.ERROR
    return EdgeResponse(status, headers, x_cache, body, reason=reason)


def wire_headers(
    response: EdgeResponse,
    req: EdgeRequest,
    behavior: Behavior | None,
    *,
    request_id: str,
    via_id: str,
    debug: bool = False,
) -> list[tuple[str, str]]:
    """The header lines the viewer gets, in order, with CloudFront's capitalisation; with
    ``debug``, an error CloudFront answered itself also carries ``x-edgesim-error`` (its detail
    on one line)."""
    headers = response.headers
    if behavior is not None and behavior.response_headers_policy is not None:
        headers = apply_response_headers_policy(
            headers, behavior.response_headers_policy, request=req
        )
    wire = [(wire_name(n), v) for n, v in headers if n not in HOP_BY_HOP]
    if response.made_by_edge and not any(n.lower() == "server" for n, _ in wire):
        wire.append(SERVER_HEADER)
    wire += cloudfront_response_headers(
        x_cache=response.x_cache,
        pop=req.pop,
        request_id=request_id,
        http_version=req.http_version,
        via_id=via_id,
    )
    if debug and response.detail:
        wire.append((DEBUG_HEADER, _one_line(response.detail)))
    return wire


def _one_line(text: str) -> str:
    """A header value: one line, printable ASCII (other characters escaped)."""
    flat = " ".join(text.split())
    return flat.encode("ascii", "backslashreplace").decode("ascii")[:2000]
