"""[[kvs]] and [[functions]]: names, seed files, function files, runtimes, store references,
compatibility mode and per-rule levels."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.distribution.model import FunctionDecl
from edgesim.runtime.compat import RULES
from tests.unit.distribution.helpers import (
    BASE,
    assert_problem,
    fn,
    named_cases,
    parse,
    problems_of,
)

VALID_RULES = ", ".join(RULES)

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
            "function-compat",
            BASE + fn('compat = "lax"'),
            "edgesim.toml: functions[0].compat: unknown mode 'lax'; use one of strict, lenient",
        ),
        (
            "function-compat-case",
            BASE + fn('compat = "Strict"'),
            "edgesim.toml: functions[0].compat: unknown mode 'Strict' (did you mean 'strict'?); use one of strict, lenient",
        ),
        (
            "function-compat-off",
            BASE + fn('compat = "off"'),
            "edgesim.toml: functions[0].compat: unknown mode 'off' (did you mean 'lenient'?); use one of strict, lenient",
        ),
        (
            "function-compat-warn",
            BASE + fn('compat = "warn"'),
            "edgesim.toml: functions[0].compat: unknown mode 'warn' ('warn' is a level for one rule: set it in rules = { RULE = \"warn\" }); use one of strict, lenient",
        ),
        (
            "function-compat-type",
            BASE + fn("compat = false"),
            "edgesim.toml: functions[0].compat: expected a string, got boolean False",
        ),
        (
            "function-rules-type",
            BASE + fn('rules = ["spread"]'),
            "edgesim.toml: functions[0].rules: expected a table, got array ['spread']",
        ),
        (
            "function-rule-unknown",
            BASE + fn('rules = { destructure = "warn" }'),
            f"edgesim.toml: functions[0].rules.destructure: unknown compatibility rule 'destructure' (did you mean 'destructuring'?); valid rules: {VALID_RULES}",
        ),
        (
            "function-rule-unknown-quoted",
            BASE + fn('rules = { "no.such" = "warn" }'),
            f"edgesim.toml: functions[0].rules.\"no.such\": unknown compatibility rule 'no.such'; valid rules: {VALID_RULES}",
        ),
        (
            "function-rule-level",
            BASE + fn('rules = { spread = "loose" }'),
            "edgesim.toml: functions[0].rules.spread: unknown level 'loose'; use one of strict, warn, lenient",
        ),
        (
            "function-rule-level-eslint",
            BASE + fn('rules = { spread = "warning" }'),
            "edgesim.toml: functions[0].rules.spread: unknown level 'warning' (did you mean 'warn'?); use one of strict, warn, lenient",
        ),
        (
            "function-rule-level-error",
            BASE + fn('rules = { spread = "error" }'),
            "edgesim.toml: functions[0].rules.spread: unknown level 'error' (did you mean 'strict'?); use one of strict, warn, lenient",
        ),
        (
            "function-rule-level-type",
            BASE + fn("rules = { spread = 0 }"),
            "edgesim.toml: functions[0].rules.spread: expected one of strict, warn, lenient, got integer 0",
        ),
        (
            "function-unknown-key",
            BASE + fn('rule = { spread = "warn" }'),
            "edgesim.toml: functions[0].rule: unknown key (did you mean 'rules'?); allowed keys: name, file, runtime, kvs, compat, rules",
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


def test_a_function_is_strict_with_no_rule_overrides_by_default(project: Path) -> None:
    decl = parse(project, BASE + fn()).functions["fn"]
    assert decl == FunctionDecl("fn", project / "fn.js")
    assert (decl.compat, decl.rules) == ("strict", ())


def test_compat_and_rule_levels_are_read_in_the_order_written(project: Path) -> None:
    text = BASE + fn(
        'compat = "lenient"\n'
        'rules = { optional-chaining = "warn", absent-method = "lenient", "spread" = "strict" }'
    )
    decl = parse(project, text).functions["fn"]
    assert decl.compat == "lenient"
    assert decl.rules == (
        ("optional-chaining", "warn"),
        ("absent-method", "lenient"),
        ("spread", "strict"),
    )


def test_every_rule_and_level_is_accepted(project: Path) -> None:
    levels = ("strict", "warn", "lenient")
    pairs = [(rule, levels[i % 3]) for i, rule in enumerate(RULES)]
    table = ", ".join(f'{rule} = "{level}"' for rule, level in pairs)
    assert parse(project, BASE + fn(f"rules = {{ {table} }}")).functions["fn"].rules == tuple(pairs)


def test_each_bad_rule_is_its_own_problem_and_good_ones_still_count(project: Path) -> None:
    text = BASE + fn('rules = { spread = "warn", classes = "warn", eval = "maybe" }')
    assert problems_of(project, text).splitlines()[1:] == [
        "edgesim.toml: functions[0].rules.classes: unknown compatibility rule 'classes' "
        f"(did you mean 'class'?); valid rules: {VALID_RULES}",
        "edgesim.toml: functions[0].rules.eval: unknown level 'maybe'; "
        "use one of strict, warn, lenient",
    ]
