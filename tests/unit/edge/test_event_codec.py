"""edgesim.edge.event_codec: the event a CloudFront Function gets, and the wire form of what it
returns.

CloudFront behaviour relied on (module docstring; reference notes §1; AWS "CloudFront Functions
event structure"): header names are lower-case; ``Cookie`` / ``Set-Cookie`` appear only under
``cookies``; repeated names collapse to ``value`` (the first) plus ``multiValue`` (all); query
names and values reach the function as the viewer spelled them, percent-encoding kept
(KensioSoftware/yulin#1024); disallowed and hop-by-hop headers are not in the event. On the way
back, a section the function did not change is forwarded exactly as the viewer sent it; a changed
``multiValue`` wins, otherwise a changed ``value`` replaces only the first duplicate.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.edge.event_codec import (
    apply_request_output,
    body_bytes,
    function_host,
    hidden_from_functions,
    parse_query,
    parse_set_cookie,
    request_event,
    response_event,
    response_from_output,
    wire_name,
)
from edgesim.edge.message import EdgeRequest, Headers, lower_headers

CONTEXT = {"distributionDomainName": "d111111abcdef8.cloudfront.net", "requestId": "rid"}


def make_request(
    headers: Headers, query: str | None = None, path: str = "/index.html", **kw: Any
) -> EdgeRequest:
    kw.setdefault("client_ip", "203.0.113.7")
    return EdgeRequest("GET", path, query, headers, **kw)


def event_for(req: EdgeRequest) -> dict[str, Any]:
    return request_event(req, event_type="viewer-request", context=CONTEXT)


def unchanged_output(event: dict[str, Any]) -> dict[str, Any]:
    """What a function that returns ``event.request`` untouched gives back."""
    return copy.deepcopy(event["request"])


# --- request_event ---------------------------------------------------------------------------


def test_event_has_the_documented_top_level_shape() -> None:
    req = EdgeRequest("POST", "/a%20b/c", None, [("host", "example.com")], client_ip="198.51.100.9")
    event = event_for(req)
    assert event["version"] == "1.0"
    assert event["context"] == {**CONTEXT, "eventType": "viewer-request"}
    assert event["viewer"] == {"ip": "198.51.100.9"}
    assert event["request"] == {
        "method": "POST",
        "uri": "/a%20b/c",
        "querystring": {},
        "headers": {"host": {"value": "example.com"}},
        "cookies": {},
    }


def test_header_names_are_lower_case_in_the_event() -> None:
    wire = [("User-Agent", "curl/8"), ("X-Custom-Thing", "A"), ("ACCEPT", "*/*")]
    headers = event_for(make_request(lower_headers(wire)))["request"]["headers"]
    assert headers == {
        "user-agent": {"value": "curl/8"},
        "x-custom-thing": {"value": "A"},
        "accept": {"value": "*/*"},
    }


def test_cookies_appear_only_under_cookies() -> None:
    req = make_request([("cookie", "a=1; b=2"), ("accept", "*/*"), ("cookie", "c=3")])
    request = event_for(req)["request"]
    assert "cookie" not in request["headers"]
    assert request["cookies"] == {"a": {"value": "1"}, "b": {"value": "2"}, "c": {"value": "3"}}


def test_repeated_names_collapse_to_value_plus_multi_value() -> None:
    req = make_request(
        [("x-id", "first"), ("accept", "*/*"), ("x-id", "second"), ("cookie", "s=1; s=2")],
        query="tag=a&tag=b&one=1",
    )
    request = event_for(req)["request"]
    assert request["headers"]["x-id"] == {
        "value": "first",
        "multiValue": [{"value": "first"}, {"value": "second"}],
    }
    assert request["headers"]["accept"] == {"value": "*/*"}  # a single value has no multiValue
    assert request["cookies"]["s"] == {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]}
    assert request["querystring"] == {
        "tag": {"value": "a", "multiValue": [{"value": "a"}, {"value": "b"}]},
        "one": {"value": "1"},
    }


def test_query_names_and_values_keep_the_viewers_percent_encoding() -> None:
    # Field report KensioSoftware/yulin#1024: ?q=%E5%AE%B6 arrives as "%E5%AE%B6".
    req = make_request([], query="q=%E5%AE%B6&a+b=c%20d&n%61me=%3D&eq=x=y")
    assert event_for(req)["request"]["querystring"] == {
        "q": {"value": "%E5%AE%B6"},
        "a+b": {"value": "c%20d"},
        "n%61me": {"value": "%3D"},
        "eq": {"value": "x=y"},
    }


def test_parse_query_keeps_names_without_a_value_and_skips_empty_parts() -> None:
    assert parse_query("flag&&a=1&=v&b=") == [("flag", ""), ("a", "1"), ("", "v"), ("b", "")]
    assert parse_query("") == []
    assert parse_query(None) == []


@pytest.mark.parametrize(
    "name",
    [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "proxy-authorization",
        "expect",
        "x-amz-cf-id",
        "x-amz-cf-anything",
        "x-edge-location",
        "x-forwarded-proto",
        "x-real-ip",
        "x-cache",
    ],
)
def test_hidden_and_hop_by_hop_headers_are_not_in_the_event(name: str) -> None:
    assert hidden_from_functions(name)
    headers = event_for(make_request([(name, "v"), ("accept", "*/*")]))["request"]["headers"]
    assert headers == {"accept": {"value": "*/*"}}


def test_ordinary_and_cloudfront_headers_are_not_hidden() -> None:
    for name in ("accept", "cloudfront-viewer-country", "x-forwarded-for", "host", "cookie"):
        assert not hidden_from_functions(name)


@pytest.mark.parametrize(
    ("sent", "seen"),
    [
        ("WWW.Example.COM:443", "www.example.com"),  # field run, issue 9
        ("localhost:8080", "localhost"),
        ("Example.com", "example.com"),
        ("127.0.0.1:8080", "127.0.0.1"),
        ("[2001:DB8::1]:8080", "[2001:db8::1]"),
        ("[::1]", "[::1]"),
        ("example.com:notaport", "example.com:notaport"),
    ],
)
def test_function_host_is_lower_case_without_a_port(sent: str, seen: str) -> None:
    assert function_host(sent) == seen


def test_the_event_host_is_the_function_host() -> None:
    req = make_request([("host", "WWW.Example.COM:8080")])
    assert event_for(req)["request"]["headers"]["host"] == {"value": "www.example.com"}


def test_the_request_itself_is_not_changed_by_building_the_event() -> None:
    headers = [("host", "A.example:80"), ("cookie", "a=1")]
    req = make_request(list(headers), query="x=%20")
    event_for(req)
    assert req.headers == headers
    assert req.query == "x=%20"


# --- apply_request_output ----------------------------------------------------------------------


def test_untouched_query_keeps_the_viewers_exact_spelling_and_order() -> None:
    raw = "b=2&a=%41&b=1&&flag&c=%e5"
    req = make_request([], query=raw)
    event = event_for(req)
    assert apply_request_output(req, unchanged_output(event), event).query == raw


def test_untouched_cookies_keep_the_viewers_headers_verbatim() -> None:
    cookies = [("cookie", "b=2;a=1"), ("cookie", "b=3 ;  flag")]
    req = make_request([("accept", "*/*"), *cookies])
    event = event_for(req)
    out = apply_request_output(req, unchanged_output(event), event)
    assert out.header_values("cookie") == ["b=2;a=1", "b=3 ;  flag"]


def test_changed_cookies_are_rebuilt_into_one_header() -> None:
    req = make_request([("cookie", "a=1"), ("cookie", "b=2")])
    event = event_for(req)
    output = unchanged_output(event)
    output["cookies"]["b"] = {"value": "9"}
    output["cookies"]["c"] = {"value": "new"}
    out = apply_request_output(req, output, event)
    assert out.header_values("cookie") == ["a=1; b=9; c=new"]


def test_deleting_every_cookie_drops_the_cookie_header() -> None:
    req = make_request([("cookie", "a=1"), ("accept", "*/*")])
    event = event_for(req)
    output = unchanged_output(event)
    output["cookies"] = {}
    out = apply_request_output(req, output, event)
    assert out.header("cookie") is None
    assert out.header("accept") == "*/*"


def test_a_changed_multi_value_wins() -> None:
    req = make_request([("x-id", "1"), ("x-id", "2"), ("x-id", "3")])
    event = event_for(req)
    output = unchanged_output(event)
    output["headers"]["x-id"]["multiValue"] = [{"value": "a"}, {"value": "z"}]
    output["headers"]["x-id"]["value"] = "ignored"
    assert apply_request_output(req, output, event).header_values("x-id") == ["a", "z"]


def test_a_changed_value_replaces_only_the_first_duplicate() -> None:
    req = make_request([("x-id", "1"), ("x-id", "2"), ("x-id", "3")], query="t=1&t=2")
    event = event_for(req)
    output = unchanged_output(event)
    output["headers"]["x-id"]["value"] = "new"
    output["querystring"]["t"]["value"] = "first"
    out = apply_request_output(req, output, event)
    assert out.header_values("x-id") == ["new", "2", "3"]
    assert out.query == "t=first&t=2"


def test_changed_query_is_rebuilt_from_the_object_without_re_encoding() -> None:
    req = make_request([], query="q=%E5%AE%B6&drop=1")
    event = event_for(req)
    output = unchanged_output(event)
    del output["querystring"]["drop"]
    output["querystring"]["added"] = {"value": "a%2Fb"}
    assert apply_request_output(req, output, event).query == "q=%E5%AE%B6&added=a%2Fb"


def test_query_assigned_as_a_string_is_used_verbatim_and_empty_means_none() -> None:
    # AWS sample normalize-query-string-parameters assigns a string to querystring.
    req = make_request([], query="b=2&a=1")
    event = event_for(req)
    output = unchanged_output(event)
    output["querystring"] = "a=1&b=2"
    assert apply_request_output(req, output, event).query == "a=1&b=2"
    output["querystring"] = ""
    assert apply_request_output(req, output, event).query is None
    output["querystring"] = {}
    assert apply_request_output(req, output, event).query is None


def test_headers_a_function_adds_are_lower_cased_and_removed_ones_are_gone() -> None:
    req = make_request([("accept", "*/*"), ("x-drop", "1")])
    event = event_for(req)
    output = unchanged_output(event)
    del output["headers"]["x-drop"]
    output["headers"]["X-Added"] = {"value": "Yes"}
    out = apply_request_output(req, output, event)
    assert out.header("x-drop") is None
    assert out.header("x-added") == "Yes"
    assert out.header("X-Added") is None


def test_headers_the_function_could_not_see_are_carried_over() -> None:
    hidden = [("x-amz-cf-id", "cfid"), ("x-forwarded-proto", "https"), ("connection", "close")]
    req = make_request([("accept", "*/*"), *hidden])
    event = event_for(req)
    output = unchanged_output(event)
    output["headers"] = {}  # even a function that drops every header cannot drop these
    out = apply_request_output(req, output, event)
    assert out.headers == hidden


def test_uri_and_the_request_facts_come_through() -> None:
    req = EdgeRequest(
        "PUT",
        "/old",
        None,
        [],
        client_ip="192.0.2.1",
        client_port=5555,
        http_version="2",
        scheme="https",
        has_body=True,
        pop="FRA",
        country="DE",
    )
    event = event_for(req)
    output = unchanged_output(event)
    output["uri"] = "/new%20path"
    out = apply_request_output(req, output, event)
    assert out.path == "/new%20path"
    assert out.query is None
    assert (
        out.method,
        out.client_ip,
        out.client_port,
        out.http_version,
        out.scheme,
        out.has_body,
        out.pop,
        out.country,
    ) == ("PUT", "192.0.2.1", 5555, "2", "https", True, "FRA", "DE")


_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=6)
_header_name = _token.map(lambda t: "x-" + t) | st.sampled_from(
    ["accept", "user-agent", "x-amz-cf-id", "connection", "x-forwarded-proto"]
)
_header_value = st.text(
    alphabet=st.characters(codec="ascii", min_codepoint=0x20, max_codepoint=0x7E), max_size=10
)
_query_text = st.text(alphabet="abcAB09%+-._~!$'()*,;:@/?E5", max_size=6)
_cookie_text = st.text(alphabet="abcAB09%-._~!#$&'()*+/:<>?@[]^`{|}", max_size=6)


@given(
    headers=st.lists(st.tuples(_header_name, _header_value), max_size=8),
    host=st.none() | _token,
    query=st.none()
    | st.lists(st.tuples(_query_text, _query_text), max_size=5).map(
        lambda pairs: "&".join(f"{n}={v}" for n, v in pairs)
    ),
    cookie_headers=st.lists(
        st.lists(st.tuples(_cookie_text.filter(bool), _cookie_text), min_size=1, max_size=3).map(
            lambda pairs: "; ".join(f"{n}={v}" for n, v in pairs)
        ),
        max_size=3,
    ),
)
def test_a_request_returned_unchanged_goes_out_as_it_came_in(
    headers: Headers, host: str | None, query: str | None, cookie_headers: list[str]
) -> None:
    wire = list(headers)
    if host is not None:
        wire.insert(0, ("host", host))  # already as a function sees it: lower-case, no port
    wire += [("cookie", c) for c in cookie_headers]
    req = make_request(wire, query=query)
    event = event_for(req)
    out = apply_request_output(req, unchanged_output(event), event)
    assert out.query == req.query
    assert out.header_values("cookie") == cookie_headers
    for name, _ in wire:
        assert out.header_values(name) == req.header_values(name), name
    assert sorted(out.headers) == sorted(req.headers)


# --- responses -----------------------------------------------------------------------------


def test_parse_set_cookie_splits_name_value_and_attributes() -> None:
    assert parse_set_cookie("sid=a=b; Path=/; HttpOnly") == ("sid", "a=b", "Path=/; HttpOnly")
    assert parse_set_cookie("plain=1") == ("plain", "1", "")


def response_headers() -> Headers:
    return [
        ("content-type", "text/html"),
        ("set-cookie", "sid=abc; Path=/; HttpOnly"),
        ("x-v", "1"),
        ("set-cookie", "pref=dark"),
        ("set-cookie", "sid=def; Path=/admin"),
        ("x-v", "2"),
    ]


def test_response_event_puts_set_cookie_only_under_cookies_with_attributes() -> None:
    request = event_for(make_request([("accept", "*/*")]))
    event = response_event(request, 200, response_headers(), "OK")
    response = event["response"]
    assert response["statusCode"] == 200
    assert response["statusDescription"] == "OK"
    assert "set-cookie" not in response["headers"]
    assert response["headers"] == {
        "content-type": {"value": "text/html"},
        "x-v": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]},
    }
    assert response["cookies"] == {
        "sid": {
            "value": "abc",
            "attributes": "Path=/; HttpOnly",
            "multiValue": [
                {"value": "abc", "attributes": "Path=/; HttpOnly"},
                {"value": "def", "attributes": "Path=/admin"},
            ],
        },
        "pref": {"value": "dark", "attributes": ""},
    }


def test_response_event_keeps_the_request_part_and_switches_the_event_type() -> None:
    request = event_for(make_request([("accept", "*/*")], query="a=1"))
    snapshot = copy.deepcopy(request)
    event = response_event(request, 304, [])
    assert event["context"]["eventType"] == "viewer-response"
    assert event["request"] == snapshot["request"]
    assert "statusDescription" not in event["response"]  # no reason phrase: not set
    assert request == snapshot  # the viewer-request event is not changed


def test_an_unchanged_response_gives_back_the_same_headers_and_cookies() -> None:
    request = event_for(make_request([]))
    event = response_event(request, 200, response_headers(), "OK")
    output = copy.deepcopy(event["response"])
    status, reason, headers, body = response_from_output(output, event["response"])
    assert (status, reason, body) == (200, "OK", None)
    assert [v for n, v in headers if n == "set-cookie"] == [
        "sid=abc; Path=/; HttpOnly",
        "sid=def; Path=/admin",
        "pref=dark",
    ]
    assert [(n, v) for n, v in headers if n != "set-cookie"] == [
        ("content-type", "text/html"),
        ("x-v", "1"),
        ("x-v", "2"),
    ]


def test_a_changed_cookie_value_replaces_only_the_first_set_cookie() -> None:
    request = event_for(make_request([]))
    event = response_event(request, 200, response_headers(), "OK")
    output = copy.deepcopy(event["response"])
    output["cookies"]["sid"]["value"] = "new"
    _, _, headers, _ = response_from_output(output, event["response"])
    assert [v for n, v in headers if n == "set-cookie" and v.startswith("sid=")] == [
        "sid=new; Path=/; HttpOnly",
        "sid=def; Path=/admin",
    ]


def test_a_changed_cookie_multi_value_wins() -> None:
    request = event_for(make_request([]))
    event = response_event(request, 200, response_headers(), "OK")
    output = copy.deepcopy(event["response"])
    output["cookies"]["sid"]["multiValue"] = [{"value": "only", "attributes": "Secure"}]
    _, _, headers, _ = response_from_output(output, event["response"])
    assert [v for n, v in headers if n == "set-cookie" and v.startswith("sid=")] == [
        "sid=only; Secure"
    ]


def test_a_generated_response_with_cookies_headers_and_description() -> None:
    # A response generated in viewer-request: there is no response before it.
    output = {
        "statusCode": 302,
        "statusDescription": "Found",
        "headers": {"Location": {"value": "https://example.com/"}},
        "cookies": {"a": {"value": "1", "attributes": "Max-Age=60"}, "b": {"value": "2"}},
    }
    status, reason, headers, body = response_from_output(output, None)
    assert (status, reason, body) == (302, "Found", None)
    assert headers == [
        ("location", "https://example.com/"),
        ("set-cookie", "a=1; Max-Age=60"),
        ("set-cookie", "b=2"),
    ]


def test_status_defaults_to_200_and_a_non_string_description_is_ignored() -> None:
    status, reason, headers, _ = response_from_output({"statusDescription": 5}, None)
    assert (status, reason, headers) == (200, None, [])


def test_bodies_text_base64_and_absent() -> None:
    raw = bytes(range(256))
    b64 = base64.b64encode(raw).decode()
    assert response_from_output({"body": {"encoding": "base64", "data": b64}}, None)[3] == raw
    assert body_bytes({"body": {"encoding": "text", "data": "héllo"}}) == "héllo".encode()
    assert body_bytes({"body": "plain ✓"}) == "plain ✓".encode()
    assert body_bytes({"body": {"data": "no encoding"}}) == b"no encoding"
    assert body_bytes({}) is None  # no body: keep the original


@pytest.mark.parametrize(
    ("name", "wire"),
    [
        ("content-type", "Content-Type"),
        ("x-amz-cf-pop", "X-Amz-Cf-Pop"),
        ("etag", "Etag"),
        ("www-authenticate", "Www-Authenticate"),
        ("x-ABC", "X-ABC"),
        ("a--b", "A--B"),
    ],
)
def test_wire_name_capitalises_each_hyphen_separated_word(name: str, wire: str) -> None:
    assert wire_name(name) == wire


def test_response_event_hides_disallowed_and_hop_by_hop_headers() -> None:
    request = request_event(
        EdgeRequest("GET", "/", None, []), event_type="viewer-request", context={}
    )
    headers = [
        ("content-type", "text/plain"),
        ("x-cache", "Miss"),
        ("x-amz-cf-id", "abc"),
        ("connection", "keep-alive"),
        ("transfer-encoding", "chunked"),
    ]
    event = response_event(request, 200, headers, "OK")
    assert set(event["response"]["headers"]) == {"content-type"}
