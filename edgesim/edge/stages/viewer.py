"""Viewer stage: where the request landed (POP, country), what CloudFront refuses before any
code runs, which behaviour applies, and the CloudFront-* headers the policies ask for."""

from __future__ import annotations

import dataclasses

from edgesim import limits
from edgesim.distribution.model import Behavior, Distribution
from edgesim.distribution.patterns import select_behavior
from edgesim.edge import signed_urls
from edgesim.edge.compiled import compiled
from edgesim.edge.flow import EdgeResponse, Flow, XCache, generated
from edgesim.edge.message import EdgeRequest, Headers
from edgesim.edge.viewer import CONTROL_HEADERS, ViewerResolver, cloudfront_viewer_headers
from edgesim.errors import InputError

# "The maximum length of a request, including the path, the query string (if any), and headers,
# is 20,480 bytes. [...] If a request or a URL exceeds these maximums, CloudFront returns HTTP
# status code 413, Request Entity Too Large, to the viewer, and then terminates the TCP connection
# to the viewer." (Developer Guide, "Request and response behavior for custom origins", "Maximum
# length of a request and maximum length of a URL"; the S3-origin page says the same). No limit
# on the number of headers is documented. Such requests are not in the standard logs.
MAX_REQUEST_BYTES = 20_480
TOO_LARGE = "Request Entity Too Large: the request line and headers exceed 20,480 bytes."
# A request target that is not a path (absolute-form "GET http://host/path", or "*"): what
# CloudFront does with it is not documented, so edgesim refuses it rather than guess.
NOT_A_PATH = (
    "Bad Request: the request target must be a path such as /index.html. edgesim does not "
    "accept absolute-form targets (GET http://host/path, as sent to a forward proxy) or '*': "
    "what CloudFront does with them is not documented."
)

_METHOD_NOT_ALLOWED = (
    "This distribution is not configured to allow the HTTP request method that was used for "
    "this request."
)


def place(flow: Flow, resolver: ViewerResolver) -> EdgeResponse | None:
    """Decide the POP and country, drop control headers; a response when CloudFront would refuse
    the request before choosing a behaviour (unknown POP header: 400; request line and headers
    over 20,480 bytes or a URL of 8,192 characters or more: 413; a target that is not a path:
    400)."""
    req = flow.request
    edge_headers = _has_edge_headers(req.headers)
    if edge_headers:
        try:
            req.pop = resolver.pop_for(req)
            req.country = resolver.country_for(req)
        except InputError as exc:
            req.pop = flow.dist.edges.pops[0]
            return generated(400, str(exc), XCache.ERROR)
    else:  # the usual request: no control header to read, nothing to drop
        req.pop = resolver.pop_at(req.client_ip)
        req.country = resolver.country_at(req.client_ip)
    if req.head_bytes > MAX_REQUEST_BYTES:
        return too_large(flow, f"the request line and headers are {req.head_bytes:,} bytes")
    if not req.path.startswith("/"):
        response = generated(400, NOT_A_PATH, XCache.ERROR)
        response.detail = f"request target {_clip(req.target)!r} is not a path"
        return response
    target_length = len(req.path) if req.query is None else len(req.path) + 1 + len(req.query)
    if target_length >= limits.MAX_URI_AND_QUERY_CHARS:
        # 413 as for the request's length: the Developer Guide ("Maximum length of a request and
        # maximum length of a URL") names 413 when "a request or a URL" exceeds its maximum.
        return too_large(
            flow,
            f"the URL is {target_length:,} characters",
            f"under {limits.MAX_URI_AND_QUERY_CHARS:,} characters",
        )
    if edge_headers:
        # Control headers never go further; CloudFront-* viewer headers are CloudFront's to set,
        # so a viewer cannot spoof them (their values come from add_cloudfront_headers only).
        req.headers = [
            (n, v)
            for n, v in req.headers
            if not (
                n.startswith(_EDGE_PREFIXES)
                and (n in CONTROL_HEADERS or is_cloudfront_generated(n))
            )
        ]
    flow.viewer_request = req
    return None


def too_large(flow: Flow, why: str, limit: str = f"{MAX_REQUEST_BYTES:,}") -> EdgeResponse:
    """CloudFront's answer to a request or URL over its length limit: 413, the connection
    closed, and nothing in the standard logs."""
    response = generated(413, TOO_LARGE, XCache.ERROR)
    response.detail = f"{why}; CloudFront's limit is {limit}"
    response.close_connection = True
    flow.standard_log = False
    return response


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


GEO_BLOCKED = "geo restriction: the viewer's country is not allowed"


