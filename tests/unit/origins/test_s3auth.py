"""Signature checks of a local S3 origin, against requests signed by botocore: SigV4 (its own
signer) and SigV4A (the AWS CRT signer), in the header and the presigned-query forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.origins import s3sigv4
from edgesim.origins.s3auth import AuthFailure, S3Credentials, S3RequestAuth

AKID, SECRET = "AKIDEDGESIMLOCAL", "edgesim/local+secret/KEY0123456789abcdefgh"
HOST = "media-eu.s3.eu-west-1.amazonaws.com"
MRAP = "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com"


def auth(offset: timedelta = timedelta(0), region: str = "eu-west-1") -> S3RequestAuth:
    def now() -> datetime:
        return datetime.now(UTC) + offset

    return S3RequestAuth([S3Credentials(AKID, SECRET)], region, now)


def signed(
    url: str,
    signer: Callable[[Credentials], object],
    secret: str = SECRET,
    headers: dict[str, str] | None = None,
) -> tuple[str, str, list[tuple[str, str]]]:
    """(raw path, raw query, headers) of ``url`` as botocore signs and sends it."""
    request = AWSRequest(method="GET", url=url, headers=headers or {})
    signer(Credentials(AKID, secret)).add_auth(request)  # type: ignore[attr-defined]
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    sent = [(name, str(value)) for name, value in prepared.headers.items()]
    if not any(name.lower() == "host" for name, _ in sent):
        sent.append(("Host", parts.netloc))
    return parts.path, parts.query, sent


def sigv4(creds: Credentials) -> object:
    return S3SigV4Auth(creds, "s3", "eu-west-1")


def presign_v4(expires: int = 300) -> Callable[[Credentials], object]:
    return lambda creds: S3SigV4QueryAuth(creds, "s3", "eu-west-1", expires=expires)


def sigv4a(creds: Credentials) -> object:
    from botocore.crt.auth import CrtS3SigV4AsymAuth

    return CrtS3SigV4AsymAuth(creds, "s3", "*")


def presign_v4a(creds: Credentials) -> object:
    from botocore.crt.auth import CrtS3SigV4AsymQueryAuth

    return CrtS3SigV4AsymQueryAuth(creds, "s3", "*", expires=300)


def check(
    request: tuple[str, str, list[tuple[str, str]]], checker: S3RequestAuth | None = None
) -> AuthFailure | None:
    path, query, headers = request
    return (checker or auth()).check("GET", path, query, headers)


@pytest.mark.parametrize(
    "signer", [sigv4, presign_v4(), sigv4a, presign_v4a], ids=["v4", "v4-query", "v4a", "v4a-query"]
)
def test_requests_signed_by_botocore_are_accepted(signer: Callable[[Credentials], object]) -> None:
    host = MRAP if signer in (sigv4a, presign_v4a) else HOST
    url = f"https://{host}/pages/t%C3%A9nant%201/index.html?versionId=3&x-id=GetObject"
    assert check(signed(url, signer)) is None


@pytest.mark.parametrize(
    "signer", [sigv4, presign_v4(), sigv4a, presign_v4a], ids=["v4", "v4-query", "v4a", "v4a-query"]
)
def test_a_wrong_secret_gets_signature_does_not_match_with_what_s3_computed(
    signer: Callable[[Credentials], object],
) -> None:
    failure = check(signed(f"https://{HOST}/a/b.txt", signer, secret="not-the-secret"))
    assert failure is not None
    assert (failure.status, failure.code) == (403, "SignatureDoesNotMatch")
    fields = dict(failure.fields)
    assert list(fields) == [
        "AWSAccessKeyId", "StringToSign", "SignatureProvided", "StringToSignBytes",
        "CanonicalRequest", "CanonicalRequestBytes",
    ]  # fmt: skip
    assert fields["CanonicalRequest"].startswith("GET\n/a/b.txt\n")
    assert (
        bytes.fromhex(fields["StringToSignBytes"].replace(" ", "")).decode()
        == fields["StringToSign"]
    )
    assert fields["StringToSign"].splitlines()[0] in (s3sigv4.SIGV4, s3sigv4.SIGV4A)


def test_a_uri_encoded_twice_does_not_match() -> None:
    # The signer signed /a%20b (the key "a b"); the request sent the key "a%20b" instead.
    path, query, headers = signed(f"https://{HOST}/a%20b", sigv4)
    assert check((path, query, headers)) is None
    failure = check((quote(path, safe="/"), query, headers))
    assert failure is not None
    assert failure.code == "SignatureDoesNotMatch"
    assert "\n/a%2520b\n" in dict(failure.fields)["CanonicalRequest"]


def test_equivalent_spellings_of_a_path_sign_alike() -> None:
    path, query, headers = signed(f"https://{HOST}/docs/~user/a.txt", sigv4)
    assert check((path.replace("~", "%7E"), query, headers)) is None


def test_unsigned_unknown_key_and_wrong_region() -> None:
    failure = check(("/a.txt", "", [("Host", HOST)]))
    assert failure == AuthFailure(403, "AccessDenied", "Access Denied")

    other = S3RequestAuth(
        [S3Credentials("AKIDOTHER", SECRET)], "eu-west-1", lambda: datetime.now(UTC)
    )
    failure = check(signed(f"https://{HOST}/a.txt", sigv4), other)
    assert failure is not None
    assert (failure.code, dict(failure.fields)) == ("InvalidAccessKeyId", {"AWSAccessKeyId": AKID})

    failure = check(signed(f"https://{HOST}/a.txt", sigv4), auth(region="us-east-1"))
    assert failure is not None
    assert (failure.status, failure.code) == (400, "AuthorizationHeaderMalformed")
    assert "the region 'eu-west-1' is wrong; expecting 'us-east-1'" in failure.message
    assert failure.fields == [("Region", "us-east-1")]


def test_a_header_signed_request_too_far_from_the_edge_clock_is_too_skewed() -> None:
    request = signed(f"https://{HOST}/a.txt", sigv4)
    assert check(request, auth(timedelta(minutes=14))) is None
    failure = check(request, auth(timedelta(minutes=16)))
    assert failure is not None
    assert (failure.status, failure.code) == (403, "RequestTimeTooSkewed")
    assert dict(failure.fields)["MaxAllowedSkewMilliseconds"] == "900000"


@pytest.mark.parametrize("signer", [presign_v4(60), presign_v4a], ids=["v4", "v4a"])
def test_a_presigned_url_expires_on_the_edge_clock(signer: Callable[[Credentials], object]) -> None:
    request = signed(f"https://{HOST}/a.txt", signer)
    assert check(request, auth(timedelta(seconds=30))) is None
    failure = check(request, auth(timedelta(hours=1)))
    assert failure is not None
    assert (failure.status, failure.code, failure.message) == (
        403,
        "AccessDenied",
        "Request has expired",
    )
    assert [name for name, _ in failure.fields] == ["X-Amz-Expires", "Expires", "ServerTime"]


def test_a_presigned_url_over_a_week_is_refused() -> None:
    failure = check(signed(f"https://{HOST}/a.txt", presign_v4(604_801)))
    assert failure is not None
    assert (failure.status, failure.code) == (400, "AuthorizationQueryParametersError")


def test_a_sigv4a_region_set_must_cover_the_bucket() -> None:
    from botocore.crt.auth import CrtS3SigV4AsymAuth

    request = signed(
        f"https://{MRAP}/a.txt", lambda c: CrtS3SigV4AsymAuth(c, "s3", "us-east-1,us-west-2")
    )
    assert check(request, auth(region="us-west-2")) is None
    failure = check(request, auth(region="eu-west-1"))
    assert failure is not None
    assert failure.code == "AuthorizationHeaderMalformed"


_segment = st.text(
    st.characters(codec="utf-8", exclude_characters="/?#\x00"), min_size=1, max_size=12
)


@settings(max_examples=40, deadline=None)
@given(
    segments=st.lists(_segment, min_size=1, max_size=3),
    params=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), _segment, max_size=3
    ),
)
def test_any_key_and_query_botocore_signs_verifies_and_a_changed_key_does_not(
    segments: list[str], params: dict[str, str]
) -> None:
    path = "/" + "/".join(quote(s, safe="") for s in segments)
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    url = f"https://{HOST}{path}" + (f"?{query}" if query else "")
    sent_path, sent_query, headers = signed(url, sigv4)
    assert check((sent_path, sent_query, headers)) is None
    assert check((sent_path + "x", sent_query, headers)) is not None


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            lambda q: q.replace("X-Amz-Expires=300", "X-Amz-Expires=%C2%B2"),
            "AuthorizationQueryParametersError",
        ),
        (
            lambda q: q.replace("X-Amz-Expires=300", "X-Amz-Expires=" + "9" * 5000),
            "AuthorizationQueryParametersError",
        ),
        (
            lambda q: q.split("X-Amz-Signature=")[0] + "X-Amz-Signature=%C3%A9",
            "SignatureDoesNotMatch",
        ),
    ],
)
def test_hostile_presigned_parameters_are_refused_not_crashed(
    change: Callable[[str], str], code: str
) -> None:
    path, query, headers = signed(f"https://{HOST}/a.txt", presign_v4())
    failure = check((path, change(query), headers))
    assert failure is not None
    assert failure.code == code


def test_unsigned_amz_headers_and_an_unsigned_host_are_refused() -> None:
    path, query, headers = signed(f"https://{HOST}/a.txt", sigv4)
    failure = check((path, query, [*headers, ("x-amz-acl", "public-read")]))
    assert failure is not None
    assert (failure.code, failure.fields) == ("AccessDenied", [("HeadersNotSigned", "x-amz-acl")])
    # CloudFront's own X-Amz-Cf-Id, added after any signing, is not held against it.
    assert check((path, query, [*headers, ("X-Amz-Cf-Id", "abc==")])) is None


def test_a_clock_near_year_9999_does_not_crash_the_check() -> None:
    far = datetime(9999, 12, 31, 23, 50, tzinfo=UTC)
    path, query, headers = signed(f"https://{HOST}/a.txt", presign_v4())
    late = S3RequestAuth([S3Credentials(AKID, SECRET)], "eu-west-1", lambda: far)
    failure = late.check("GET", path, query, headers)
    assert failure is not None
    assert failure.status == 403
