"""The pipeline's request and origin in Lambda@Edge's event shape and back: a lambda that
returns what it received changes nothing (properties), and the event carries what the guide's
"Lambda@Edge event structure" shows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edgesim.distribution.model import CustomHeader, Origin
from edgesim.edge import lambda_codec
from edgesim.edge.message import EdgeRequest
from edgesim.edge.origin import OriginRequest

names = st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True).filter(
    lambda n: not n.startswith("cloudfront-")
)
values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
headers = st.lists(st.tuples(names, values), max_size=8)
paths = st.from_regex(r"/[A-Za-z0-9/._%-]{0,30}", fullmatch=True)
queries = st.none() | st.from_regex(r"[a-z0-9=&]{0,20}", fullmatch=True)


@given(headers, paths, queries)
def test_an_unchanged_viewer_request_comes_back_as_it_was(
    pairs: list[tuple[str, str]], path: str, query: str | None
) -> None:
    cf_header = ("cloudfront-viewer-country", "DE")
    req = EdgeRequest("GET", path, query, [*pairs, cf_header], client_ip="198.51.100.7")
    event = lambda_codec.viewer_request(req, None, include_body=False)
    assert "cloudfront-viewer-country" not in event["headers"]  # added after viewer request
    back = lambda_codec.apply_request(req, event)
    assert (back.path, back.query) == (req.path, req.query)
    # Same values per name, in order; repeated names stay together, as the event groups them.
    for name in {n for n, _ in pairs}:
        assert back.header_values(name) == req.header_values(name)
    assert back.header_values("cloudfront-viewer-country") == ["DE"]


hosts = st.from_regex(r"[a-z]{1,10}\.example\.com", fullmatch=True)


@given(
    hosts,
    st.sampled_from(["http", "https"]),
    st.integers(1, 65535),
    st.from_regex(r"(/[a-z]{1,8}){0,2}", fullmatch=True),
    st.lists(st.tuples(st.from_regex(r"X-[A-Z][a-z]{1,8}", fullmatch=True), values), max_size=3),
    st.booleans(),
)
def test_an_unchanged_origin_object_names_the_same_origin(
    host: str,
    scheme: str,
    port: int,
    path: str,
    customs: list[tuple[str, str]],
    s3: bool,
) -> None:
    custom_headers = tuple(CustomHeader(n, v) for n, v in dict(customs).items())
    url = f"https://{host}" if s3 else f"{scheme}://{host}:{port}"
    origin = Origin("app", url, origin_path=path, custom_headers=custom_headers, s3=s3)
    back = lambda_codec.origin_from(origin, lambda_codec.origin_object(origin, "eu-west-1"))
    assert back.s3 == origin.s3
    assert back.origin_path == origin.origin_path
    assert back.custom_headers == origin.custom_headers
    default = {"http": 80, "https": 443}
    if s3 or port != default[scheme]:
        assert back.url == origin.url
    else:
        assert back.url == f"{scheme}://{host}"


def test_the_origin_request_event_leaves_cloudfronts_own_and_custom_headers_out() -> None:
    origin = Origin(
        "bucket",
        "https://media.s3.eu-west-1.amazonaws.com",
        custom_headers=(CustomHeader("X-Secret", "s"),),
        s3=True,
    )
    outgoing = OriginRequest(
        "GET",
        "/a.png",
        None,
        [("Host", "media.s3.eu-west-1.amazonaws.com"), ("X-Amz-Cf-Id", "id"), ("X-Secret", "s")],
    )
    event = lambda_codec.origin_request(
        outgoing, origin, client_ip="203.0.113.9", region="us-east-1"
    )
    assert set(event["headers"]) == {"host"}
    assert event["querystring"] == ""
    s3 = event["origin"]["s3"]
    assert s3["region"] == "eu-west-1"  # the bucket's, from its endpoint
    assert s3["customHeaders"] == {"x-secret": [{"key": "X-Secret", "value": "s"}]}
