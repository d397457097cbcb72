"""functions/security_headers.js: the usual security headers, unless the origin set them."""

import pytest

from edgesim.testing import load_function, viewer_response
from tests.examples import FUNCTIONS

SOURCE = FUNCTIONS / "security_headers.js"
ADDED = {
    "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@pytest.fixture(scope="module")
def fn():
    return load_function(SOURCE)


def test_missing_headers_are_added(fn) -> None:
    headers = fn.run(viewer_response(200)).response["headers"]
    for name, value in ADDED.items():
        assert headers[name] == {"value": value}


def test_headers_the_origin_set_are_kept(fn) -> None:
    event = viewer_response(200, headers={"x-frame-options": "SAMEORIGIN"})
    headers = fn.run(event).response["headers"]
    assert headers["x-frame-options"] == {"value": "SAMEORIGIN"}
    assert headers["x-content-type-options"] == {"value": "nosniff"}
