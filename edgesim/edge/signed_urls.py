"""Private content: the check a behaviour with trusted key groups makes on every request, and
CloudFront's 403 when it fails.

"When you reference a key group in a cache behavior, CloudFront requires signed URLs or signed
cookies for all requests that match the cache behavior" (API reference, ``CreateKeyGroup``).
"If you use both signed URLs and signed cookies … and a viewer uses a signed URL to request a
file, CloudFront determines whether to return the file to the viewer based only on the signed
URL" (Developer Guide, "Use signed cookies"). The refusals, as CloudFront sends them (AWS
Knowledge Center, "How do I troubleshoot issues related to a signed URL or signed cookies in
CloudFront?"; the XML body as reported in aws/aws-sdk-js#2236): 403 with
``<Error><Code>CODE</Code><Message>MESSAGE</Message></Error>``. The precise reason (which check,
which values) goes to the request log, the inspector and the opt-in ``x-edgesim-error`` header,
never into the body. docs/private-content.md says what is emulated and what is edgesim's choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from edgesim.distribution.model import Behavior, Distribution
from edgesim.distribution.trusted_keys import PublicKey
from edgesim.edge import signed_policy as sp
from edgesim.edge.flow import EdgeResponse, GeneratedBody, XCache
from edgesim.edge.message import EdgeRequest

MISSING_KEY = "MissingKey"
INVALID_KEY = "InvalidKey"
MALFORMED_SIGNATURE = "MalformedSignature"
MALFORMED_POLICY = "MalformedPolicy"
ACCESS_DENIED = "AccessDenied"
MESSAGES = {
    MISSING_KEY: "Missing Key-Pair-Id query parameter or cookie value",
    INVALID_KEY: "Unknown Key",
    MALFORMED_SIGNATURE: "Could not unencode Signature",
    MALFORMED_POLICY: "Malformed Policy",
    ACCESS_DENIED: "Access denied",
}
# Query-string parameters of a signed URL, and the cookies of signed cookies (same roles).
URL_PARAMETERS = ("Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm")
COOKIE_PREFIX = "CloudFront-"
COOKIES = tuple(COOKIE_PREFIX + name for name in URL_PARAMETERS)
# Unverified: CloudFront does not document the Content-Type of these answers.
CONTENT_TYPE = "text/xml"


@dataclass(frozen=True)
class Refusal:
    code: str  # MissingKey, InvalidKey, MalformedSignature, MalformedPolicy, AccessDenied
    reason: str  # for the log and the inspector only

    @property
    def message(self) -> str:
        return MESSAGES[self.code]


@dataclass(frozen=True)
class Credentials:
    """What a signed URL or signed cookies carry (names without the ``CloudFront-`` prefix)."""

    source: str  # "signed URL" | "signed cookies"
    values: Mapping[str, str]

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value else None


def query_pairs(query: str | None) -> list[tuple[str, str]]:
    """The raw ``name=value`` parts of a query string, in order, undecoded."""
    if not query:
        return []
    return [(part.partition("=")[0], part.partition("=")[2]) for part in query.split("&")]


def unsigned_query(query: str | None) -> str | None:
    """The query string without the signed URL's parameters (raw parts, order kept)."""
    if query is None:
        return None
    kept = [part for part in query.split("&") if part.partition("=")[0] not in URL_PARAMETERS]
    return "&".join(kept)


def credentials(req: EdgeRequest) -> Credentials | None:
    """The signed URL's parameters when the URL has any, else the signed cookies; None when the
    request carries neither. The first of repeated names counts (unverified)."""
    found: dict[str, str] = {}
    for name, value in query_pairs(req.query):
        if name in URL_PARAMETERS and name not in found:
            found[name] = unquote(value)
    if found.keys() - {"Hash-Algorithm"}:
        return Credentials("signed URL", found)
    cookies: dict[str, str] = {}
    for name, value in req.cookies():
        if name in COOKIES and name not in cookies:
            cookies[name.removeprefix(COOKIE_PREFIX)] = value
    if cookies.keys() - {"Hash-Algorithm"}:
        return Credentials("signed cookies", cookies)
    return None


def resource_urls(req: EdgeRequest, dist: Distribution) -> tuple[str, ...]:
    """The URLs a policy's resource is compared with: the listener's scheme, the ``Host`` as
    received (port included), the path and the query without the signing parameters; then the
    same URL on ``[server] domain_name`` and on each alias (edgesim's deviation, so that URLs
    signed for production work locally)."""
    query = unsigned_query(req.query)
    tail = req.path + (f"?{query}" if query else "")
    hosts = [req.header("host") or dist.server.domain_name, dist.server.domain_name, *dist.aliases]
    urls: list[str] = []
    for host in hosts:
        url = f"{req.scheme}://{host}{tail}"
        if url not in urls:
            urls.append(url)
    return tuple(urls)


def trusted_keys(behavior: Behavior, dist: Distribution) -> dict[str, bytes]:
    """Key id → PEM of every key in the behaviour's trusted key groups."""
    keys: dict[str, bytes] = {}
    for group in behavior.trusted_key_groups:
        decl = dist.key_groups.get(group)
        for key_id in decl.keys if decl else ():
            public = dist.public_keys.get(key_id)
            if public is not None:
                keys[key_id] = public.pem
    return keys


