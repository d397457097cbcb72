"""[[origins]] and [[origin_groups]]: URLs, paths, custom headers, timeouts, failover groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.distribution.helpers import BASE, DEFAULT, ORIGIN, assert_problem, named_cases


def origin_with(extra: str) -> str:
    return ORIGIN + extra + "\n" + DEFAULT


MANY_GROUPS = "".join(
    f'[[origin_groups]]\nid = "g{i}"\nprimary = "app"\nsecondary = "b"\n' for i in range(11)
)

CASES = named_cases(
    [
        (
            "origin-scheme",
            '[[origins]]\nid = "app"\nurl = "ftp://h"\n' + DEFAULT,
            "edgesim.toml: origins[0].url: 'ftp://h': the scheme must be http or https",
        ),
        (
            "origin-path-in-url",
            '[[origins]]\nid = "app"\nurl = "http://h/app/"\n' + DEFAULT,
            "edgesim.toml: origins[0].url: 'http://h/app/': an origin URL has no path; put '/app' in origin_path instead",
        ),
        (
            "origin-bad-port",
            '[[origins]]\nid = "app"\nurl = "http://h:99999"\n' + DEFAULT,
            "edgesim.toml: origins[0].url: 'http://h:99999' is not a valid URL",
        ),
        (
            "origin-no-host",
            '[[origins]]\nid = "app"\nurl = "http://"\n' + DEFAULT,
            "edgesim.toml: origins[0].url: 'http://': the host is missing",
        ),
        (
            "origin-query",
            '[[origins]]\nid = "app"\nurl = "http://h?a=1"\n' + DEFAULT,
            "edgesim.toml: origins[0].url: 'http://h?a=1': an origin URL has no query string or fragment",
        ),
        (
            "origin-userinfo",
            '[[origins]]\nid = "app"\nurl = "http://u:p@h"\n' + DEFAULT,
            "user information is not allowed",
        ),
        (
            "origin-missing-id",
            '[[origins]]\nurl = "http://h"\n' + DEFAULT,
            "edgesim.toml: origins[0].id: is required",
        ),
        (
            "origin-missing-url",
            '[[origins]]\nid = "app"\n' + DEFAULT,
            "edgesim.toml: origins[0].url: is required",
        ),
        (
            "origin-duplicate",
            ORIGIN + ORIGIN + DEFAULT,
            "edgesim.toml: origins[1].id: duplicate origin id 'app' (first declared at origins[0])",
        ),
        (
            "origin-path",
            origin_with('origin_path = "v1/"'),
            "edgesim.toml: origins[0].origin_path: 'v1/' must start with '/', not end with '/'",
        ),
        (
            "origin-header-forbidden",
            origin_with('custom_headers = { Host = "x" }'),
            "edgesim.toml: origins[0].custom_headers.Host: CloudFront cannot add 'Host' to origin requests",
        ),
        (
            "origin-header-prefix",
            origin_with('custom_headers = { X-Amz-Date = "x" }'),
            "edgesim.toml: origins[0].custom_headers.X-Amz-Date: CloudFront cannot add 'X-Amz-Date' to origin requests",
        ),
        (
            "origin-header-name",
            origin_with('custom_headers = { "a b" = "x" }'),
            "edgesim.toml: origins[0].custom_headers.a b: 'a b' is not a valid header name",
        ),
        (
            "origin-header-value",
            origin_with("custom_headers = { X-A = 1 }"),
            "edgesim.toml: origins[0].custom_headers.X-A: expected a string, got integer 1",
        ),
        (
            "origin-header-twice",
            origin_with('custom_headers = { X-A = "1", x-a = "2" }'),
            "edgesim.toml: origins[0].custom_headers: header 'x-a' is listed twice (header names ignore case)",
        ),
        (
            "origin-headers-type",
            origin_with('custom_headers = "X-A: 1"'),
            "edgesim.toml: origins[0].custom_headers: expected a table, got string",
        ),
        (
            "origin-connect-timeout",
            origin_with("connect_timeout_s = 11"),
            "edgesim.toml: origins[0].connect_timeout_s: 11 is out of range (allowed: 1 to 10)",
        ),
        (
            "origin-response-timeout",
            origin_with("response_timeout_s = 0.5"),
            "edgesim.toml: origins[0].response_timeout_s: 0.5 is out of range (allowed: 1 to 120)",
        ),
        (
            "origin-attempts",
            origin_with("connection_attempts = 4"),
            "edgesim.toml: origins[0].connection_attempts: 4 is out of range (allowed: 1 to 3)",
        ),
        (
            "origin-attempts-float",
            origin_with("connection_attempts = 2.5"),
            "edgesim.toml: origins[0].connection_attempts: expected an integer, got float 2.5",
        ),
        (
            "origin-timeout-nan",
            origin_with("connect_timeout_s = nan"),
            "edgesim.toml: origins[0].connect_timeout_s: must be a finite number, not nan",
        ),
        (
            "origin-unknown-key",
            origin_with('path = "/x"'),
            "edgesim.toml: origins[0].path: unknown key (did you mean 'origin_path'?); allowed keys: id, url, origin_path,",
        ),
        (
            "group-unknown-member",
            BASE + '[[origin_groups]]\nid = "g"\nprimary = "ap"\nsecondary = "app"\n',
            "edgesim.toml: origin_groups[0].primary: unknown origin 'ap' (did you mean 'app'?); members must be origins",
        ),
        (
            "group-same-members",
            BASE + '[[origin_groups]]\nid = "g"\nprimary = "app"\nsecondary = "app"\n',
            "edgesim.toml: origin_groups[0].secondary: must differ from primary ('app'): a group has two origins",
        ),
        (
            "group-code",
            BASE
            + '[[origin_groups]]\nid = "g"\nprimary = "app"\nsecondary = "b"\nfailover_status_codes = [501]\n',
            "edgesim.toml: origin_groups[0].failover_status_codes: 501 is not one of 400, 403, 404, 416, 500, 502, 503, 504",
        ),
        (
            "group-codes-empty",
            BASE
            + '[[origin_groups]]\nid = "g"\nprimary = "app"\nsecondary = "b"\nfailover_status_codes = []\n',
            "edgesim.toml: origin_groups[0].failover_status_codes: expected a non-empty array of codes",
        ),
        (
            "group-codes-table",
            BASE
            + '[[origin_groups]]\nid = "g"\nprimary = "app"\nsecondary = "b"\nfailover_status_codes = [{a = 1}]\n',
            "failover_status_codes: {'a': 1} is not one of",
        ),
        (
            "group-id-clash",
            BASE + '[[origin_groups]]\nid = "app"\nprimary = "app"\nsecondary = "b"\n',
            "edgesim.toml: origin_groups[0].id: duplicate origin or group id 'app' (first declared at origins)",
        ),
        (
            "group-missing-secondary",
            BASE + '[[origin_groups]]\nid = "g"\nprimary = "app"\n',
            "edgesim.toml: origin_groups[0].secondary: is required",
        ),
        (
            "group-quota",
            ORIGIN + '[[origins]]\nid = "b"\nurl = "http://b"\n' + MANY_GROUPS + DEFAULT,
            "edgesim.toml: origin_groups: 11 origin groups; CloudFront allows 10",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)
