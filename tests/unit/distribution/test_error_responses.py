"""[[custom_error_responses]]: error codes, pages, response codes, caching."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.distribution.helpers import BASE, assert_problem, named_cases

CASES = named_cases(
    [
        (
            "error-code",
            BASE + "[[custom_error_responses]]\nerror_code = 418\n",
            "edgesim.toml: custom_error_responses[0].error_code: 418 is not one of 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504",
        ),
        (
            "error-code-type",
            BASE + '[[custom_error_responses]]\nerror_code = "404"\n',
            "edgesim.toml: custom_error_responses[0].error_code: expected an integer, got string '404'",
        ),
        (
            "error-page-alone",
            BASE
            + '[[custom_error_responses]]\nerror_code = 404\nresponse_page_path = "/404.html"\n',
            "edgesim.toml: custom_error_responses[0]: response_page_path and response_code go together: set both or neither",
        ),
        (
            "error-page-slash",
            BASE
            + '[[custom_error_responses]]\nerror_code = 404\nresponse_page_path = "404.html"\nresponse_code = 404\n',
            "edgesim.toml: custom_error_responses[0].response_page_path: '404.html' must start with '/'",
        ),
        (
            "error-response-code",
            BASE
            + '[[custom_error_responses]]\nerror_code = 404\nresponse_page_path = "/a"\nresponse_code = 201\n',
            "edgesim.toml: custom_error_responses[0].response_code: 201 is not one of 200, 400,",
        ),
        (
            "error-duplicate",
            BASE
            + "[[custom_error_responses]]\nerror_code = 404\n[[custom_error_responses]]\nerror_code = 404\n",
            "edgesim.toml: custom_error_responses[1].error_code: duplicate error code '404' (first declared at custom_error_responses[0])",
        ),
        (
            "error-code-negative",
            BASE + "[[custom_error_responses]]\nerror_code = -1\n",
            "edgesim.toml: custom_error_responses[0].error_code: -1 is not one of 400,",
        ),
        (
            "error-ttl",
            BASE + "[[custom_error_responses]]\nerror_code = 404\nerror_caching_min_ttl = -1\n",
            "edgesim.toml: custom_error_responses[0].error_caching_min_ttl: -1 is out of range (must be at least 0)",
        ),
        (
            "error-missing-code",
            BASE + "[[custom_error_responses]]\nerror_caching_min_ttl = 1\n",
            "edgesim.toml: custom_error_responses[0].error_code: is required",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)
