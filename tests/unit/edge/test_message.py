"""edgesim.edge.message: the request as the pipeline carries it. Header names are lower-case
(CloudFront Functions see them lower-cased), order and repetitions are kept, and cookies are read
from every ``Cookie`` header as RFC 6265 §4.2 ``name=value`` pairs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edgesim.edge.message import EdgeRequest, lower_headers, parse_cookie_headers


def request(headers: list[tuple[str, str]], query: str | None = None) -> EdgeRequest:
    return EdgeRequest("GET", "/a%20b/c", query, headers)


def test_header_is_the_first_value_and_none_when_absent() -> None:
    req = request([("accept", "text/html"), ("x-id", "1"), ("x-id", "2")])
    assert req.header("x-id") == "1"
    assert req.header("accept") == "text/html"
    assert req.header("x-missing") is None


def test_header_values_keeps_every_repetition_in_order() -> None:
    req = request([("x-id", "b"), ("accept", "*/*"), ("x-id", "a"), ("x-id", "b")])
    assert req.header_values("x-id") == ["b", "a", "b"]
    assert req.header_values("x-missing") == []


def test_cookies_come_from_every_cookie_header_in_order() -> None:
    req = request([("cookie", "a=1; b=2"), ("accept", "*/*"), ("cookie", "a=3;c=x=y")])
    # Repeated names stay; '=' inside a value belongs to the value.
    assert req.cookies() == [("a", "1"), ("b", "2"), ("a", "3"), ("c", "x=y")]


def test_no_cookie_header_means_no_cookies() -> None:
    assert request([("accept", "*/*")]).cookies() == []


def test_a_cookie_pair_without_equals_is_kept_with_an_empty_value() -> None:
    # Nothing a viewer sent disappears silently.
    assert parse_cookie_headers(["flag; a=1;  ; b="]) == [("flag", ""), ("a", "1"), ("b", "")]


def test_cookie_names_and_values_are_trimmed_but_not_decoded() -> None:
    assert parse_cookie_headers(["  sid = a%20b ;x=%3D"]) == [("sid", "a%20b"), ("x", "%3D")]


def test_target_is_the_path_plus_the_raw_query() -> None:
    assert request([], None).target == "/a%20b/c"
    # A bare '?' is kept: the URL had a query, an empty one.
    assert request([], "").target == "/a%20b/c?"
    assert request([], "q=%E5%AE%B6&x").target == "/a%20b/c?q=%E5%AE%B6&x"


def test_lower_headers_lower_cases_names_only() -> None:
    assert lower_headers([("X-Test", "VaLue"), ("Accept", "A")]) == [
        ("x-test", "VaLue"),
        ("accept", "A"),
    ]


_cookie_token = st.text(
    alphabet=st.characters(
        codec="ascii", categories=["L", "N"], include_characters="!#$%&'*+-.^_`|~"
    ),
    min_size=1,
    max_size=8,
)


@given(
    st.lists(st.tuples(_cookie_token, _cookie_token | st.just("")), max_size=6), st.integers(1, 3)
)
def test_cookie_pairs_survive_being_written_as_headers(
    pairs: list[tuple[str, str]], split: int
) -> None:
    # However the viewer splits its pairs over Cookie headers, the pairs come back in order.
    chunks = [pairs[i : i + split] for i in range(0, len(pairs), split)]
    headers = ["; ".join(f"{n}={v}" for n, v in chunk) for chunk in chunks]
    assert parse_cookie_headers(headers) == pairs
