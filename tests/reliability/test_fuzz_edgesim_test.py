"""Fuzz ``edgesim test FUNCTION --event EVENT.json [flags]``, run in-process through the CLI's
``main()`` with its output captured.

Inputs: the example functions and odd ones (empty, not UTF-8, over the 10 KB quota, a syntax
error, no handler, a throw, a loop, a never-settling promise, deep recursion, a memory bomb, a
bad return value); the example events mutated (wrong types, missing and unknown members, odd
strings) and malformed event files; the example KVS data, damaged; every flag with odd values
(non-finite and huge numbers, huge repeat counts, odd times, seeds, rules).

Invariant (docs: exit codes of ``edgesim``): exit 0 or 1 with a result document (JSON) on stdout,
or exit 2 with a clear one-line-per-problem message on stderr; never a Python traceback, never an
exception out of ``main()``, never a hang (a generous alarm per run; the flags' own limits make
every run finite, see ``MAX_REPEAT``, ``MAX_BUDGET_MS``, ``MAX_CEILING`` in edgesim/cli.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from edgesim.cli import main
from tests.reliability.conftest import budget
from tests.reliability.mutations import mutated

ROOT = Path(__file__).parents[2]
FUNCTIONS = ROOT / "functions"
EVENTS = ROOT / "fixtures" / "events"
KVS = ROOT / "fixtures" / "kvs"
EXAMPLES = sorted(p.stem for p in FUNCTIONS.glob("*.js"))
HANG_S = 60  # far above any run the flags allow here; only a real hang reaches it

ODD_FUNCTIONS: dict[str, bytes] = {
    "empty": b"",
    "not-utf8": b"function handler(event) { return event.request; } // \xff\xfe",
    "oversize": b"function handler(event) { return event.request; }\n" + b"//" + b"x" * 11_000,
    "syntax-error": b"function handler(event) { return event.request;",
    "no-handler": b"function other(event) { return event.request; }",
    "throws": b"function handler(event) { throw new Error('boom'); }",
    "loops": b"function handler(event) { while (true) {} }",
    "never-settles": b"async function handler(event) { return new Promise(function () {}); }",
    "recursion": b"function f(n) { return f(n + 1) + 1; }\nfunction handler(event) { return f(0); }",
    "memory": b"function handler(event) { var a = []; while (true) { a.push('x'.repeat(1e5)); } }",
    "returns-number": b"function handler(event) { return 42; }",
    "returns-bad-response": b"function handler(event) { return { statusCode: 'x', headers: 1 }; }",
    "returns-undefined": b"function handler(event) {}",
    "handler-not-a-function": b"var handler = 5;",
    "uses-kvs": (
        b"import cf from 'cloudfront';\n"
        b"const kvs = cf.kvs();\n"
        b"async function handler(event) {\n"
        b"  event.request.headers['x'] = { value: String(await kvs.get('k', { format: 'string' })) };\n"
        b"  return event.request;\n"
        b"}\n"
    ),
}

# Numbers as a user types them: valid small values (every run stays short) and invalid ones.
BUDGETS = ["0.5", "1", "2", "nan", "inf", "-inf", "-1", "0", "1e308", "10001", "1e-9", "1e-300"]
CEILINGS = ["1.5", "10", "nan", "inf", "1", "0.5", "-3", "1001", "1e308", "1.0000001"]
REPEATS = ["1", "2", "5", "0", "-1", "1001", "99999999999", "1e3", "x", ""]
TIMES = [
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00",
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+14:00",
    "2026-02-30T00:00:00Z",
    "yesterday",
    "",
    "1e308",
]
SEEDS = ["0", "-1", "42", str(2**64), str(10**30), "x", "1.5", ""]
RULES = ["nullish-coalescing=warn", "x=strict", "=", "nullish-coalescing=loud", "a=b=c", ""]


def json_events() -> dict[str, Any]:
    return {p.stem: json.loads(p.read_bytes()) for p in EVENTS.glob("*.json")}


EVENT_DOCS = json_events()
VIEWER_REQUEST = (EVENTS / "country_redirect.json").read_bytes()
REDIRECT = (FUNCTIONS / "country_redirect.js").read_bytes()  # its event, no KVS: exit 0


@st.composite
def event_bytes(draw: st.DrawFn, name: str) -> bytes:
    """The example's event (as it is, mutated) or an event of an odd shape, or not JSON."""
    kind = draw(st.sampled_from(["fixture", "fixture", "mutated", "mutated", "shape", "raw"]))
    if kind == "fixture":
        return json.dumps(EVENT_DOCS[name]).encode()
    if kind == "mutated":
        doc, _ = draw(mutated(EVENT_DOCS[name]))
        return json.dumps(doc, default=str).encode()
    if kind == "shape":
        odd = draw(
            st.sampled_from(
                [
                    [],
                    42,
                    "event",
                    None,
                    {},
                    {"request": None},
                    {"request": {"uri": 5}},
                    {"version": "1.0", "context": {"eventType": "origin-request"}},
                    {"request": {"method": "GET", "uri": "/", "headers": {"a": {"value": 1}}}},
                    {"request": {"method": "GET", "uri": "/", "querystring": [1]}},
                    {"response": {"statusCode": 99999}},
                ]
            )
        )
        return json.dumps(odd).encode()
    return draw(
        st.sampled_from([b"", b"{", b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000, b'{"a": NaN}'])
        | st.binary(max_size=30)
    )


@st.composite
def kvs_file(draw: st.DrawFn, name: str) -> bytes | None:
    """The example's KVS data (as it is, mutated), damaged data, or none."""
    path = KVS / f"{name}.json"
    kind = draw(st.sampled_from(["none", "fixture", "fixture", "mutated", "raw"]))
    if kind == "none" or not path.exists():
        return None
    doc = json.loads(path.read_bytes())
    if kind == "fixture":
        return json.dumps(doc).encode()
    if kind == "mutated":
        return json.dumps(draw(mutated(doc))[0], default=str).encode()
    return draw(st.sampled_from([b"", b"{", b'{"data": [{"key": "", "value": "v"}]}']))


