"""functions/country_redirect.js: viewers of countries with a mirror are redirected to it."""

import pytest

from edgesim.testing import load_function, viewer_request
from tests.examples import FUNCTIONS

SOURCE = FUNCTIONS / "country_redirect.js"
MIRRORS = {"DE": "https://de.example.com", "FR": "https://fr.example.com"}


@pytest.fixture(scope="module")
def fn():
    return load_function(SOURCE)


@pytest.mark.parametrize(("country", "mirror"), MIRRORS.items())
def test_countries_with_a_mirror_are_redirected_there(fn, country: str, mirror: str) -> None:
    result = fn.run(viewer_request("/shop/item?id=1", country=country))
    assert result.response["statusCode"] == 302
    assert result.response["headers"]["location"] == {"value": mirror + "/shop/item"}
    assert result.response["headers"]["cache-control"] == {"value": "max-age=300"}


def test_other_countries_pass_through(fn) -> None:
    event = viewer_request("/shop", country="US")
    assert fn.run(event).request == event["request"]


def test_without_the_country_header_the_request_passes(fn) -> None:
    # The behaviour's policies must forward CloudFront-Viewer-Country; without it, no redirect.
    event = viewer_request("/shop")
    assert fn.run(event).request == event["request"]
