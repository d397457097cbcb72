"""The ``edgesim`` command: parse, call the library, print. No logic of its own.

Exit codes: 0 the function ran (or lint found nothing strict), 1 a function error, 2 bad input.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import orjson

from edgesim import limits
from edgesim.errors import FunctionLoadError, InputError
from edgesim.runtime.engine import FunctionSyntaxError
from edgesim.runtime.event import EVENT_TYPES, build_event
from edgesim.runtime.function import BudgetPolicy, CompatibilityError, LoadedFunction
from edgesim.runtime.source import read_function

EXIT_OK, EXIT_FUNCTION_ERROR, EXIT_BAD_INPUT = 0, 1, 2


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--now {text!r}: expected an ISO-8601 time such as 2026-01-01T00:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise InputError(f"--now {text!r}: add a time zone (Z or +hh:mm)")
    return moment


def _parse_rule_overrides(items: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for item in items:
        rule, sep, mode = item.partition("=")
        if not sep or mode not in ("strict", "warn", "lenient"):
            raise InputError(f"--rule {item!r}: expected RULE=strict|warn|lenient")
        overrides[rule] = mode
    return overrides


def _read_event(path: str, event_type: str | None) -> dict[str, object]:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the event: {exc.strerror}") from None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None
    try:
        return build_event(doc, event_type=event_type)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


MAX_BUDGET_MS = 10_000.0  # ten seconds: far beyond any edge budget, and still a finite stop
MIN_BUDGET_MS = 0.000_001  # one nanosecond, the unit budgets are counted in
MAX_CEILING = 1_000.0
MAX_REPEAT = 1_000


def _budget(args: argparse.Namespace) -> BudgetPolicy:
    # A budget below 1 ns would round to 0 ns (and divide every utilization by zero).
    if not math.isfinite(args.budget_ms) or not MIN_BUDGET_MS <= args.budget_ms <= MAX_BUDGET_MS:
        raise InputError(
            f"--budget-ms {args.budget_ms}: expected a number of milliseconds from "
            f"{MIN_BUDGET_MS:f} (1 ns) to {MAX_BUDGET_MS:g}"
        )
    if not math.isfinite(args.ceiling) or not 1 < args.ceiling <= MAX_CEILING:
        raise InputError(
            f"--ceiling {args.ceiling}: expected a factor above 1 and at most {MAX_CEILING:g}"
        )
    return BudgetPolicy(
        budget_ns=int(args.budget_ms * 1_000_000),
        ceiling_factor=args.ceiling,
        fail_over_budget=args.fail_over_budget,
        deterministic=args.deterministic,
    )


def _test_command(args: argparse.Namespace) -> int:
    """``edgesim test``, with coverage recorded when asked (issue 14)."""
    if not (args.coverage or args.coverage_report):
        return cmd_test(args)
    from edgesim.coverage.reports import run_covered

    return run_covered(
        args.coverage_report,
        lambda: cmd_test(args),
        sourcemaps=not args.coverage_no_sourcemaps,
    )


def cmd_test(args: argparse.Namespace) -> int:
    from edgesim.kvs.importfile import load_import_file
    from edgesim.kvs.reader import StaticKvs
    from edgesim.runtime.testresult import test_result

    if args.lambda_file is not None:
        if args.function is not None:
            raise InputError("test: give either a function or --lambda FILE, not both")
        from edgesim.lambda_edge import testcmd

        return testcmd.run(args)
    if args.function is None:
        raise InputError(
            "test: give the function's .js file (or --lambda FILE for a Lambda@Edge function)"
        )
    if args.event_type not in (None, *EVENT_TYPES):
        raise InputError(
            f"--event-type {args.event_type}: expected {' or '.join(EVENT_TYPES)} (origin events "
            "run Lambda@Edge only: --lambda FILE)"
        )
    try:
        source = read_function(args.function)
    except FunctionLoadError as exc:
        # Not UTF-8, or over the size quota: still a result document, like any load failure.
        return _load_failure(Path(args.function).stem, args.runtime, exc)
    event = _read_event(args.event, args.event_type)
    now = _parse_time(args.now) if args.now else None
    kvs = StaticKvs(load_import_file(args.kvs), name=Path(args.kvs).stem) if args.kvs else None
    try:
        fn = LoadedFunction(
            source,
            runtime=args.runtime,
            kvs=kvs,
            budget=_budget(args),
            compat=args.compat,
            compat_overrides=_parse_rule_overrides(args.rule),
        )
    except CompatibilityError as exc:
        return _load_failure(source.name, args.runtime, exc.with_hint(COMPAT_HINT))
    except FunctionLoadError as exc:
        return _load_failure(source.name, args.runtime, exc)
    for finding in fn.findings:
        print(f"warning: {finding.format(source.filename)}", file=sys.stderr)
    if args.repeat < 1:
        raise InputError(f"--repeat {args.repeat}: expected at least 1")
    if args.repeat > MAX_REPEAT:
        raise InputError(f"--repeat {args.repeat}: at most {MAX_REPEAT} runs")
    # Every run is isolated and sees the same frozen time and seed, so the runs are identical
    # but for timing: the first one in a new engine is slower (cold caches), so the median is
    # reported, as a steady-state edge would measure it.
    runs = [fn.invoke(event, now=now, seed=args.random_seed) for _ in range(args.repeat)]
    # The run with the median utilization is reported whole, so that its over-budget warning
    # and (with --fail-over-budget) its error agree with the figure printed.
    result = sorted(runs, key=lambda r: r.compute_utilization)[len(runs) // 2]
    _print_json(test_result(fn, result))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.error is not None:
        error = result.error
        where = f" at {error.position}" if error.position else ""
        lines = [f"edgesim: function {error.kind} error{where}: {error.message}"]
        lines += [f"    at {frame}" for frame in error.stack]
        print("\n".join(lines), file=sys.stderr)
        return EXIT_FUNCTION_ERROR
    return EXIT_OK


# How `edgesim test` relaxes strict compatibility (the runtime's message says it neutrally).
COMPAT_HINT = "Run it anyway with --compat lenient (or relax one rule with --rule RULE=warn)."


def _load_failure(name: str, runtime: str, exc: FunctionLoadError) -> int:
    from edgesim.runtime.testresult import load_failure_result

    position = None
    if isinstance(exc, FunctionSyntaxError):
        # CloudFront (njs) words a syntax error "SyntaxError: <text> in <place>".
        message, position = f"{exc.error} in {exc.position}", exc.position
    else:
        if isinstance(exc, CompatibilityError):
            position = exc.position
        message = " ".join(part.strip() for part in str(exc).splitlines())
    _print_json(load_failure_result(name, runtime, message, position))
    print(f"edgesim: {exc}", file=sys.stderr)
    return EXIT_FUNCTION_ERROR


# What a rule's default severity says of its evidence (edgesim.runtime.compat's policy).
EVIDENCE_LEVELS = {
    "error": "documented or reported: CloudFront is known to reject it",
    "warning": "unverified: njs source alone, a missing documentation entry or a guess",
}


def cmd_lint(args: argparse.Namespace) -> int:
    from edgesim.runtime.compat import check_source, has_errors

    if args.list_rules:
        return _list_rules(as_json=args.json)
    if args.function is None:
        raise InputError("lint: give the function's .js file (or --list-rules for the rules)")
    source = read_function(args.function)
    try:
        findings = check_source(
            source.text, runtime=args.runtime, overrides=_parse_rule_overrides(args.rule)
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if args.json:
        rows = [
            {
                "file": source.filename,
                "line": f.line,
                "column": f.column,
                "rule": f.rule,
                "severity": f.severity,
                "message": f.message,
                "evidence": f.evidence,
            }
            for f in findings
        ]
        _print_json(rows)
    else:
        for finding in findings:
            print(finding.format(source.filename))
        errors = sum(1 for f in findings if f.severity == "error")
        print(
            f"{source.filename}: {errors} error(s), {len(findings) - errors} warning(s)",
            file=sys.stderr,
        )
    return EXIT_FUNCTION_ERROR if has_errors(findings) else EXIT_OK


def _list_rules(*, as_json: bool) -> int:
    """``lint --list-rules``: every rule, what it flags, its evidence and default severity."""
    from edgesim.runtime.compat import RULES

    rows = [
        {
            "rule": rule.id,
            "flags": rule.message,
            "severity": rule.severity,
            "evidence_level": EVIDENCE_LEVELS.get(rule.severity, ""),
            "evidence": rule.evidence,
            "runtimes": sorted(rule.runtimes),
        }
        for rule in RULES.values()
        if not rule.id.startswith("_")
    ]
    if as_json:
        _print_json(rows)
        return EXIT_OK
    for row in rows:
        runtimes = ", ".join(row["runtimes"])
        print(f"{row['rule']}  (default: {row['severity']}; {runtimes})")
        print(f"    flags:    {row['flags']}")
        print(f"    evidence: {row['evidence_level']}")
        print(f"              {row['evidence']}")
    print(
        f"{len(rows)} rules. Change a rule's severity with --rule RULE=strict|warn|lenient "
        "(lenient drops it).",
        file=sys.stderr,
    )
    return EXIT_OK


def _print_json(value: object) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _add_runtime_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runtime",
        choices=limits.RUNTIMES,
        default=limits.RUNTIME_JS_2,
        help="CloudFront Functions runtime to check against (default %(default)s)",
    )
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="RULE=MODE",
        help="override one compatibility rule: strict, warn or lenient (repeatable)",
    )


DESCRIPTION = """\
A local emulator of Amazon CloudFront Functions and KeyValueStore.

  edgesim test FUNCTION --event EVENT.json   run a function on one event, like TestFunction
  edgesim test --lambda FILE --event E.json  run a Lambda@Edge function on one event
  edgesim lint FUNCTION                      report code CloudFront would reject
  edgesim serve                              run a distribution in front of your dev origin
  edgesim serve --from SOURCE                run the distribution you deploy (CDK, CFN, Terraform)
  edgesim import SOURCE                      write that distribution's edgesim.toml
  edgesim kvs COMMAND                        serve the KVS control plane, manage stores and keys
  edgesim cache invalidate PATH...           drop objects from a running serve's cache
  edgesim clock [set|advance|freeze|thaw]    read or move a running serve's clock
  edgesim sign URL --key-pair-id K ...       a signed URL (or cookies) for private content