def admit(flow: Flow, *, https_port: int | None = None) -> EdgeResponse | None:
    """Choose the behaviour and apply what it refuses (geo restriction, method, GET body,
    viewer protocol policy); on success the request carries the CloudFront-* headers its
    policies name."""
    req = flow.request
    dist = flow.dist
    if dist.default_root_object and req.path == "/":
        # "a request for the root URL returns the default root object" (Developer Guide,
        # "Specify a default root object"); only the root, never a subdirectory. Done before
        # the behaviour is chosen, so behaviours and functions see the object's path
        # (unverified: CloudFront does not document the order).
        req = flow.request = dataclasses.replace(req, path="/" + dist.default_root_object)
    if dist.geo_restriction.restriction_type != "none" and not _country_allowed(dist, req.country):
        # Developer Guide, "Restrict the geographic distribution of your content": CloudFront
        # answers 403 (Forbidden); a custom error page for 403 applies.
        response = generated(403, "The request could not be satisfied.", XCache.ERROR)
        response.detail = GEO_BLOCKED + f" ({req.country})"
        return response
    behavior = flow.behavior = select_behavior(dist, req.path)
    flow.origin = behavior.origin
    if req.method not in behavior.allowed_methods:
        return generated(403, _METHOD_NOT_ALLOWED, XCache.ERROR)
    if req.method == "GET" and req.has_body:
        # Developer Guide, "HTTP status codes": CloudFront returns 403 for a GET request that
        # includes a body.
        return generated(403, "GET requests with a body are not allowed.", XCache.ERROR)
    if req.scheme != "https":
        if behavior.viewer_protocol_policy == "https-only":
            return generated(403, "HTTPS is required for this path.", XCache.ERROR)
        if behavior.viewer_protocol_policy == "redirect-to-https":
            # 301 to the HTTPS URL (API reference, ViewerProtocolPolicy); locally the HTTPS
            # listener's port, so the redirect can be followed.
            host = host_without_port(req.header("host") or flow.dist.server.domain_name)
            port = f":{https_port}" if https_port not in (None, 443) else ""
            response = generated(301, "", XCache.REDIRECT)
            # The URL as the viewer asked for it (before the default root object).
            asked = (flow.viewer_request or req).target
            response.headers.append(("location", f"https://{host}{port}{asked}"))
            return response
    if behavior.trusted_key_groups and not flow.dist.private_content.after_function:
        refused = private_content(flow, behavior)
        if refused is not None:
            return refused
        req = flow.request
    add_cloudfront_headers(req, behavior)
    return None


def private_content(flow: Flow, behavior: Behavior) -> EdgeResponse | None:
    """A behaviour with trusted key groups serves only valid signed URLs or signed cookies
    (docs/private-content.md). Checked after the refusals above and before the viewer-request
    function, or after it with ``[private_content] check = "after-function"`` (unverified:
    CloudFront does not document the order), at the edge clock's arrival
    time, against the URL as the viewer asked for it (before the default root object)."""
    req, dist = flow.request, flow.dist
    asked = flow.viewer_request or req
    refusal = signed_urls.check(
        asked,
        keys=signed_urls.trusted_keys(behavior, dist),
        urls=signed_urls.resource_urls(asked, dist),
        now_s=flow.received_ms / 1000,
    )
    if refusal is not None:
        flow.mark("private-content", code=refusal.code, reason=refusal.reason)
        return signed_urls.refusal_response(refusal)
    flow.mark("private-content", code="OK")
    if dist.private_content.strip_signing_parameters:
        query, headers = signed_urls.without_signing(req)
        flow.request = dataclasses.replace(req, query=query, headers=headers)
    return None


def _country_allowed(dist: Distribution, country: str) -> bool:
    geo = dist.geo_restriction
    if geo.restriction_type == "whitelist":
        return country in geo.countries
    if geo.restriction_type == "blacklist":
        return country not in geo.countries
    return True


def add_cloudfront_headers(req: EdgeRequest, behavior: Behavior) -> None:
    """CloudFront-* headers exist for the function and the origin only when a policy names
    them (reference notes B.6)."""
    rules = compiled(behavior)
    if not rules.names_cloudfront_headers:
        return
    for name, value in cloudfront_viewer_headers(req):
        if rules.names_header(name):
            req.headers.append((name, value))


# Every name the viewer may not send on: edgesim's control headers and CloudFront-* ones (a
# cheap first test, made on every header of every request).
_EDGE_PREFIXES = ("x-edgesim-", "cloudfront-")


def _has_edge_headers(headers: Headers) -> bool:
    """Whether any header is a control or CloudFront-* one (rarely: one cheap test a line)."""
    for name, _ in headers:  # noqa: SIM110 - a loop: no generator made per request
        if name.startswith(_EDGE_PREFIXES):
            return True
    return False


def is_cloudfront_generated(name: str) -> bool:
    return name.startswith(("cloudfront-viewer-", "cloudfront-is-")) or name == (
        "cloudfront-forwarded-proto"
    )


def host_without_port(host: str) -> str:
    if host.startswith("["):  # [IPv6]:port
        return host.split("]")[0] + "]"
    return host.split(":")[0]
