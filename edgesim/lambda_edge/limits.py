"""Lambda@Edge quotas and restrictions, in one place.

Sources (AWS CloudFront Developer Guide):
- "Quotas" → "Quotas on Lambda@Edge" (cloudfront-limits.html#limits-lambda-at-edge): memory,
  timeout, generated-response size and package size differ between viewer and origin events.
- "Restrictions on Lambda@Edge" (lambda-at-edge-function-restrictions.html): request body
  truncation with the include-body option, CloudFront headers, viewer-response status.
- "Restrictions on all edge functions" (edge-function-restrictions-all.html): disallowed and
  read-only headers per event, query strings, URI + query string under 8,192 characters.
- "Generate HTTP responses in request triggers": status 200–599, 204 with a body.
Sizes given in KB / MB are read as binary (1 KB = 1,024 bytes); AWS does not say which.
"""

from __future__ import annotations

import re

VIEWER_REQUEST = "viewer-request"
VIEWER_RESPONSE = "viewer-response"
ORIGIN_REQUEST = "origin-request"
ORIGIN_RESPONSE = "origin-response"
EVENT_TYPES = (VIEWER_REQUEST, ORIGIN_REQUEST, ORIGIN_RESPONSE, VIEWER_RESPONSE)
REQUEST_EVENTS = (VIEWER_REQUEST, ORIGIN_REQUEST)
RESPONSE_EVENTS = (ORIGIN_RESPONSE, VIEWER_RESPONSE)
VIEWER_EVENTS = (VIEWER_REQUEST, VIEWER_RESPONSE)

KB = 1024
MB = 1024 * 1024

# Quotas that differ by event type (viewer events, origin events).
MAX_MEMORY_MB = {"viewer": 128, "origin": 10_240}  # origin: "same as Lambda quotas" (10,240 MB)
MAX_TIMEOUT_S = {"viewer": 5, "origin": 30}
MAX_GENERATED_RESPONSE_BYTES = {"viewer": 40 * KB, "origin": 1 * MB}
MAX_PACKAGE_BYTES = {"viewer": 1 * MB, "origin": 50 * MB}

# Include-body option: CloudFront base64-encodes the body and truncates it before the function
# sees it (viewer request 40 KB, origin request 1 MB); a replaced body over the limit is
# truncated too (text 40 KB / 1 MB, base64 53.2 KB / 1.33 MB).
MAX_INPUT_BODY_BYTES = {"viewer": 40 * KB, "origin": 1 * MB}
MAX_REPLACED_TEXT_BODY_BYTES = {"viewer": 40 * KB, "origin": 1 * MB}
MAX_REPLACED_BASE64_BODY_BYTES = {"viewer": int(53.2 * KB), "origin": int(1.33 * MB)}

# "The total size of the URI, including the query string, must be less than 8,192 characters."
MAX_URI_AND_QUERY = 8_192

# The emulated execution role's temporary credentials every lambda receives (AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) unless [lambda] credentials says otherwise; the
# signature-checking local S3 origins accept them.
EMULATED_ROLE_CREDENTIALS = (
    "ASIAEDGESIMLAMBDAROLE",
    "edgesim+emulated+lambda+execution+role+key",
    "edgesim-emulated-session-token",
)

# Lambda defaults when a function does not say (AWS Lambda Developer Guide: 3 s, 128 MB).
DEFAULT_TIMEOUT_S = 3.0
DEFAULT_MEMORY_MB = 128
# What Lambda itself accepts for any function (AWS Lambda Developer Guide, "Configure function
# timeout": up to 900 s; "Configure memory": 128 MB to 10,240 MB).
MAX_LAMBDA_TIMEOUT_S = 900
MIN_MEMORY_MB = 128
# Lambda's init phase (module load) is limited to 10 seconds ("Lambda execution environment
# lifecycle", Init phase).
INIT_TIMEOUT_S = 10.0

# Headers not exposed to edge functions, which functions cannot add (502 when they do).
DISALLOWED_HEADERS = frozenset(
    {
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "trailer",
        "upgrade",
        "x-accel-buffering",
        "x-accel-charset",
        "x-accel-limit-rate",
        "x-accel-redirect",
        "x-amzn-auth",
        "x-amzn-cf-billing",
        "x-amzn-cf-id",
        "x-amzn-cf-xff",
        "x-amzn-errortype",
        "x-amzn-fle-profile",
        "x-amzn-header-count",
        "x-amzn-header-order",
        "x-amzn-lambda-integration-tag",
        "x-amzn-requestid",
        "x-cache",
        "x-forwarded-proto",
        "x-real-ip",
    }
)
DISALLOWED_PREFIXES = ("x-amz-cf-", "x-edge-")

# Read-only headers per event: a function may read them, adding or changing one fails validation.
READ_ONLY_HEADERS = {
    VIEWER_REQUEST: frozenset({"content-length", "host", "transfer-encoding", "via"}),
    ORIGIN_REQUEST: frozenset(
        {
            "accept-encoding",
            "content-length",
            "if-modified-since",
            "if-none-match",
            "if-range",
            "if-unmodified-since",
            "transfer-encoding",
            "via",
        }
    ),
    ORIGIN_RESPONSE: frozenset({"transfer-encoding", "via"}),
    VIEWER_RESPONSE: frozenset({"warning", "via"}),
}

# "CloudFront-Viewer-Country header – If a viewer request function adds this header, it fails
# validation" (Restrictions on Lambda@Edge → CloudFront headers).
VIEWER_REQUEST_FORBIDDEN_ADDS = frozenset({"cloudfront-viewer-country"})

# Runtimes Lambda@Edge accepts that edgesim emulates; Python runtimes are not emulated yet.
NODE_RUNTIMES = ("nodejs18.x", "nodejs20.x", "nodejs22.x")

_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def event_class(event_type: str) -> str:
    """``viewer`` or ``origin``: the column of the quota tables an event falls in."""
    return "viewer" if event_type in VIEWER_EVENTS else "origin"


def is_disallowed_header(name: str) -> bool:
    lower = name.lower()
    return lower in DISALLOWED_HEADERS or lower.startswith(DISALLOWED_PREFIXES)


def looks_like_ip(host: str) -> bool:
    return bool(_IPV4.match(host)) or ":" in host


def check_function_limits(event_type: str, *, timeout_s: float, memory_mb: int) -> list[str]:
    """What a function's settings break for ``event_type`` (empty: fine), each naming the quota."""
    cls = event_class(event_type)
    problems = []
    if timeout_s > MAX_TIMEOUT_S[cls]:
        problems.append(
            f"timeout {timeout_s:g} s is over the {MAX_TIMEOUT_S[cls]} s quota for {cls} events "
            "(Quotas on Lambda@Edge)"
        )
    if memory_mb > MAX_MEMORY_MB[cls]:
        problems.append(
            f"memory {memory_mb} MB is over the {MAX_MEMORY_MB[cls]:,} MB quota for {cls} events "
            "(Quotas on Lambda@Edge)"
        )
    return problems
