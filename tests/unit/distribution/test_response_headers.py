"""[[response_headers_policies]]: security headers, CORS, custom and removed headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.distribution.model import CustomHeader
from tests.unit.distribution.helpers import BASE, assert_problem, named_cases, parse, policy


def test_security_header_variants(project: Path) -> None:
    text = (
        BASE
        + """
[[response_headers_policies]]
name = "r"
[response_headers_policies.security_headers]
content_type_options = { override = false }
xss_protection = { protection = false }
strict_transport_security = { max_age_s = 60, override = false }
referrer_policy = { value = "no-referrer", override = false }

[[behaviors]]
path = "/r"
origin = "app"
response_headers_policy = "r"
"""
    )
    policy = parse(project, text).behaviors[0].response_headers_policy
    assert policy is not None
    assert policy.security_headers == (
        CustomHeader("X-Content-Type-Options", "nosniff", False),
        CustomHeader("Referrer-Policy", "no-referrer", False),
        CustomHeader("Strict-Transport-Security", "max-age=60", False),
        CustomHeader("X-XSS-Protection", "0"),
    )
    assert policy.cors is None


def rhp(body: str) -> str:
    return policy("response_headers_policies", body)


CASES = named_cases(
    [
        (
            "rhp-frame",
            rhp('security_headers = { frame_options = "ALLOW" }'),
            "edgesim.toml: response_headers_policies[0].security_headers.frame_options: 'ALLOW' is not one of DENY, SAMEORIGIN",
        ),
        (
            "rhp-referrer-table",
            rhp('security_headers = { referrer_policy = { value = "strict" } }'),
            "edgesim.toml: response_headers_policies[0].security_headers.referrer_policy.value: 'strict' is not one of no-referrer,",
        ),
        (
            "rhp-referrer-missing-value",
            rhp("security_headers = { referrer_policy = { override = true } }"),
            "edgesim.toml: response_headers_policies[0].security_headers.referrer_policy.value: is required",
        ),
        (
            "rhp-hsts-max-age",
            rhp("security_headers = { strict_transport_security = { preload = true } }"),
            "edgesim.toml: response_headers_policies[0].security_headers.strict_transport_security.max_age_s: is required",
        ),
        (
            "rhp-hsts-type",
            rhp("security_headers = { strict_transport_security = 60 }"),
            "edgesim.toml: response_headers_policies[0].security_headers.strict_transport_security: expected a table, got integer 60",
        ),
        (
            "rhp-xss-both",
            rhp(
                'security_headers = { xss_protection = { protection = true, mode_block = true, report_uri = "https://r" } }'
            ),
            "edgesim.toml: response_headers_policies[0].security_headers.xss_protection.report_uri: cannot be combined with mode_block",
        ),
        (
            "rhp-xss-off-mode",
            rhp(
                "security_headers = { xss_protection = { protection = false, mode_block = true } }"
            ),
            "edgesim.toml: response_headers_policies[0].security_headers.xss_protection.protection: mode_block and report_uri need protection = true",
        ),
        (
            "rhp-content-type",
            rhp('security_headers = { content_type_options = "yes" }'),
            "edgesim.toml: response_headers_policies[0].security_headers.content_type_options: expected true or false, got string 'yes'",
        ),
        (
            "rhp-security-typo",
            rhp('security_headers = { x_frame_options = "DENY" }'),
            "edgesim.toml: response_headers_policies[0].security_headers.x_frame_options: unknown key (did you mean 'frame_options'?)",
        ),
        (
            "rhp-cors-method",
            rhp('cors = { allow_methods = ["FETCH"] }'),
            "edgesim.toml: response_headers_policies[0].cors.allow_methods: 'FETCH' is not one of GET, POST, OPTIONS, PUT, DELETE, PATCH, HEAD, ALL",
        ),
        (
            "rhp-cors-all",
            rhp('cors = { allow_methods = ["ALL", "GET"] }'),
            "edgesim.toml: response_headers_policies[0].cors.allow_methods: 'ALL' cannot be combined with other methods",
        ),
        (
            "rhp-cors-origins",
            rhp("cors = { allow_origins = [] }"),
            "edgesim.toml: response_headers_policies[0].cors.allow_origins: must list at least one value",
        ),
        (
            "rhp-cors-max-age",
            rhp("cors = { max_age_s = -5 }"),
            "edgesim.toml: response_headers_policies[0].cors.max_age_s: -5 is out of range (must be at least 0)",
        ),
        (
            "rhp-cors-unknown",
            rhp("cors = { allow_credential = true }"),
            "edgesim.toml: response_headers_policies[0].cors.allow_credential: unknown key (did you mean 'allow_credentials'?)",
        ),
        (
            "rhp-custom-twice",
            rhp('custom_headers = { X-A = "1", x-a = "2" }'),
            "edgesim.toml: response_headers_policies[0].custom_headers: header 'x-a' is listed twice (header names ignore case)",
        ),
        (
            "rhp-custom-no-value",
            rhp("custom_headers = { X-A = { override = true } }"),
            "edgesim.toml: response_headers_policies[0].custom_headers.X-A.value: is required",
        ),
        (
            "rhp-custom-type",
            rhp("custom_headers = { X-A = 1 }"),
            "edgesim.toml: response_headers_policies[0].custom_headers.X-A: expected a string or {value, override}, got integer",
        ),
        (
            "rhp-custom-name",
            rhp('custom_headers = { "X A" = "1" }'),
            "edgesim.toml: response_headers_policies[0].custom_headers.X A: 'X A' is not a valid header name",
        ),
        (
            "rhp-remove-name",
            rhp('remove_headers = ["X A"]'),
            "edgesim.toml: response_headers_policies[0].remove_headers: 'X A' is not a valid header name",
        ),
        (
            "rhp-managed-name",
            BASE + '[[response_headers_policies]]\nname = "SimpleCORS"\n',
            "'SimpleCORS' is the name of a CloudFront managed policy",
        ),
        (
            "rhp-missing-name",
            BASE + "[[response_headers_policies]]\nremove_headers = []\n",
            "edgesim.toml: response_headers_policies[0].name: is required",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)
