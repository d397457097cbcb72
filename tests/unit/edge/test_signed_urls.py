"""Private content in the viewer stage: a behaviour with trusted key groups serves only valid
signed URLs or signed cookies, as botocore's CloudFrontSigner makes them; every refusal is a 403
with CloudFront's XML body and the precise reason kept for the log and the inspector."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.distribution.model import Distribution
from edgesim.edge.flow import EdgeResponse, GeneratedBody, XCache
from edgesim.edge.message import EdgeRequest
from edgesim.edge.signed_policy import url_safe_b64encode
from edgesim.edge.signed_urls import banner
from edgesim.edge.stages import viewer
from tests import signing
from tests.unit.edge.stages.conftest import BASE, make_dist, make_flow

NOW = 1_900_000_000
HOST = "127.0.0.1:8080"
DOMAIN = "d111111abcdef8.cloudfront.net"


def config(extra: str = "") -> str:
    return f"""
[server]
domain_name = "{DOMAIN}"

[distribution]
aliases = ["www.example.com"]

[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[[public_keys]]
id = "K1"
encoded_key = '''{signing.public_pem("rsa")}'''

[[public_keys]]
id = "KEC"
encoded_key = '''{signing.public_pem("ec")}'''

[[public_keys]]
id = "KOTHER"
encoded_key = '''{signing.public_pem("rsa", 1)}'''

[[key_groups]]
name = "signers"
keys = ["K1", "KEC"]

[[key_groups]]
name = "others"
keys = ["KOTHER"]

[[behaviors]]
path = "/private/*"
origin = "app"
trusted_key_groups = ["signers"]

[default_behavior]
origin = "app"
{extra}
"""


@pytest.fixture
def dist(tmp_path: Path) -> Distribution:
    return make_dist(tmp_path, config())


def request(
    url: str, *, cookies: dict[str, str] | None = None, ip: str = "203.0.113.7"
) -> EdgeRequest:
    """The request a viewer sends for ``url`` (an http://HOST/… URL) to the local listener."""
    match = re.fullmatch(r"(https?)://([^/]+)(/[^?]*)(?:\?(.*))?", url)
    assert match is not None, url
    scheme, _, path, query = match.groups()
    headers = [("host", HOST)]
    if cookies:
        headers.append(("cookie", "; ".join(f"{k}={v}" for k, v in cookies.items())))
    return EdgeRequest("GET", path, query, headers, client_ip=ip, scheme=scheme, pop="IAD")


def admit(dist: Distribution, req: EdgeRequest, now: float = NOW) -> EdgeResponse | None:
    flow = make_flow(dist, req)
    flow.received_ms = now * 1000
    flow.viewer_request = req
    return viewer.admit(flow)


def refused(response: EdgeResponse | None, code: str, message: str) -> str:
    """Assert a 403 with CloudFront's XML for ``code``; the detail (never in the body)."""
    assert response is not None
    assert response.status == 403
    assert response.x_cache is XCache.ERROR
    assert response.headers == [("content-type", "text/xml")]
    assert isinstance(response.source, GeneratedBody)
    body = response.source.data.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert f"<Error><Code>{code}</Code><Message>{message}</Message></Error>" in body
    assert response.detail is not None
    assert response.detail.split(":")[0] not in body
    return response.detail


URL = f"http://{HOST}/private/report.pdf"


def test_a_private_behaviour_refuses_a_request_without_a_signature(dist: Distribution) -> None:
    detail = refused(
        admit(dist, request(URL)),
        "MissingKey",
        "Missing Key-Pair-Id query parameter or cookie value",
    )
    assert "no signed URL parameters and no signed cookies" in detail


def test_other_behaviours_stay_public(dist: Distribution) -> None:
    assert admit(dist, request(f"http://{HOST}/public.txt")) is None


def test_a_canned_policy_signed_by_botocore_is_accepted_until_it_expires(
    dist: Distribution,
) -> None:
    signed = signing.canned_url(URL, "K1", NOW + 60)
    assert "Expires=" in signed
    assert "Policy=" not in signed
    assert admit(dist, request(signed), now=NOW) is None
    assert admit(dist, request(signed), now=NOW + 59.9) is None
    detail = refused(admit(dist, request(signed), now=NOW + 60), "AccessDenied", "Access denied")
    assert "expired" in detail


def test_a_signed_url_for_another_path_is_denied(dist: Distribution) -> None:
    signed = signing.canned_url(URL, "K1", NOW + 60)
    tampered = signed.replace("/private/report.pdf", "/private/other.pdf")
    detail = refused(admit(dist, request(tampered)), "AccessDenied", "Access denied")
    assert "does not verify a canned policy" in detail


def test_own_query_parameters_are_part_of_the_signed_resource(dist: Distribution) -> None:
    signed = signing.canned_url(URL + "?size=large", "K1", NOW + 60)
    assert admit(dist, request(signed)) is None
    refused(admit(dist, request(signed.replace("size=large", "size=small"))), "AccessDenied",
            "Access denied")  # fmt: skip


def test_a_key_outside_the_behaviours_key_groups_is_unknown(dist: Distribution) -> None:
    for key_id in ("KOTHER", "NOPE"):
        signed = signing.canned_url(URL, key_id, NOW + 60, n=1)
        detail = refused(admit(dist, request(signed)), "InvalidKey", "Unknown Key")
        assert repr(key_id) in detail


def test_a_signature_that_is_not_base64_is_malformed(dist: Distribution) -> None:
    signed = signing.canned_url(URL, "K1", NOW + 60)
    broken = re.sub(r"Signature=[^&]+", "Signature=a!b", signed)
    refused(admit(dist, request(broken)), "MalformedSignature", "Could not unencode Signature")


@pytest.mark.parametrize(
    "policy",
    [
        "bm90IGpzb24_",  # base64 of "not json"
        url_safe_b64encode(b'{"Statement":[]}'),
        url_safe_b64encode(b'{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":"1"}}}]}'),
        "%%%",
    ],
)
def test_a_policy_that_cannot_be_read_is_malformed(dist: Distribution, policy: str) -> None:
    signed = signing.custom_url(URL, "K1", less_than=NOW + 60)
    broken = re.sub(r"Policy=[^&]+", f"Policy={policy}", signed)
    refused(admit(dist, request(broken)), "MalformedPolicy", "Malformed Policy")


def test_a_custom_policy_with_a_wildcard_covers_every_matching_url(dist: Distribution) -> None:
    resource = f"http://{HOST}/private/*"
    for path in ("/private/a.pdf", "/private/deep/b.pdf?x=1"):
        url = f"http://{HOST}{path}"
        signed = signing.custom_url(url, "K1", resource=resource, less_than=NOW + 60)
        assert admit(dist, request(signed)) is None, path
    signed = signing.custom_url(
        f"http://{HOST}/private/a.pdf", "K1", resource=f"http://{HOST}/private/??.pdf",
        less_than=NOW + 60,
    )  # fmt: skip
    detail = refused(admit(dist, request(signed)), "AccessDenied", "Access denied")
    assert "does not match" in detail
    signed = signing.custom_url(
        f"http://{HOST}/private/ab.pdf", "K1", resource=f"http://{HOST}/private/??.pdf",
        less_than=NOW + 60,
    )  # fmt: skip
    assert admit(dist, request(signed)) is None


def test_date_greater_than_and_ip_address_are_enforced(dist: Distribution) -> None:
    signed = signing.custom_url(
        URL, "K1", less_than=NOW + 600, greater_than=NOW + 60, ip="198.51.100.0/24"
    )
    detail = refused(
        admit(dist, request(signed, ip="198.51.100.9")), "AccessDenied", "Access denied"
    )
    assert "not yet valid" in detail
    assert admit(dist, request(signed, ip="198.51.100.9"), now=NOW + 60) is None
    detail = refused(admit(dist, request(signed, ip="203.0.113.7"), now=NOW + 60), "AccessDenied",
                     "Access denied")  # fmt: skip
    assert "203.0.113.7" in detail


def test_sha256_and_ecdsa_signatures(dist: Distribution) -> None:
    for kind, key_id in (("rsa", "K1"), ("ec", "KEC")):
        for algorithm in ("SHA1", "SHA256"):
            signed = signing.canned_url(URL, key_id, NOW + 60, kind=kind, algorithm=algorithm)
            assert admit(dist, request(signed)) is None, (kind, algorithm)
    # A SHA-256 signature without Hash-Algorithm=SHA256 is checked as SHA-1: denied.
    signed = signing.canned_url(URL, "K1", NOW + 60, algorithm="SHA256")
    plain = signed.replace("&Hash-Algorithm=SHA256", "")
    refused(admit(dist, request(plain)), "AccessDenied", "Access denied")


def test_signed_cookies_canned_and_custom(dist: Distribution) -> None:
    canned = signing.cookies_from(signing.canned_url(URL, "K1", NOW + 60))
    assert admit(dist, request(URL, cookies=canned)) is None
    custom = signing.cookies_from(
        signing.custom_url(URL, "KEC", resource=f"http://{HOST}/private/*", less_than=NOW + 60,
                           kind="ec", algorithm="SHA256")
    )  # fmt: skip
    assert custom["CloudFront-Hash-Algorithm"] == "SHA256"
    assert admit(dist, request(f"http://{HOST}/private/x", cookies=custom)) is None
    refused(admit(dist, request(URL, cookies=custom), now=NOW + 61), "AccessDenied",
            "Access denied")  # fmt: skip
    missing = {k: v for k, v in canned.items() if k != "CloudFront-Key-Pair-Id"}
    refused(admit(dist, request(URL, cookies=missing)), "MissingKey",
            "Missing Key-Pair-Id query parameter or cookie value")  # fmt: skip


def test_a_signed_url_decides_even_when_good_cookies_are_sent(dist: Distribution) -> None:
    cookies = signing.cookies_from(signing.canned_url(URL, "K1", NOW + 60))
    expired = signing.canned_url(URL, "K1", NOW - 1)
    detail = refused(
        admit(dist, request(expired, cookies=cookies)), "AccessDenied", "Access denied"
    )
    assert "expired" in detail


def test_urls_signed_for_the_domain_name_or_an_alias_are_accepted(dist: Distribution) -> None:
    for host in (DOMAIN, "www.example.com"):
        signed = signing.canned_url(f"http://{host}/private/report.pdf", "K1", NOW + 60)
        local = signed.replace(f"http://{host}", f"http://{HOST}")
        assert admit(dist, request(local)) is None, host
    signed = signing.canned_url("http://elsewhere.example/private/report.pdf", "K1", NOW + 60)
    local = signed.replace("http://elsewhere.example", f"http://{HOST}")
    refused(admit(dist, request(local)), "AccessDenied", "Access denied")
    # The scheme is the listener's: a URL signed for https does not fit a request over http.
    signed = signing.canned_url(f"https://{DOMAIN}/private/report.pdf", "K1", NOW + 60)
    refused(admit(dist, request(signed.replace(f"https://{DOMAIN}", f"http://{HOST}"))),
            "AccessDenied", "Access denied")  # fmt: skip


def test_signing_parameters_go_on_unless_the_setting_strips_them(tmp_path: Path) -> None:
    signed = signing.canned_url(URL + "?size=large", "K1", NOW + 60)
    cookies = {"CloudFront-Key-Pair-Id": "K1", "session": "abc"}
    for strip, query, cookie in (
        (False, signed.split("?", 1)[1], "CloudFront-Key-Pair-Id=K1; session=abc"),
        (True, "size=large", "session=abc"),
    ):
        dist = make_dist(
            tmp_path, config(f"[private_content]\nstrip_signing_parameters = {str(strip).lower()}")
        )
        flow = make_flow(dist, request(signed, cookies=cookies))
        flow.received_ms = NOW * 1000
        flow.viewer_request = flow.request
        assert viewer.admit(flow) is None
        assert flow.request.query == query
        assert flow.request.header("cookie") == cookie


_SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~%", min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(_SEGMENT, min_size=1, max_size=4),
    st.one_of(st.none(), st.lists(st.tuples(_SEGMENT, _SEGMENT), min_size=1, max_size=3)),
    st.data(),
)
def test_any_url_signed_by_botocore_passes_and_any_change_to_it_fails(
    tmp_path_factory: pytest.TempPathFactory,
    segments: list[str],
    params: list[tuple[str, str]] | None,
    data: st.DataObject,
) -> None:
    dist = _shared_dist(tmp_path_factory)
    path = "/private/" + "/".join(segments)
    query = "&".join(f"{k}={v}" for k, v in params) if params else None
    url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
    signed = signing.canned_url(url, "K1", NOW + 60)
    assert admit(dist, request(signed)) is None
    # One character of the path or the query changed: the canned signature no longer fits.
    target = url.removeprefix(f"http://{HOST}")
    # (not the separators: without them the signing parameters would not be parameters)
    positions = [i for i in range(len("/private/"), len(target)) if target[i] not in "?&="]
    i = data.draw(st.sampled_from(positions))
    replacement = "X" if target[i] != "X" else "Y"
    changed = signed.replace(target, target[:i] + replacement + target[i + 1 :], 1)
    refused(admit(dist, request(changed)), "AccessDenied", "Access denied")


_DISTS: dict[str, Distribution] = {}


def _shared_dist(factory: pytest.TempPathFactory) -> Distribution:
    if "dist" not in _DISTS:
        _DISTS["dist"] = make_dist(factory.mktemp("signed"), config())
    return _DISTS["dist"]


def test_serve_names_private_behaviours_and_their_key_ids(
    dist: Distribution, tmp_path: Path
) -> None:
    lines = banner(dist)
    assert lines[0] == (
        "private content: /private/* needs a signed URL or signed cookies "
        "(key groups signers; Key-Pair-Id K1, KEC)"
    )
    assert "edgesim sign URL --key-pair-id ID" in lines[-1]
    assert banner(make_dist(tmp_path, BASE)) == []


def _b64(data: bytes) -> str:
    from edgesim.edge.signed_policy import url_safe_b64encode

    return url_safe_b64encode(data)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Expires=%C2%B2", "MalformedPolicy"),  # a digit to isdigit(), not to int()
        ("Expires=" + "9" * 5000, "MalformedPolicy"),  # past int()'s digit limit
        ("Policy=" + _b64(b"[" * 3000 + b"]" * 3000), "MalformedPolicy"),  # nested too deep
    ],
)
def test_hostile_signing_parameters_are_refused_not_crashed(
    dist: Distribution, query: str, code: str
) -> None:
    url = f"http://{HOST}/private/report.pdf?{query}&Signature={_b64(b'x' * 256)}&Key-Pair-Id=K1"
    refused = admit(dist, request(url))
    assert refused is not None
    assert refused.status == 403
    assert f"<Code>{code}</Code>" in bytes(refused.source.data).decode()  # type: ignore[union-attr]
