"""Signed-URL policies: CloudFront's URL-safe base64, the canned statement byte for byte as
botocore builds it, custom statements read as the Developer Guide describes them, wildcards, and
the time and IP conditions."""

from __future__ import annotations

import ipaddress
import json

import pytest
from botocore.signers import CloudFrontSigner
from hypothesis import given
from hypothesis import strategies as st

from edgesim.distribution.trusted_keys import load_public_key
from edgesim.edge import signed_policy as sp
from tests import signing

_BOTO = CloudFrontSigner("K", lambda message: b"")


@given(st.binary(max_size=300))
def test_url_safe_base64_round_trips_without_query_special_characters(data: bytes) -> None:
    text = sp.url_safe_b64encode(data)
    assert not set(text) & set("+=/")
    assert sp.url_safe_b64decode(text) == data


@pytest.mark.parametrize("text", ["a!b", "abc", "ab~c~", "Zm9v YmFy"])
def test_text_that_is_not_base64_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r".+"):
        sp.url_safe_b64decode(text)


@given(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=80),
    st.integers(min_value=0, max_value=2**35),
)
def test_the_canned_statement_is_byte_for_byte_botocores(resource: str, expires: int) -> None:
    expected = _BOTO.build_policy(resource, signing.at(expires)).encode()
    assert sp.canned_policy(resource, expires) == expected


@given(
    st.text(max_size=40),
    st.integers(min_value=1, max_value=2**33),
    st.one_of(st.none(), st.integers(min_value=0, max_value=2**33)),
    st.one_of(st.none(), st.sampled_from(["192.0.2.0/24", "198.51.100.7", "10.0.0.0/8"])),
)
def test_botocore_custom_policies_read_back(
    resource: str, less: int, greater: int | None, ip: str | None
) -> None:
    text = _BOTO.build_policy(
        resource,
        signing.at(less),
        date_greater_than=signing.at(greater) if greater else None,
        ip_address=ip,
    )
    policy = sp.parse_policy(text.encode())
    assert policy.resource == resource
    assert policy.date_less_than == less
    assert policy.date_greater_than == (greater or None)
    assert policy.ip_address == (ipaddress.ip_network(ip) if ip else None)


def _statement(condition: object, **extra: object) -> bytes:
    return json.dumps(
        {"Statement": [{"Resource": "http://h/*", "Condition": condition, **extra}]}
    ).encode()


LESS = {"DateLessThan": {"AWS:EpochTime": 100}}


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"not json", "not JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"Statement":[]}', "exactly one statement"),
        (json.dumps({"Statement": [{"Condition": LESS}] * 2}).encode(), "exactly one statement"),
        (_statement({}), "has no DateLessThan"),
        (_statement({"DateLessThan": {"AWS:EpochTime": "100"}}), "number of seconds"),
        (_statement({"DateLessThan": {"AWS:EpochTime": 1.5}}), "number of seconds"),
        (_statement({"DateLessThan": {"EpochTime": 100}}), "unknown member 'EpochTime'"),
        (_statement({**LESS, "IpAddress": {"AWS:SourceIp": "300.1.1.1/8"}}), "not a CIDR"),
        (_statement({**LESS, "DateGreater": {"AWS:EpochTime": 1}}), "unknown member"),
        (_statement(LESS, Effect="Allow"), "unknown member 'Effect'"),
        (json.dumps({"Statement": [{"Resource": 7, "Condition": LESS}]}).encode(), "Resource"),
    ],
)
def test_policies_that_cannot_be_read_say_why(data: bytes, why: str) -> None:
    with pytest.raises(sp.MalformedPolicy, match=why):
        sp.parse_policy(data)


def test_a_custom_policy_without_resource_allows_any_url() -> None:
    policy = sp.parse_policy(json.dumps({"Statement": [{"Condition": LESS}]}).encode())
    assert policy.resource is None
    assert sp.denial(policy, urls=("http://any/where",), now_s=99, client_ip="1.2.3.4") is None


_TEXT = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="*?")
)


@given(_TEXT, _TEXT)
def test_without_wildcards_a_resource_matches_only_itself(a: str, b: str) -> None:
    assert sp.resource_matches(a, a)
    assert sp.resource_matches(a, b) == (a == b)


@given(_TEXT, _TEXT, st.data())
def test_star_matches_any_run_and_question_mark_exactly_one(
    prefix: str, rest: str, data: st.DataObject
) -> None:
    assert sp.resource_matches(prefix + "*", prefix + rest)
    assert sp.resource_matches("*", rest)
    url = prefix + rest
    if url:
        i = data.draw(st.integers(min_value=0, max_value=len(url) - 1))
        assert sp.resource_matches(url[:i] + "?" + url[i + 1 :], url)
        assert not sp.resource_matches(url[:i] + "??" + url[i + 1 :], url)


def test_the_guides_wildcard_example() -> None:
    pattern = "http://d111111abcdef8.cloudfront.net/*game_download.zip*"
    for url in (
        "http://d111111abcdef8.cloudfront.net/game_download.zip",
        "http://d111111abcdef8.cloudfront.net/example_game_download.zip?license=yes",
        "http://d111111abcdef8.cloudfront.net/test_game_download.zip?license=temp",
    ):
        assert sp.resource_matches(pattern, url)
    assert not sp.resource_matches(pattern, "http://d111111abcdef8.cloudfront.net/other.zip")


def test_time_boundaries_and_ip_conditions() -> None:
    policy = sp.Policy(
        resource=None,
        date_less_than=200,
        date_greater_than=100,
        ip_address=ipaddress.ip_network("192.0.2.0/24"),
    )

    def why(now: float, ip: str = "192.0.2.9") -> str | None:
        return sp.denial(policy, urls=("u",), now_s=now, client_ip=ip)

    assert "not yet valid" in str(why(99.999))
    assert why(100) is None  # "not allowed to access the object before" DateGreaterThan
    assert why(199.9) is None
    assert "expired" in str(why(200))  # DateLessThan: valid strictly before it
    assert why(150, "::ffff:192.0.2.9") is None  # an IPv4 viewer on a dual-stack listener
    assert "not in IpAddress" in str(why(150, "198.51.100.1"))
    assert "not in IpAddress" in str(why(150, "2001:db8::1"))


@pytest.mark.parametrize(
    ("kind", "why"),
    [("rsa1024", "RSA key of 1024 bits"), ("ec384", "secp384r1")],
)
def test_only_the_key_types_cloudfront_lists_load(kind: str, why: str) -> None:
    assert load_public_key(signing.public_pem("rsa").encode()).key_size == 2048  # type: ignore[union-attr]
    assert load_public_key(signing.public_pem("ec").encode()).curve.name == "secp256r1"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match=why):
        load_public_key(signing.public_pem(kind).encode())