'edgesim COMMAND --help' tells more. Exit codes: 0 done, 1 the function (or the
request) failed, 2 bad input; 'edgesim kvs' also uses 3 for a conflict."""


def _add_build_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--build",
        metavar="CMD",
        help="run CMD (in the current directory) first: it writes the function file; positions "
        "are then given in the sources when it writes a source map (docs/build.md)",
    )
    parser.add_argument(
        "--build-timeout", type=float, default=120.0, help="seconds the --build step may take"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgesim",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    test = sub.add_parser("test", help="run a function on one event, like TestFunction")
    test.add_argument("function", nargs="?", help="the function's .js file")
    test.add_argument(
        "--event", required=True, help="event JSON (as for aws cloudfront test-function)"
    )
    test.add_argument(
        "--event-type",
        metavar="{" + ",".join(EVENT_TYPES) + "}",
        default=None,
        help="the event's type, over its context.eventType (default: context.eventType, else "
        "viewer-response when the event has a response, else viewer-request); with --lambda "
        "also origin-request or origin-response",
    )
    test.add_argument("--kvs", help="KVS import file associated with the function")
    test.add_argument("--now", help="invocation time, ISO-8601 (Date is frozen at it)")
    test.add_argument("--random-seed", type=int, default=None, help="seed for Math.random")
    test.add_argument(
        "--compat",
        choices=("strict", "lenient"),
        default="strict",
        help="strict (default): refuse to run code `edgesim lint` reports as an error, as "
        "CloudFront would; lenient: print the findings as warnings and run it anyway",
    )
    test.add_argument("--budget-ms", type=float, default=1.0, help="what 100%% utilization means")
    test.add_argument(
        "--repeat", type=int, default=5, help="runs to take the median ComputeUtilization of"
    )
    test.add_argument("--ceiling", type=float, default=10.0, help="runaway stop, × the budget")
    test.add_argument("--fail-over-budget", action="store_true", help="fail runs over budget")
    test.add_argument(
        "--deterministic", action="store_true", help="count work instead of measuring CPU time"
    )
    _add_runtime_options(test)
    from edgesim.lambda_edge import testcmd as lambda_testcmd

    lambda_testcmd.add_arguments(test)
    _add_build_option(test)
    test.add_argument(
        "--coverage",
        action="store_true",
        help="report the function's line and branch coverage on stderr (docs/testing.md)",
    )
    test.add_argument(
        "--coverage-report",
        action="append",
        default=[],
        metavar="TYPE",
        help="coverage report: term, term-missing (the default), lcov[:PATH], xml[:PATH], "
        "html[:DIR]; repeatable; implies --coverage",
    )
    test.add_argument(
        "--coverage-no-sourcemaps",
        action="store_true",
        help="with --coverage: report a built function's own lines, not the sources its "
        "source map names (docs/build.md)",
    )
    test.set_defaults(handler=_test_command)

    lint = sub.add_parser(
        "lint",
        help="report code CloudFront would reject",
        description="Report JavaScript that CloudFront Functions would reject, with the rule and "
        "its evidence. Exits 1 when a finding is an error. --list-rules shows every rule.",
    )
    lint.add_argument("function", nargs="?", help="the function's .js file")
    lint.add_argument(
        "--list-rules",
        action="store_true",
        help="list every rule (what it flags, its evidence, default severity, runtimes) and exit",
    )
    lint.add_argument(
        "--json", action="store_true", help="print findings (or, with --list-rules, rules) as JSON"
    )
    _add_runtime_options(lint)
    _add_build_option(lint)
    lint.set_defaults(handler=cmd_lint)

    from edgesim import kvs_cli, rehearse_cli, serve_cli

    serve_cli.register(sub)
    kvs_cli.register(sub)
    rehearse_cli.register(sub)
    from edgesim import clock_cli

    clock_cli.register(sub)
    from edgesim import sign_cli

    sign_cli.register(sub)
    return parser


def _coverage_from_environment() -> None:
    """``EDGESIM_COVERAGE=TYPE[,TYPE…]`` (as --coverage-report): record the coverage of every
    function the command loads (``serve`` included) and write the reports when it exits."""
    specs = os.environ.get("EDGESIM_COVERAGE")
    if specs:
        from edgesim.coverage.reports import record_until_exit

        record_until_exit(specs.split(","))


def main(argv: Sequence[str] | None = None) -> int:
    from edgesim.build.oneshot import run_handler

    args = build_parser().parse_args(argv)
    try:
        _coverage_from_environment()
        code: int = run_handler(args)  # args.handler, after the --build step if any
    except InputError as exc:
        print(f"edgesim: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FunctionLoadError as exc:
        print(f"edgesim: {exc}", file=sys.stderr)
        return EXIT_FUNCTION_ERROR
    return code
