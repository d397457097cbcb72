"""The cookies of a viewer-request event are the viewer's Cookie headers split as
message.parse_cookie_headers splits them and collapsed as every event section is (issue 12: the
event builds them in one pass)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edgesim.edge.event_codec import _collapse, request_event
from edgesim.edge.message import EdgeRequest, parse_cookie_headers

PIECES = st.sampled_from(["a", "b", "uid", " a ", "=", ";", "; ", "x=1", "a=2", " ", "", "é", "=v"])
COOKIE = st.lists(PIECES, max_size=8).map("".join)


@given(st.lists(COOKIE, max_size=3), st.booleans())
def test_event_cookies_are_the_split_headers_collapsed(values: list[str], other: bool) -> None:
    headers = [("host", "example.com")]
    for value in values:
        headers.append(("cookie", value))
        if other:
            headers.append(("accept", "*/*"))
    req = EdgeRequest("GET", "/", None, headers)
    event = request_event(req, event_type="viewer-request", context={})
    expected = _collapse(parse_cookie_headers(values))
    # In the same order too: a function sees the names in this order (Object.keys).
    assert list(event["request"]["cookies"].items()) == list(expected.items())
