"""CloudFront's checks of a Lambda@Edge result, rule by rule (each rule's source is cited in
edgesim/lambda_edge/validation.py)."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.lambda_edge import events
from edgesim.lambda_edge.validation import Violation, validate_result


def cf_of(event_type: str, **request: Any) -> dict[str, Any]:
    origin = events.custom_origin("example.org") if event_type.startswith("origin") else None
    headers = request.pop("headers", {"host": "example.org", "via": "2.0 abc (CloudFront)"})
    req = events.request(
        request.pop("uri", "/index.html"), headers=headers, origin=origin, **request
    )
    resp = None
    if event_type.endswith("response"):
        resp = events.response(200, status_description="OK", headers={"content-type": "text/html"})
    return events.build_event(event_type, req, resp)["Records"][0]["cf"]


def rule_of(event_type: str, cf: dict[str, Any], result: Any) -> str:
    with pytest.raises(Violation) as caught:
        validate_result(event_type, cf, result)
    return caught.value.rule


ALL = ["viewer-request", "origin-request", "origin-response", "viewer-response"]


@pytest.mark.parametrize("event_type", ALL)
def test_returning_what_came_in_is_always_valid(event_type: str) -> None:
    cf = cf_of(event_type)
    result = cf["response"] if "response" in cf else cf["request"]
    checked = validate_result(event_type, cf, copy.deepcopy(result))
    assert checked.warnings == []
    assert (checked.response or checked.request) == result


@pytest.mark.parametrize("event_type", ALL)
def test_nothing_or_a_non_object_is_a_shape_error(event_type: str) -> None:
    cf = cf_of(event_type)
    assert rule_of(event_type, cf, None) == "result-shape"
    assert rule_of(event_type, cf, "text") == "result-shape"


def test_a_response_event_must_answer_a_response() -> None:
    cf = cf_of("origin-response")
    assert rule_of("origin-response", cf, cf["request"]) == "result-shape"


def test_missing_header_keys_are_inserted_capitalised() -> None:
    cf = cf_of("origin-request")
    req = copy.deepcopy(cf["request"])
    req["headers"]["x-tenant-id"] = [{"value": "acme"}]
    checked = validate_result("origin-request", cf, req)
    assert checked.request is not None
    assert checked.request["headers"]["x-tenant-id"] == [{"key": "X-Tenant-Id", "value": "acme"}]


@pytest.mark.parametrize(
    ("event_type", "header"),
    [
        ("viewer-request", "host"),
        ("viewer-request", "via"),
        ("origin-request", "accept-encoding"),
        ("origin-request", "if-none-match"),
        ("origin-response", "transfer-encoding"),
        ("viewer-response", "warning"),
    ],
)
def test_adding_or_changing_a_read_only_header_fails(event_type: str, header: str) -> None:
    cf = cf_of(event_type)
    target = copy.deepcopy(cf["response"] if "response" in cf else cf["request"])
    target["headers"][header] = [{"key": header, "value": "changed"}]
    assert rule_of(event_type, cf, target) == "read-only-header"


def test_a_header_read_only_elsewhere_may_change_at_origin_response() -> None:
    cf = cf_of("origin-response")
    resp = copy.deepcopy(cf["response"])
    resp["headers"]["accept-encoding"] = [{"value": "br"}]
    assert validate_result("origin-response", cf, resp).response is not None


@pytest.mark.parametrize(
    "header", ["connection", "x-cache", "x-amz-cf-pop", "x-edge-location", "x-real-ip"]
)
@pytest.mark.parametrize("event_type", ALL)
def test_disallowed_headers_cannot_be_added(event_type: str, header: str) -> None:
    cf = cf_of(event_type)
    target = copy.deepcopy(cf["response"] if "response" in cf else cf["request"])
    target["headers"][header] = [{"value": "1"}]
    assert rule_of(event_type, cf, target) == "disallowed-header"


def test_disallowed_headers_cannot_be_in_a_generated_response() -> None:
    cf = cf_of("viewer-request")
    generated = {"status": "200", "headers": {"x-cache": [{"value": "Hit"}]}}
    assert rule_of("viewer-request", cf, generated) == "disallowed-header"


def test_viewer_request_cannot_add_cloudfront_viewer_country() -> None:
    cf = cf_of("viewer-request")
    req = copy.deepcopy(cf["request"])
    req["headers"]["cloudfront-viewer-country"] = [{"value": "FR"}]
    assert rule_of("viewer-request", cf, req) == "viewer-country"
    cf_o = cf_of("origin-request")
    req_o = copy.deepcopy(cf_o["request"])
    req_o["headers"]["cloudfront-viewer-country"] = [{"value": "FR"}]
    assert validate_result("origin-request", cf_o, req_o).request is not None


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "a\nb", "a\x00"])
def test_cr_lf_or_nul_in_a_header_value_fails(value: str) -> None:
    cf = cf_of("viewer-request")
    generated = {"status": "302", "headers": {"location": [{"value": value}]}}
    assert rule_of("viewer-request", cf, generated) == "header-value"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Upper": [{"value": "1"}]},
        {"x-a": {"value": "1"}},
        {"x-a": [{"value": 1}]},
        {"x-a": [{"key": "X-B", "value": "1"}]},
        [],
    ],
)
def test_headers_of_the_wrong_shape_fail(headers: Any) -> None:
    cf = cf_of("viewer-request")
    assert rule_of("viewer-request", cf, {"status": "200", "headers": headers}) == "header-shape"


@pytest.mark.parametrize("status", ["199", "600", "abc", "", None, True])
def test_a_status_outside_200_to_599_fails(status: Any) -> None:
    cf = cf_of("viewer-request")
    assert rule_of("viewer-request", cf, {"status": status}) == "status"


def test_a_numeric_status_is_accepted_with_a_warning() -> None:
    cf = cf_of("viewer-request")
    checked = validate_result("viewer-request", cf, {"status": 302})
    assert checked.response is not None
    assert checked.response["status"] == "302"
    assert checked.generated
    assert "documented as a string" in checked.warnings[0]


def test_viewer_response_cannot_change_the_status_but_origin_response_can() -> None:
    cf = cf_of("viewer-response")
    changed = {**copy.deepcopy(cf["response"]), "status": "404"}
    assert rule_of("viewer-response", cf, changed) == "status-changed"
    cf_o = cf_of("origin-response")
    changed_o = {**copy.deepcopy(cf_o["response"]), "status": "404"}
    checked = validate_result("origin-response", cf_o, changed_o)
    assert checked.response is not None
    assert checked.response["status"] == "404"


def test_a_204_with_a_body_fails_at_viewer_request() -> None:
    cf = cf_of("viewer-request")
    assert rule_of("viewer-request", cf, {"status": "204", "body": "x"}) == "body-with-204"
    assert validate_result("viewer-request", cf, {"status": "204"}).generated


@pytest.mark.parametrize(
    ("event_type", "cap"), [("viewer-request", 40 * 1024), ("origin-request", 1024 * 1024)]
)
def test_a_generated_response_is_limited_with_its_headers(event_type: str, cap: int) -> None:
    cf = cf_of(event_type)
    headers = {"content-type": [{"key": "Content-Type", "value": "text/plain"}]}
    header_bytes = len("Content-Type") + len("text/plain") + 4
    fits = {"status": "200", "headers": headers, "body": "x" * (cap - header_bytes)}
    assert validate_result(event_type, cf, fits).generated
    over = {**fits, "body": fits["body"] + "x"}
    assert rule_of(event_type, cf, over) == "response-size"


def test_a_base64_body_counts_its_decoded_bytes() -> None:
    cf = cf_of("viewer-request")
    body = base64.b64encode(b"y" * (40 * 1024)).decode()  # 54,616 characters of base64
    checked = validate_result(
        "viewer-request", cf, {"status": "200", "body": body, "bodyEncoding": "base64"}
    )
    assert checked.generated


def test_an_invalid_base64_body_or_encoding_fails() -> None:
    cf = cf_of("viewer-request")
    assert (
        rule_of(
            "viewer-request", cf, {"status": "200", "body": "not base64!", "bodyEncoding": "base64"}
        )
        == "body-encoding"
    )
    assert (
        rule_of("viewer-request", cf, {"status": "200", "body": "x", "bodyEncoding": "gzip"})
        == "body-encoding"
    )


def test_the_uri_must_start_with_a_slash() -> None:
    cf = cf_of("viewer-request")
    assert rule_of("viewer-request", cf, {**cf["request"], "uri": "index.html"}) == "uri"


def test_uri_and_query_must_stay_under_8192_characters() -> None:
    cf = cf_of("origin-request")
    uri = "/" + "a" * 8000
    ok = {
        **copy.deepcopy(cf["request"]),
        "uri": uri,
        "querystring": "q=" + "b" * (8191 - len(uri) - 1 - 2),
    }
    assert validate_result("origin-request", cf, ok).request is not None
    over = {**ok, "querystring": ok["querystring"] + "b"}
    assert rule_of("origin-request", cf, over) == "uri-length"


@pytest.mark.parametrize("query", ["a=b c", "a=b#frag", "a=\x01"])
def test_a_new_query_string_cannot_hold_spaces_controls_or_fragment(query: str) -> None:
    cf = cf_of("viewer-request")
    assert rule_of("viewer-request", cf, {**cf["request"], "querystring": query}) == "querystring"


def test_changing_method_or_client_ip_is_ignored_with_a_warning() -> None:
    cf = cf_of("viewer-request")
    checked = validate_result(
        "viewer-request", cf, {**cf["request"], "method": "POST", "clientIp": "1.2.3.4"}
    )
    assert checked.request is not None
    assert checked.request["method"] == "GET"
    assert checked.request["clientIp"] == cf["request"]["clientIp"]
    assert len(checked.warnings) == 2


@pytest.mark.parametrize(
    "origin",
    [
        {},
        {"s3": {"domainName": "b.s3.amazonaws.com"}, "custom": {"domainName": "a.org"}},
        {"custom": {"domainName": "", "port": 443, "protocol": "https"}},
        {"custom": {"domainName": "10.0.0.1", "port": 443, "protocol": "https"}},
        {"custom": {"domainName": "a.org:8080", "port": 443, "protocol": "https"}},
        {"custom": {"domainName": "a.org", "port": 8, "protocol": "https"}},
        {"custom": {"domainName": "a.org", "port": 443, "protocol": "ftp"}},
        {"custom": {"domainName": "a.org", "port": 443, "protocol": "https", "readTimeout": 2}},
        {"custom": {"domainName": "a.org", "port": 443, "protocol": "https", "path": "/x/"}},
        {"s3": {"domainName": "Bucket.s3.amazonaws.com"}},
        {"s3": {"domainName": "b.s3.amazonaws.com", "authMethod": "origin-access-identity"}},
    ],
)
def test_an_invalid_origin_fails(origin: dict[str, Any]) -> None:
    cf = cf_of("origin-request")
    assert (
        rule_of("origin-request", cf, {**copy.deepcopy(cf["request"]), "origin": origin})
        == "origin"
    )


def test_switching_to_an_s3_origin_is_allowed_at_origin_request_only() -> None:
    cf = cf_of("origin-request")
    s3 = events.s3_origin("assets.s3.eu-west-1.amazonaws.com", region="eu-west-1")
    checked = validate_result("origin-request", cf, {**copy.deepcopy(cf["request"]), "origin": s3})
    assert checked.request is not None
    assert list(checked.request["origin"]) == ["s3"]
    cf_v = cf_of("viewer-request")
    assert rule_of("viewer-request", cf_v, {**cf_v["request"], "origin": s3}) == "origin"


def test_a_custom_origin_header_cannot_repeat_a_request_header() -> None:
    cf = cf_of("origin-request")
    origin = events.custom_origin("a.org", custom_headers={"host": "x"})
    assert (
        rule_of("origin-request", cf, {**copy.deepcopy(cf["request"]), "origin": origin})
        == "origin"
    )


def test_a_read_only_body_ignores_changes_and_a_replaced_body_over_the_quota_is_truncated() -> None:
    cf = cf_of("viewer-request", body=b"a=1", method="POST")
    req = copy.deepcopy(cf["request"])
    req["body"]["data"] = "changed"
    checked = validate_result("viewer-request", cf, req)
    assert checked.request is not None
    assert checked.request["body"] == cf["request"]["body"]
    req["body"] = {"action": "replace", "encoding": "text", "data": "z" * (40 * 1024 + 5)}
    checked = validate_result("viewer-request", cf, req)
    assert checked.request is not None
    assert len(checked.request["body"]["data"]) == 40 * 1024
    assert "truncated" in checked.warnings[0]
    req["body"] = {"action": "replace", "encoding": "base64", "data": "%%%"}
    assert rule_of("viewer-request", cf, req) == "body-encoding"


@given(
    st.dictionaries(
        st.from_regex(r"x-my-[a-z]{1,8}", fullmatch=True),
        st.from_regex(r"[ -~]{0,20}", fullmatch=True),
        max_size=5,
    )
)
def test_adding_ordinary_headers_is_always_valid_and_keys_are_filled(extra: dict[str, str]) -> None:
    cf = cf_of("origin-request")
    req = copy.deepcopy(cf["request"])
    for name, value in extra.items():
        req["headers"][name] = [{"value": value}]
    checked = validate_result("origin-request", cf, req)
    assert checked.request is not None
    for name, value in extra.items():
        assert checked.request["headers"][name] == [
            {"key": events.header_key(name), "value": value}
        ]


def test_the_uri_limit_counts_utf8_bytes() -> None:
    cf = cf_of("origin-request")
    uri = "/" + "é" * 4096  # 4,097 characters, 8,193 bytes
    assert (
        rule_of("origin-request", cf, {**copy.deepcopy(cf["request"]), "uri": uri}) == "uri-length"
    )