@st.composite
def invocations(draw: st.DrawFn) -> tuple[bytes, bytes, bytes | None, list[str]]:
    """(function source, event file, KVS file or None, the other flags)."""
    name = draw(st.sampled_from(EXAMPLES))  # an example function with its event and data
    if draw(st.booleans()):
        function = (FUNCTIONS / f"{name}.js").read_bytes()
    else:
        function = ODD_FUNCTIONS[draw(st.sampled_from(sorted(ODD_FUNCTIONS)))]
    flags: list[str] = []
    for flag, values in (
        ("--budget-ms", BUDGETS),
        ("--ceiling", CEILINGS),
        ("--repeat", REPEATS),
        ("--now", TIMES),
        ("--random-seed", SEEDS),
        ("--rule", RULES),
        ("--event-type", ["viewer-request", "viewer-response", "origin-request"]),
        ("--compat", ["strict", "lenient", "loose"]),
        ("--runtime", ["cloudfront-js-1.0", "cloudfront-js-2.0", "nodejs"]),
    ):
        if draw(st.integers(0, 3)) == 0:  # a few flags at a time, so that more runs get going
            flags += [f"{flag}={draw(st.sampled_from(values))}"]
    for switch in ("--deterministic", "--fail-over-budget"):
        if draw(st.booleans()):
            flags.append(switch)
    return function, draw(event_bytes(name)), draw(kvs_file(name)), flags


@contextlib.contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def hang(signum: int, frame: object) -> None:
        raise TimeoutError(f"edgesim test ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), alarm(HANG_S):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: a flag it cannot parse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


# What a Python exception's message looks like when it leaks into a user-facing one (a bug of
# edgesim, reported as if the function or the input had failed).
PYTHON_LEAKS = re.compile(
    r"division by zero|object has no attribute|NoneType|unsupported operand|index out of range"
    r"|KeyError|TypeError: |ValueError: |not subscriptable|unhashable type|OverflowError"
)


def js_errors_removed(out: str, err: str) -> str:
    """The output without what the function's own JavaScript errors say (a JS ``TypeError:`` is
    the user's, not a leak): the result's FunctionErrorMessage and the console's error lines."""
    with contextlib.suppress(ValueError):
        result = json.loads(out)
        if isinstance(result, dict):
            result.pop("FunctionErrorMessage", None)
            out = json.dumps(result)
    kept = [
        line
        for line in err.splitlines()
        if not line.startswith(("edgesim: function execution error", "    at "))
    ]
    return out + "\n".join(kept)


def check(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err, err
    assert not PYTHON_LEAKS.search(js_errors_removed(out, err)), (out[-500:], err)
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        assert err.strip(), "exit 2 without a message"
        for line in err.strip().splitlines():
            assert line.startswith(("edgesim: ", "edgesim test: error: ", "usage: ", " ")), line
        assert "edgesim: " in err or "error: " in err, err
        return
    result = json.loads(out)  # the result document, whether the function succeeded or not
    assert isinstance(result, dict)
    assert "FunctionSummary" in result or "FunctionErrorMessage" in result, result
    if code == 1:
        assert result.get("FunctionErrorMessage") or "edgesim: " in err, (result, err)


FUZZ = settings(
    max_examples=int(budget(150, 3000)),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # tmp_path: the files of each example overwrite
    ],
    deadline=None,
)


@FUZZ
@given(case=invocations())
@example(case=(REDIRECT, VIEWER_REQUEST, None, ["--budget-ms=nan"]))  # issue 11 point 4
@example(case=(REDIRECT, VIEWER_REQUEST, None, ["--budget-ms=inf"]))
@example(case=(REDIRECT, VIEWER_REQUEST, None, ["--budget-ms=1e308"]))
@example(case=(REDIRECT, VIEWER_REQUEST, None, ["--ceiling=inf"]))
@example(case=(ODD_FUNCTIONS["loops"], VIEWER_REQUEST, None, ["--repeat=99999999999"]))
@example(case=(REDIRECT, VIEWER_REQUEST, None, ["--budget-ms=1e-9"]))  # rounds to 0 ns
def test_edgesim_test_inputs(
    tmp_path: Path, figures: dict[str, Any], case: tuple[bytes, bytes, bytes | None, list[str]]
) -> None:
    function, event, kvs, flags = case
    (tmp_path / "fn.js").write_bytes(function)
    (tmp_path / "event.json").write_bytes(event)
    argv = ["test", str(tmp_path / "fn.js"), "--event", str(tmp_path / "event.json"), *flags]
    if kvs is not None:
        (tmp_path / "kvs.json").write_bytes(kvs)
        argv += ["--kvs", str(tmp_path / "kvs.json")]
    code, out, err = run_cli(argv)
    check(code, out, err)
    figures.setdefault("runs by exit code", Counter())[code] += 1


def test_missing_files_are_bad_input(tmp_path: Path) -> None:
    event = str(EVENTS / "ab_cohort.json")
    for argv in (
        ["test", str(tmp_path / "nope.js"), "--event", event],
        ["test", str(FUNCTIONS / "ab_cohort.js"), "--event", str(tmp_path / "nope.json")],
        ["test", str(FUNCTIONS / "ab_cohort.js"), "--event", event, "--kvs", str(tmp_path)],
        ["test", str(tmp_path), "--event", event],
    ):
        code, out, err = run_cli(argv)
        check(code, out, err)
        assert code in (1, 2), argv


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGALRM")
