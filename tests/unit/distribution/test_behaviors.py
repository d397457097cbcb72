"""[[behaviors]] and [default_behavior]: patterns, targets, functions, policies, methods."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.distribution.helpers import BASE, ORIGIN, assert_problem, fn, named_cases


def behavior(extra: str) -> str:
    return BASE + '[[behaviors]]\npath = "/x"\norigin = "app"\n' + extra + "\n"


MANY_BEHAVIORS = "".join(f'[[behaviors]]\npath = "/p{i}"\norigin = "app"\n' for i in range(76))

CASES = named_cases(
    [
        (
            "behavior-cache-policy",
            behavior('cache_policy = "CachingOptimised"'),
            "edgesim.toml: behaviors[0].cache_policy: unknown cache policy 'CachingOptimised' (did you mean 'CachingOptimized'?)",
        ),
        (
            "behavior-orp",
            behavior('origin_request_policy = "AllViewers"'),
            "edgesim.toml: behaviors[0].origin_request_policy: unknown origin request policy 'AllViewers' (did you mean 'AllViewer'?)",
        ),
        (
            "behavior-rhp",
            behavior('response_headers_policy = "SecurityHeaders"'),
            "edgesim.toml: behaviors[0].response_headers_policy: unknown response headers policy 'SecurityHeaders' (did you mean 'SecurityHeadersPolicy'?)",
        ),
        (
            "behavior-origin",
            BASE + '[[behaviors]]\npath = "/x"\norigin = "ap"\n',
            "edgesim.toml: behaviors[0].origin: unknown origin or origin group 'ap' (did you mean 'app'?)",
        ),
        (
            "behavior-function",
            behavior('viewer_request = "fnc"') + fn(),
            "edgesim.toml: behaviors[0].viewer_request: unknown function 'fnc' (did you mean 'fn'?)",
        ),
        (
            "behavior-response-function",
            behavior('viewer_response = "nope"'),
            "edgesim.toml: behaviors[0].viewer_response: unknown function 'nope'",
        ),
        (
            "behavior-path",
            BASE + '[[behaviors]]\npath = "/a b"\norigin = "app"\n',
            "edgesim.toml: behaviors[0].path: path pattern '/a b' contains ' '; allowed characters are",
        ),
        (
            "behavior-path-long",
            BASE + f'[[behaviors]]\npath = "/{"a" * 255}"\norigin = "app"\n',
            "edgesim.toml: behaviors[0].path: path pattern is 256 characters; CloudFront allows 255",
        ),
        (
            "behavior-duplicate-path",
            BASE
            + '[[behaviors]]\npath = "a*"\norigin = "app"\n[[behaviors]]\npath = "/a*"\norigin = "app"\n',
            "edgesim.toml: behaviors[1].path: pattern '/a*' repeats behaviors[0]; the later one could never match",
        ),
        (
            "behavior-missing-path",
            BASE + '[[behaviors]]\norigin = "app"\n',
            "edgesim.toml: behaviors[0].path: is required",
        ),
        (
            "behavior-missing-origin",
            BASE + '[[behaviors]]\npath = "/x"\n',
            "edgesim.toml: behaviors[0].origin: is required",
        ),
        (
            "behavior-methods",
            behavior('allowed_methods = ["GET", "POST"]'),
            "edgesim.toml: behaviors[0].allowed_methods: CloudFront allows only [GET, HEAD]; [GET, HEAD, OPTIONS] or all seven [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]",
        ),
        (
            "behavior-cached-options",
            behavior('cached_methods = ["GET", "HEAD", "OPTIONS"]'),
            "edgesim.toml: behaviors[0].cached_methods: OPTIONS can be cached only when allowed_methods includes it",
        ),
        (
            "behavior-cached-set",
            behavior('cached_methods = ["GET"]'),
            "edgesim.toml: behaviors[0].cached_methods: CloudFront allows only [GET, HEAD] or [GET, HEAD, OPTIONS]",
        ),
        (
            "behavior-protocol",
            behavior('viewer_protocol_policy = "https"'),
            "edgesim.toml: behaviors[0].viewer_protocol_policy: 'https' is not one of allow-all, redirect-to-https, https-only (did you mean 'https-only'?)",
        ),
        (
            "behavior-compress",
            behavior('compress = "yes"'),
            "edgesim.toml: behaviors[0].compress: expected true or false, got string 'yes'",
        ),
        (
            "behavior-unknown-key",
            behavior('target_origin = "app"'),
            "edgesim.toml: behaviors[0].target_origin: unknown key (did you mean 'origin'?); allowed keys: path, origin, viewer_request,",
        ),
        (
            "behavior-origin-event",
            behavior('function_associations = [{ event_type = "origin-request", function = "fn" }]')
            + fn(),
            "edgesim.toml: behaviors[0].function_associations[0].event_type: 'origin-request' is not one of viewer-request, viewer-response (origin events are Lambda@Edge only)",
        ),
        (
            "behavior-two-viewer-request",
            behavior(
                'viewer_request = "fn"\nfunction_associations = [{ event_type = "viewer-request", function = "fn" }]'
            )
            + fn(),
            "edgesim.toml: behaviors[0].function_associations[0]: a second viewer-request function; a behaviour has at most one",
        ),
        (
            "behavior-association-missing",
            behavior('function_associations = [{ event_type = "viewer-request" }]'),
            "edgesim.toml: behaviors[0].function_associations[0].function: is required",
        ),
        (
            "behavior-associations-type",
            behavior('function_associations = { event_type = "viewer-request" }'),
            "edgesim.toml: behaviors[0].function_associations: expected an array of tables ([[function_associations]]), got table",
        ),
        (
            "behavior-association-unknown-function",
            behavior(
                'function_associations = [{ event_type = "viewer-response", function = "nope" }]'
            ),
            "edgesim.toml: behaviors[0].function_associations: unknown function 'nope'",
        ),
        (
            "behavior-quota",
            BASE + MANY_BEHAVIORS,
            "edgesim.toml: behaviors: 76 cache behaviours; CloudFront allows 75",
        ),
        (
            "default-path",
            ORIGIN + '[default_behavior]\norigin = "app"\npath = "/*"\n',
            "edgesim.toml: default_behavior.path: the default behaviour always has the pattern '*'; remove it",
        ),
        (
            "default-missing-origin",
            ORIGIN + '[default_behavior]\ncache_policy = "CachingDisabled"\n',
            "edgesim.toml: default_behavior.origin: is required",
        ),
        (
            "default-unknown-policy",
            ORIGIN + '[default_behavior]\norigin = "app"\ncache_policy = "Optimized"\n',
            "edgesim.toml: default_behavior.cache_policy: unknown cache policy 'Optimized'",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)
