"""The rehearsal's shortcuts give what the plain way gives."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.edge.message import EdgeRequest
from edgesim.rehearse.engine import _dropped_on_arrival
from edgesim.rehearse.outcome import _copy_request

_text = st.text(max_size=12)
_name = st.sampled_from(["host", "cookie", "cloudfront-viewer-country", "x-edgesim-pop",
                         "cloudfront-forwarded-proto", "cloudfront-is-mobile-viewer", "accept"]) | _text  # fmt: skip
requests = st.builds(
    EdgeRequest,
    method=st.sampled_from(["GET", "POST"]),
    path=_text.map(lambda t: "/" + t),
    query=st.none() | _text,
    headers=st.lists(st.tuples(_name, _text), max_size=6),
    client_ip=st.sampled_from(["203.0.113.9", "2001:db8::1"]),
    client_port=st.integers(0, 65535),
    has_body=st.booleans(),
    head_bytes=st.integers(0, 9000),
    pop=st.sampled_from(["", "IAD"]),
    country=st.sampled_from(["", "DE"]),
)


@settings(max_examples=100)
@given(requests)
def test_a_request_copied_for_a_run_equals_a_shallow_copy_with_its_own_headers(
    request: EdgeRequest,
) -> None:
    plain = copy.copy(request)
    plain.headers = list(request.headers)
    fast = _copy_request(request)
    assert fast == plain
    assert fast.headers is not request.headers
    fast.headers.append(("x", "y"))
    fast.path = "/changed"
    assert request == plain  # the original is untouched


@settings(max_examples=100)
@given(st.lists(_name, max_size=8))
def test_the_remembered_answer_for_a_header_name_is_the_computed_one(names: list[str]) -> None:
    from edgesim.edge.stages.viewer import is_cloudfront_generated
    from edgesim.edge.viewer import CONTROL_HEADERS

    for name in names * 2:  # the second time from what was remembered
        assert _dropped_on_arrival(name) == (
            name in CONTROL_HEADERS or is_cloudfront_generated(name)
        )