def check(
    req: EdgeRequest,
    *,
    keys: Mapping[str, bytes],
    urls: Sequence[str],
    now_s: float,
) -> Refusal | None:
    """None when the request carries a valid signed URL or valid signed cookies for one of
    ``urls`` at edge time ``now_s``; else why CloudFront refuses it."""
    creds = credentials(req)
    if creds is None:
        return Refusal(MISSING_KEY, "no signed URL parameters and no signed cookies")
    key_id = creds.get("Key-Pair-Id")
    if key_id is None:
        return Refusal(MISSING_KEY, f"the {creds.source} carry no Key-Pair-Id")
    if key_id not in keys:
        trusted = ", ".join(sorted(keys)) or "none"
        return Refusal(
            INVALID_KEY,
            f"Key-Pair-Id {key_id!r} ({creds.source}) is not in the behaviour's trusted key "
            f"groups (their keys: {trusted})",
        )
    signature_text = creds.get("Signature")
    if signature_text is None:
        # Unverified: which code CloudFront gives a missing Signature is not documented.
        return Refusal(MALFORMED_SIGNATURE, f"the {creds.source} carry no Signature")
    try:
        signature = sp.url_safe_b64decode(signature_text)
    except ValueError as exc:
        return Refusal(MALFORMED_SIGNATURE, f"Signature is not CloudFront's base64: {exc}")
    algorithm = creds.get("Hash-Algorithm") or "SHA1"
    if algorithm not in sp.HASH_ALGORITHMS:
        # Unverified: CloudFront's answer to another value is not documented.
        return Refusal(ACCESS_DENIED, f"Hash-Algorithm {algorithm!r} is not SHA1 or SHA256")
    key = sp.cached_public_key(keys[key_id])
    return _check_policy(creds, key, signature, algorithm, tuple(urls), now_s, req.client_ip)


def _check_policy(
    creds: Credentials,
    key: PublicKey,
    signature: bytes,
    algorithm: str,
    urls: tuple[str, ...],
    now_s: float,
    client_ip: str,
) -> Refusal | None:
    policy_text = creds.get("Policy")
    if policy_text is not None:
        try:
            statement = sp.url_safe_b64decode(policy_text)
            policy = sp.parse_policy(statement)
        except ValueError as exc:
            return Refusal(MALFORMED_POLICY, f"Policy ({creds.source}): {exc}")
        if not sp.signature_valid(key, signature, statement, algorithm):
            return Refusal(ACCESS_DENIED, f"the Signature does not verify the Policy ({algorithm})")
        why = sp.denial(policy, urls=urls, now_s=now_s, client_ip=client_ip)
        return Refusal(ACCESS_DENIED, why) if why else None
    expires_text = creds.get("Expires")
    # ASCII digits, at most 19 of them (isdigit() alone takes "²", and int() refuses 4,300+).
    if (
        expires_text is None
        or not (expires_text.isascii() and expires_text.isdigit())
        or len(expires_text) > 19
    ):
        # Unverified: neither Policy nor a numeric Expires is read as a malformed policy.
        got = "no Expires or Policy" if expires_text is None else f"Expires {expires_text!r}"
        return Refusal(MALFORMED_POLICY, f"the {creds.source} carry {got}")
    expires = int(expires_text)
    # A canned policy names one URL: the signature must verify the statement rebuilt for it.
    for url in urls:
        if sp.signature_valid(key, signature, sp.canned_policy(url, expires), algorithm):
            canned = sp.Policy(resource=None, date_less_than=expires)
            why = sp.denial(canned, urls=urls, now_s=now_s, client_ip=client_ip)
            return Refusal(ACCESS_DENIED, why) if why else None
    return Refusal(
        ACCESS_DENIED,
        f"the Signature does not verify a canned policy (Expires {expires}, {algorithm}) for "
        + " or ".join(urls),
    )


def refusal_response(refusal: Refusal) -> EdgeResponse:
    """CloudFront's 403 for a refused signed URL or signed cookies."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{refusal.code}</Code><Message>{refusal.message}</Message></Error>"
    ).encode()
    response = EdgeResponse(
        403, [("content-type", CONTENT_TYPE)], XCache.ERROR, GeneratedBody(body)
    )
    response.detail = f"{DETAIL_PREFIX} {refusal.code}: {refusal.reason}"
    return response


DETAIL_PREFIX = "private content refused:"


def without_signing(req: EdgeRequest) -> tuple[str | None, list[tuple[str, str]]]:
    """The request's query and headers with the signed URL's parameters and the signed cookies
    taken out (``[private_content] strip_signing_parameters``)."""
    query = unsigned_query(req.query)
    if query == "" and req.query is not None and req.query != "":
        query = None  # only signing parameters: the URL without them has no '?'
    headers: list[tuple[str, str]] = []
    for name, value in req.headers:
        if name != "cookie":
            headers.append((name, value))
            continue
        kept = [
            c.strip()
            for c in value.split(";")
            if c.strip().partition("=")[0].strip() not in COOKIES
        ]
        if kept:
            headers.append((name, "; ".join(kept)))
    return query, headers


def banner(dist: Distribution) -> list[str]:
    """What serve prints at start-up: which behaviours need signatures and the key ids to sign
    with (an imported key's id is its resource's name, CloudFront's is assigned at deploy)."""
    private = [b for b in dist.all_behaviors() if b.trusted_key_groups]
    if not private:
        return []
    lines = []
    for behavior in private:
        keys = ", ".join(trusted_keys(behavior, dist)) or "none"
        groups = ", ".join(behavior.trusted_key_groups)
        lines.append(
            f"private content: {behavior.path} needs a signed URL or signed cookies "
            f"(key groups {groups}; Key-Pair-Id {keys})"
        )
    lines.append("private content: sign with `edgesim sign URL --key-pair-id ID --private-key PEM`")
    return lines
