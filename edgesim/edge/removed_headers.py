"""The origin's response headers that CloudFront removes or replaces before the viewer gets them.

Developer Guide, "Request and response behavior for custom origins" → "HTTP response headers that
CloudFront removes or replaces", and the same list for Amazon S3 origins (without ``Vary``):

- ``Set-Cookie``: forwarded to the viewer only when the behaviour forwards cookies to the origin.
  "Caching content based on cookies": with cookies not forwarded, CloudFront "removes
  ``Set-Cookie`` headers from responses before returning responses to your viewers". Under
  cache and origin request policies, cookies are forwarded when either policy selects any.
- ``Trailer``, ``Upgrade``, ``Transfer-Encoding`` (set to ``chunked`` when the origin sent it):
  hop-by-hop fields, never copied between the two connections (``message.HOP_BY_HOP``); the
  viewer's framing is the listener's.
- ``Vary``: kept are ``Accept-Encoding`` and ``Cookie``, the names of headers forwarded to the
  origin, and ``User-Agent`` when a device header (``CloudFront-Is-*-Viewer``) is forwarded;
  "any other values" are removed. ``*`` ("Content negotiation"): with a minimum TTL of 0 it
  only makes every request go to the origin; with another minimum TTL it is handled like other
  values, so removed. What is sent with a minimum TTL of 0 is not stated: kept (unverified).
- ``Via``: "CloudFront sets the value" to its own. Responses seen through two CloudFront hops
  (an edge-optimised API Gateway or Amplify behind a distribution, e.g.
  aws-amplify/amplify-hosting#592) carry one ``Via`` line with the origin's value first and
  CloudFront's appended, so edgesim appends (see ``stages.response.wire_headers``).

Not in the list, seen in the same responses: the origin's ``X-Cache`` and ``X-Amz-Cf-Id`` are
replaced by CloudFront's (one line each), while its ``X-Amz-Cf-Pop`` stays next to CloudFront's.
"""

from __future__ import annotations

from edgesim.distribution.model import Behavior
from edgesim.edge.compiled import CompiledBehavior, compiled
from edgesim.edge.message import Headers

# Vary values CloudFront always passes ("If you configure your origin to include either
# Accept-Encoding or Cookie in the Vary header, CloudFront includes the values").
_VARY_ALWAYS = frozenset({"accept-encoding", "cookie"})
_DEVICE_HEADERS = (
    "cloudfront-is-desktop-viewer",
    "cloudfront-is-mobile-viewer",
    "cloudfront-is-smarttv-viewer",
    "cloudfront-is-tablet-viewer",
)
# The origin's own copies of these are replaced by CloudFront's (observed, see above).
REPLACED_BY_CLOUDFRONT = frozenset({"x-cache", "x-amz-cf-id"})


def origin_response_headers(headers: Headers, behavior: Behavior) -> Headers:
    """``headers`` (an origin response's, lower-case names) as CloudFront keeps them: without
    ``Set-Cookie`` when the behaviour forwards no cookie, with ``Vary`` pruned. Every other line
    is kept as it came, in order (hop-by-hop fields are already gone). Runs on every origin
    response: the common case (no Set-Cookie, nothing to prune) returns ``headers`` itself."""
    if not [name for name, _ in headers if name in _TOUCHED]:
        return headers
    rules = compiled(behavior)
    drop_cookies = rules.origin_cookies.nothing
    out: Headers = []
    for name, value in headers:
        if name == "set-cookie" and drop_cookies:
            continue
        if name == "vary":
            kept = _pruned_vary(value, rules)
            if kept is None:
                continue
            value = kept
        out.append((name, value))
    return out


_TOUCHED = frozenset({"set-cookie", "vary"})


def _pruned_vary(value: str, rules: CompiledBehavior) -> str | None:
    """The ``Vary`` value with only the names CloudFront passes; None when every name was
    removed. A value with nothing removed (an empty one too) is returned exactly as received."""
    tokens = [token.strip() for token in value.split(",") if token.strip()]
    kept = [token for token in tokens if _vary_kept(token.lower(), rules)]
    if len(kept) == len(tokens):
        return value
    return ", ".join(kept) if kept else None


def _vary_kept(name: str, rules: CompiledBehavior) -> bool:
    if name in _VARY_ALWAYS:
        return True
    if name == "*":
        return rules.behavior.cache_policy.min_ttl == 0
    if name == "user-agent" and any(rules.names_header(h) for h in _DEVICE_HEADERS):
        return True
    return rules.names_header(name)
