"""Signature checks of a local S3 origin that has credentials: what S3 answers to a request
signed with SigV4 or SigV4A, in the header form (``Authorization``) or the presigned-query form
(``X-Amz-*`` parameters), against the edge clock.

Answers follow S3's error responses as field reports capture them (each cited where used). What
S3 checks and this does not: the payload's hash against a declared ``x-amz-content-sha256``
(the body is not hashed here), session tokens (``X-Amz-Security-Token`` is signed like any
header but not looked up), and bucket policies (a valid signature by a configured key is
enough). docs/s3-origins.md says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from edgesim.origins import s3sigv4 as v4

# S3 answers RequestTimeTooSkewed beyond 15 minutes (MaxAllowedSkewMilliseconds 900000 in its
# error body: aws/aws-sdk-php#612, versity/versitygw#1514).
MAX_SKEW = timedelta(minutes=15)
MAX_SKEW_MS = "900000"
# Presigned URLs live at most 7 days (S3 API reference, "Authenticating Requests: Using Query
# Parameters": X-Amz-Expires "minimum value you can set is 1, and the maximum is 604800").
MAX_EXPIRES_S = 604_800

_QUERY_PARAMETERS = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)
_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")
_SIGNED_HEADERS = re.compile(r"SignedHeaders=([^,\s]+)")
_SIGNATURE = re.compile(r"Signature=([0-9a-fA-F]+)")


@dataclass(frozen=True)
class S3Credentials:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class AuthFailure:
    """An S3 error response: status, code, message and the elements after them."""

    status: int
    code: str
    message: str
    fields: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Signed:
    """What a request claims: from its Authorization header or its query parameters."""

    algorithm: str
    access_key_id: str
    scope: list[str]  # date, [region,] service, "aws4_request"
    signed_headers: list[str]
    signature: str
    amz_date: str
    payload_hash: str
    query: list[tuple[str, str]]  # the parameters that are signed
    presigned: bool
    expires: str | None = None
    region_set: str | None = None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _malformed(presigned: bool, message: str) -> AuthFailure:
    # 400 AuthorizationHeaderMalformed / AuthorizationQueryParametersError (S3 API reference,
    # "Error responses", list of error codes).
    if presigned:
        return AuthFailure(400, "AuthorizationQueryParametersError", message)
    return AuthFailure(
        400, "AuthorizationHeaderMalformed", f"The authorization header is malformed; {message}"
    )


class S3RequestAuth:
    """Checks requests against ``credentials`` for a bucket in ``region``, at ``now()``."""

    def __init__(
        self,
        credentials: Sequence[S3Credentials],
        region: str,
        now: Callable[[], datetime],
    ) -> None:
        self.keys: Mapping[str, S3Credentials] = {c.access_key_id: c for c in credentials}
        self.region = region
        self.now = now

    def check(
        self, method: str, raw_path: str, raw_query: str, headers: Sequence[tuple[str, str]]
    ) -> AuthFailure | None:
        """None when the request is signed by a configured key, else S3's answer."""
        lower = [(name.lower(), value) for name, value in headers]
        first = dict(reversed(lower))
        params = v4.split_query(raw_query)
        named = {name: value for name, value in params}
        try:
            if "X-Amz-Algorithm" in named or "X-Amz-Signature" in named:
                signed = self._from_query(params, named)
            elif "authorization" in first:
                signed = self._from_header(first, params)
            else:
                # Unsigned: a private bucket answers 403 AccessDenied "Access Denied".
                return AuthFailure(403, "AccessDenied", "Access Denied")
        except _Refused as refused:
            return refused.failure
        return self._verify(method, raw_path, lower, signed)

    # -- what the request claims ----------------------------------------------------------------

    def _from_header(self, first: Mapping[str, str], params: list[tuple[str, str]]) -> _Signed:
        header = first["authorization"]
        algorithm = header.split(" ", 1)[0]
        if algorithm not in (v4.SIGV4, v4.SIGV4A):
            raise _Refused(
                AuthFailure(400, "InvalidArgument", f"Unsupported Authorization Type: {algorithm}")
            )
        credential = _CREDENTIAL.search(header)
        signed_headers = _SIGNED_HEADERS.search(header)
        signature = _SIGNATURE.search(header)
        if credential is None or signed_headers is None or signature is None:
            raise _Refused(_malformed(False, "expected Credential, SignedHeaders and Signature"))
        amz_date = first.get("x-amz-date")
        if amz_date is None:
            raise _Refused(
                AuthFailure(
                    403,
                    "AccessDenied",
                    "AWS authentication requires a valid Date or x-amz-date header",
                )
            )
        payload = first.get("x-amz-content-sha256")
        if payload is None:
            # S3: "Missing required header for this request: x-amz-content-sha256" (400
            # InvalidRequest) for SigV4 header-signed requests.
            raise _Refused(
                AuthFailure(
                    400,
                    "InvalidRequest",
                    "Missing required header for this request: x-amz-content-sha256",
                )
            )
        akid, _, scope = credential.group(1).partition("/")
        return _Signed(
            algorithm, akid, scope.split("/"), signed_headers.group(1).split(";"),
            signature.group(1), amz_date, payload, params, presigned=False,
            region_set=first.get("x-amz-region-set"),
        )  # fmt: skip

    def _from_query(self, params: list[tuple[str, str]], named: Mapping[str, str]) -> _Signed:
        def need(name: str) -> str:
            if name not in named:
                raise _Refused(
                    _malformed(
                        True,
                        _QUERY_PARAMETERS,
                    )
                )
            return unquote(named[name])

        algorithm = need("X-Amz-Algorithm")
        if algorithm not in (v4.SIGV4, v4.SIGV4A):
            raise _Refused(
                _malformed(True, f'X-Amz-Algorithm only supports "{v4.SIGV4}" and "{v4.SIGV4A}"')
            )
        credential, amz_date = need("X-Amz-Credential"), need("X-Amz-Date")
        signed_headers, signature = need("X-Amz-SignedHeaders"), need("X-Amz-Signature")
        expires = need("X-Amz-Expires")
        akid, _, scope = credential.partition("/")
        region_set = named.get("X-Amz-Region-Set")
        return _Signed(
            algorithm, akid, scope.split("/"), signed_headers.split(";"), signature, amz_date,
            v4.UNSIGNED_PAYLOAD, [(n, v) for n, v in params if n != "X-Amz-Signature"],
            presigned=True, expires=expires,
            region_set=unquote(region_set) if region_set is not None else None,
        )  # fmt: skip

    # -- the checks -------------------------------------------------------------------------------

    def _verify(
        self, method: str, raw_path: str, headers: list[tuple[str, str]], signed: _Signed
    ) -> AuthFailure | None:
        creds = self.keys.get(signed.access_key_id)
        if creds is None:
            return AuthFailure(
                403, "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                [("AWSAccessKeyId", signed.access_key_id)],
            )  # fmt: skip
        problem = self._scope_problem(signed)
        if problem is not None:
            return problem
        try:
            sent = datetime.strptime(signed.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return _malformed(
                signed.presigned,
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
            )
        now = self.now()
        try:
            timing = self._timing_problem(signed, sent, now)
        except OverflowError:  # near year 9999, where the edge clock may be set
            timing = AuthFailure(403, "AccessDenied", "Request has expired")
        if timing is not None:
            return timing
        unsigned = self._unsigned_headers(headers, signed)
        if unsigned is not None:
            return unsigned
        canonical = v4.canonical_request(
            method, raw_path, signed.query, headers, signed.signed_headers, signed.payload_hash
        )
        to_sign = v4.string_to_sign(
            signed.algorithm, signed.amz_date, "/".join(signed.scope), canonical
        )
        if signed.algorithm == v4.SIGV4A:
            ok = v4.sigv4a_matches(
                signed.signature, creds.access_key_id, creds.secret_access_key, to_sign
            )
        else:
            ok = v4.sigv4_matches(
                signed.signature, creds.secret_access_key, signed.scope[0], signed.scope[1], to_sign
            )
        if ok:
            return None
        # SignatureDoesNotMatch carries what S3 computed, so that a signer can compare
        # (IAM User Guide, "Troubleshoot signed requests": "The error response includes the
        # canonical request and the string to sign that the service calculated"; element order
        # as S3 sends them in field reports).
        return AuthFailure(
            403, "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            [
                ("AWSAccessKeyId", signed.access_key_id),
                ("StringToSign", to_sign),
                ("SignatureProvided", signed.signature),
                ("StringToSignBytes", v4.spaced_hex(to_sign)),
                ("CanonicalRequest", canonical),
                ("CanonicalRequestBytes", v4.spaced_hex(canonical)),
            ],
        )  # fmt: skip

    @staticmethod
    def _unsigned_headers(headers: list[tuple[str, str]], signed: _Signed) -> AuthFailure | None:
        """SigV4 signs ``host`` always; S3 refuses ``x-amz-*`` headers left out of the signature
        (403 AccessDenied "There were headers present in the request which were not signed",
        with HeadersNotSigned; S3 API reference, "Signature Calculations for the Authorization
        Header": "host" and every "x-amz-*" header you plan to add must be signed)."""
        names = set(signed.signed_headers)
        if "host" not in names:
            return _malformed(signed.presigned, "the SignedHeaders do not include host")
        missing = sorted(
            {n for n, _ in headers if n.startswith("x-amz-") and n not in names}
            - ({"x-amz-content-sha256"} if signed.presigned else set())
            # CloudFront adds X-Amz-Cf-Id to every origin request after any signing, and S3
            # serves presigned URLs through CloudFront: it is not held against the signature
            # (unverified which x-amz-* names S3 exempts; this one must be).
            - {"x-amz-cf-id"}
        )
        if missing:
            return AuthFailure(
                403,
                "AccessDenied",
                "There were headers present in the request which were not signed",
                [("HeadersNotSigned", ", ".join(missing))],
            )
        return None

    def _scope_problem(self, signed: _Signed) -> AuthFailure | None:
        scope = signed.scope
        if signed.algorithm == v4.SIGV4A:
            if len(scope) != 3 or scope[1:] != ["s3", "aws4_request"]:
                return _malformed(
                    signed.presigned,
                    f"the credential scope '{'/'.join(scope)}' is not date/s3/aws4_request",
                )
            regions = [r.strip() for r in (signed.region_set or "").split(",") if r.strip()]
            if not regions:
                return _malformed(
                    signed.presigned, "a SigV4A request names its regions in X-Amz-Region-Set"
                )
            if "*" not in regions and self.region not in regions:
                # Unverified: S3's exact answer to a region set without the bucket's region.
                return _malformed(
                    signed.presigned,
                    f"the region set '{signed.region_set}' does not include '{self.region}'",
                )
            return None
        if len(scope) != 4 or scope[2:] != ["s3", "aws4_request"]:
            return _malformed(
                signed.presigned,
                f"the credential scope '{'/'.join(scope)}' is not date/region/s3/aws4_request",
            )
        if scope[1] != self.region:
            # 400 AuthorizationHeaderMalformed "the region 'us-east-1' is wrong; expecting
            # 'eu-central-1'" with a Region element (TTLabs/EvaporateJS#364, s3fs-fuse#1186).
            failure = _malformed(
                signed.presigned, f"the region '{scope[1]}' is wrong; expecting '{self.region}'"
            )
            return AuthFailure(
                failure.status, failure.code, failure.message, [("Region", self.region)]
            )
        return None

    def _timing_problem(self, signed: _Signed, sent: datetime, now: datetime) -> AuthFailure | None:
        if signed.scope[0] != signed.amz_date[:8]:
            return _malformed(
                signed.presigned,
                f"the date '{signed.scope[0]}' in the credential scope does not match "
                f"X-Amz-Date '{signed.amz_date}'",
            )
        if not signed.presigned:
            if abs(now - sent) > MAX_SKEW:
                # RequestTimeTooSkewed with RequestTime, ServerTime and MaxAllowedSkewMilliseconds
                # (aws/aws-sdk-php#612, versity/versitygw#1514).
                return AuthFailure(
                    403, "RequestTimeTooSkewed",
                    "The difference between the request time and the current time is too large.",
                    [("RequestTime", signed.amz_date), ("ServerTime", _iso(now)),
                     ("MaxAllowedSkewMilliseconds", MAX_SKEW_MS)],
                )  # fmt: skip
            return None
        expires = signed.expires or ""
        if not (expires.isascii() and expires.isdigit()) or len(expires) > 9:
            return _malformed(True, "X-Amz-Expires should be a number")
        if int(expires) > MAX_EXPIRES_S:
            return _malformed(
                True, "X-Amz-Expires must be less than a week (in seconds) that is 604800"
            )
        if sent > now + MAX_SKEW:
            return AuthFailure(
                403, "AccessDenied", "Request is not valid yet"
            )  # unverified wording
        deadline = sent + timedelta(seconds=int(expires))
        if now > deadline:
            # AccessDenied "Request has expired" with X-Amz-Expires, Expires and ServerTime
            # (aws/aws-sdk-php#1333, versity/versitygw#2116).
            return AuthFailure(
                403, "AccessDenied", "Request has expired",
                [("X-Amz-Expires", expires), ("Expires", _iso(deadline)),
                 ("ServerTime", _iso(now))],
            )  # fmt: skip
        return None


class _Refused(Exception):
    def __init__(self, failure: AuthFailure) -> None:
        super().__init__(failure.code)
        self.failure = failure
