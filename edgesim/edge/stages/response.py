"""Response stage: what CloudFront does to a response before the viewer gets it — the origin's
headers it removes or replaces (``edgesim.edge.removed_headers``), automatic compression of an
origin body, the behaviour's response headers policy, and CloudFront's own headers
(``X-Cache``, ``Via``, ``X-Amz-Cf-Pop``, ``X-Amz-Cf-Id``; ``Server: CloudFront`` on the
responses it or a function generated). ``Date`` when none was sent: ``edge.delivery``."""

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
from edgesim.edge.removed_headers import REPLACED_BY_CLOUDFRONT, origin_response_headers
from edgesim.edge.response_headers import (
    SERVER_HEADER,
    apply_response_headers_policy,
    cloudfront_response_headers,
)

DEBUG_HEADER = "X-Edgesim-Error"
_VIA_SLOT = ("Via", "")  # where the response's own Via stood (replaced by identity)
# Response headers that do not go out as they came: dropped, or (Via) merged with CloudFront's.
_NOT_AS_SENT = HOP_BY_HOP | REPLACED_BY_CLOUDFRONT | {"via"}


def from_origin(
    body: OriginBody, status: int, headers: Headers, reason: str | None, *, req: EdgeRequest,
    behavior: Behavior,
) -> EdgeResponse:  # fmt: skip
    """An origin response as it leaves the cache stage: without the headers CloudFront removes
    (``Set-Cookie`` when no cookie is forwarded, ``Vary`` values it does not honour), compressed
    on the way when CloudFront would ("Serve compressed files") — before caching, so later hits
    get what the first viewer got."""
    headers = origin_response_headers(headers, behavior)
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
    own = cloudfront_response_headers(
        x_cache=response.x_cache,
        pop=req.pop,
        request_id=request_id,
        http_version=req.http_version,
        via_id=via_id,
    )
    # Response headers are lower-case (a policy's as configured). The usual response has no Via
    # of its own: its lines are only renamed (and any CloudFront replaces dropped).
    wire = [(wire_name(name), value) for name, value in headers if name not in _NOT_AS_SENT]
    via: list[str] = []  # the response's own Via values (an origin behind another proxy)
    if len(wire) != len(headers) and any(name == "via" for name, _ in headers):
        wire = []
        for name, value in headers:
            if name in _NOT_AS_SENT:
                if name == "via":
                    if not via:
                        wire.append(_VIA_SLOT)
                    via.append(value)
                continue
            wire.append((wire_name(name), value))
    if via:
        # One Via line where the response had its first, CloudFront's entry appended (as seen
        # through two CloudFront hops; see edgesim.edge.removed_headers).
        ours = next(value for name, value in own if name == "Via")
        joined = ", ".join([*(v.strip() for v in via if v.strip()), ours])
        wire = [("Via", joined) if line is _VIA_SLOT else line for line in wire]
        own = [(name, value) for name, value in own if name != "Via"]
    if response.made_by_edge and not any(n.lower() == "server" for n, _ in wire):
        wire.append(SERVER_HEADER)
    wire += own
    if debug and response.detail:
        wire.append((DEBUG_HEADER, _one_line(response.detail)))
    return wire


def _one_line(text: str) -> str:
    """A header value: one line, printable ASCII (other characters escaped)."""
    flat = " ".join(text.split())
    return flat.encode("ascii", "backslashreplace").decode("ascii")[:2000]
