"""[[kvs]] and [[functions]]: names, seed files, function files, runtimes, store references."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.distribution.helpers import BASE, assert_problem, fn, named_cases

CASES = named_cases(
    [
        (
            "kvs-name",
            BASE + '[[kvs]]\nname = "my store"\n',
            "edgesim.toml: kvs[0].name: key value store name 'my store' must be 1-64 characters from A-Z a-z 0-9 - _",
        ),
        (
            "kvs-missing-data",
            BASE + '[[kvs]]\nname = "s"\ndata = "nope.json"\n',
            "edgesim.toml: kvs[0].data: seed file 'nope.json' does not exist (looked for ",
        ),
        (
            "kvs-bad-data",
            BASE + '[[kvs]]\nname = "s"\ndata = "bad.json"\n',
            "edgesim.toml: kvs[0].data: not a valid CloudFront KVS import file: ",
        ),
        (
            "kvs-duplicate",
            BASE + '[[kvs]]\nname = "s"\n[[kvs]]\nname = "s"\n',
            "edgesim.toml: kvs[1].name: duplicate key value store 's' (first declared at kvs[0])",
        ),
        (
            "kvs-missing-name",
            BASE + '[[kvs]]\ndata = "seed.json"\n',
            "edgesim.toml: kvs[0].name: is required",
        ),
        (
            "function-missing-file-key",
            BASE + '[[functions]]\nname = "fn"\n',
            "edgesim.toml: functions[0].file: is required",
        ),
        (
            "function-missing-file",
            BASE + '[[functions]]\nname = "fn"\nfile = "missing.js"\n',
            "edgesim.toml: functions[0].file: function file 'missing.js' does not exist (looked for ",
        ),
        (
            "function-file-is-dir",
            BASE + '[[functions]]\nname = "fn"\nfile = "adir"\n',
            "edgesim.toml: functions[0].file: function file 'adir' is a directory",
        ),
        (
            "function-runtime",
            BASE + fn('runtime = "cloudfront-js-3.0"'),
            "edgesim.toml: functions[0].runtime: unknown runtime 'cloudfront-js-3.0' (did you mean 'cloudfront-js-2.0'?); use one of cloudfront-js-2.0, cloudfront-js-1.0",
        ),
        (
            "function-kvs-unknown",
            BASE + '[[kvs]]\nname = "config"\n' + fn('kvs = "cfg"'),
            "edgesim.toml: functions[0].kvs: unknown key value store 'cfg' (did you mean 'config'?)",
        ),
        (
            "function-kvs-runtime",
            BASE
            + '[[kvs]]\nname = "config"\n'
            + fn('kvs = "config"\nruntime = "cloudfront-js-1.0"'),
            "edgesim.toml: functions[0].kvs: a function using a key value store needs runtime 'cloudfront-js-2.0'",
        ),
        (
            "function-name",
            BASE + '[[functions]]\nname = "a.b"\nfile = "fn.js"\n',
            "edgesim.toml: functions[0].name: function name 'a.b' must be 1-64 characters",
        ),
        (
            "function-duplicate",
            BASE + fn() + fn(),
            "edgesim.toml: functions[1].name: duplicate function 'fn' (first declared at functions[0])",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)
