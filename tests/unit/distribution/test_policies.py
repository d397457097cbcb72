"""[[cache_policies]] and [[origin_request_policies]]: TTLs and selections."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.distribution.model import Selection
from tests.unit.distribution.helpers import BASE, assert_problem, named_cases, parse, policy


def test_cache_policy_ttl_defaults(project: Path) -> None:
    text = (
        BASE
        + """
[[cache_policies]]
name = "small"
min_ttl = 5

[[cache_policies]]
name = "big-min"
min_ttl = 100000

[[cache_policies]]
name = "huge-default"
default_ttl = 40000000
"""
    )
    dist = parse(
        project,
        text + '[[behaviors]]\npath = "/a"\norigin = "app"\ncache_policy = "small"\n'
        '[[behaviors]]\npath = "/b"\norigin = "app"\ncache_policy = "big-min"\n'
        '[[behaviors]]\npath = "/c"\norigin = "app"\ncache_policy = "huge-default"\n',
    )
    ttls = [
        (b.cache_policy.min_ttl, b.cache_policy.default_ttl, b.cache_policy.max_ttl)
        for b in dist.behaviors
    ]
    assert ttls == [
        (5, 86_400, 31_536_000),
        (100_000, 100_000, 31_536_000),
        (0, 40_000_000, 40_000_000),
    ]


def test_selection_shorthands(project: Path) -> None:
    text = (
        BASE
        + """
[[cache_policies]]
name = "p"
headers = []
cookies = "all"
query_strings = ["Page", "page"]

[[behaviors]]
path = "/p"
origin = "app"
cache_policy = "p"
"""
    )
    policy = parse(project, text).behaviors[0].cache_policy
    assert policy.headers == Selection()
    assert policy.cookies == Selection("all")
    # Query-string and cookie names keep their case: CloudFront compares them case-sensitively.
    assert policy.query_strings == Selection("whitelist", frozenset({"Page", "page"}))


CASES = named_cases(
    [
        (
            "cache-headers-all",
            policy("cache_policies", 'headers = "all"'),
            "edgesim.toml: cache_policies[0].headers: headers behavior 'all' is not allowed here; allowed: none, whitelist",
        ),
        (
            "cache-headers-allexcept",
            policy("cache_policies", 'headers = { behavior = "allExcept", names = ["x"] }'),
            "edgesim.toml: cache_policies[0].headers.behavior: headers behavior 'allExcept' is not allowed here; allowed: none, whitelist",
        ),
        (
            "cache-whitelist-no-names",
            policy("cache_policies", 'cookies = { behavior = "whitelist" }'),
            "edgesim.toml: cache_policies[0].cookies.names: cookies behavior 'whitelist' needs a non-empty list of names",
        ),
        (
            "cache-all-with-names",
            policy("cache_policies", 'cookies = { behavior = "all", names = ["a"] }'),
            "edgesim.toml: cache_policies[0].cookies.names: cookies behavior 'all' takes no names",
        ),
        (
            "cache-allviewer",
            policy("cache_policies", 'query_strings = "allViewer"'),
            "edgesim.toml: cache_policies[0].query_strings: query_strings behavior 'allViewer' is not allowed here",
        ),
        (
            "cache-selection-typo",
            policy("cache_policies", 'cookies = { behaviour = "all" }'),
            "edgesim.toml: cache_policies[0].cookies.behaviour: unknown key (did you mean 'behavior'?); allowed keys: behavior, names",
        ),
        (
            "cache-selection-type",
            policy("cache_policies", "headers = 5"),
            'edgesim.toml: cache_policies[0].headers: expected "none", "all", an array of names or {behavior, names}, got 5',
        ),
        (
            "cache-header-name",
            policy("cache_policies", 'headers = ["a b"]'),
            "edgesim.toml: cache_policies[0].headers: 'a b' is not a valid header name",
        ),
        (
            "cache-names-not-strings",
            policy("cache_policies", "cookies = [1]"),
            "edgesim.toml: cache_policies[0].cookies[0]: expected a non-empty string, got integer 1",
        ),
        (
            "cache-orp-only-header",
            policy("cache_policies", 'headers = ["CloudFront-Viewer-Address"]'),
            "edgesim.toml: cache_policies[0].headers: 'cloudfront-viewer-address' can only be added by an origin request policy",
        ),
        (
            "cache-default-below-min",
            policy("cache_policies", "min_ttl = 10\ndefault_ttl = 5"),
            "edgesim.toml: cache_policies[0].default_ttl: 5 is below min_ttl (10)",
        ),
        (
            "cache-max-below-default",
            policy("cache_policies", "max_ttl = 3600"),
            "edgesim.toml: cache_policies[0].max_ttl: 3600 is below default_ttl (86400, its default; set default_ttl)",
        ),
        (
            "cache-max-below-min",
            policy("cache_policies", "min_ttl = 10\ndefault_ttl = 5\nmax_ttl = 1"),
            "edgesim.toml: cache_policies[0].max_ttl: 1 is below default_ttl (5)",
        ),
        (
            "cache-negative-ttl",
            policy("cache_policies", "min_ttl = -1"),
            "edgesim.toml: cache_policies[0].min_ttl: -1 is out of range (must be at least 0)",
        ),
        (
            "cache-managed-name",
            BASE + '[[cache_policies]]\nname = "Managed-CachingDisabled"\n',
            "edgesim.toml: cache_policies[0].name: 'Managed-CachingDisabled' is the name of a CloudFront managed policy; pick another",
        ),
        (
            "cache-duplicate",
            policy("cache_policies", "") + '[[cache_policies]]\nname = "p"\n',
            "edgesim.toml: cache_policies[1].name: duplicate policy name 'p' (first declared at cache_policies[0])",
        ),
        (
            "cache-gzip-type",
            policy("cache_policies", "enable_gzip = 1"),
            "edgesim.toml: cache_policies[0].enable_gzip: expected true or false, got integer 1",
        ),
        (
            "orp-authorization",
            policy("origin_request_policies", 'headers = ["Authorization"]'),
            "edgesim.toml: origin_request_policies[0].headers: 'authorization' cannot be in an origin request policy; add it to the cache policy instead (or use AllViewer)",
        ),
        (
            "orp-cloudfront-only",
            policy(
                "origin_request_policies",
                'headers = { behavior = "allViewerAndWhitelistCloudFront", names = ["X-A"] }',
            ),
            "edgesim.toml: origin_request_policies[0].headers.names: 'x-a' is not a CloudFront header",
        ),
        (
            "orp-cookies-allviewer",
            policy("origin_request_policies", 'cookies = "allViewer"'),
            "edgesim.toml: origin_request_policies[0].cookies: cookies behavior 'allViewer' is not allowed here; allowed: none, whitelist, all, allExcept",
        ),
        (
            "orp-managed-name",
            BASE + '[[origin_request_policies]]\nname = "allviewer"\n',
            "'allviewer' is the name of a CloudFront managed policy",
        ),
        (
            "orp-unknown-key",
            policy("origin_request_policies", "min_ttl = 1"),
            "edgesim.toml: origin_request_policies[0].min_ttl: unknown key; allowed keys: name, headers, cookies, query_strings",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)
