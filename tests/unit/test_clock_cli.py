"""``edgesim clock``'s own parts: durations, where ``--endpoint`` may go, what it prints, and the
exit codes it shares with the other admin clients (a running serve is in the e2e tests)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.cli import build_parser, main
from edgesim.clock_cli import UNITS_MS, describe, parse_duration
from edgesim.errors import InputError

UNREACHABLE = "http://127.0.0.1:1"  # nothing listens on port 1


@given(amount=st.integers(0, 10**12), unit=st.sampled_from(sorted(UNITS_MS)))
def test_a_duration_is_an_integer_and_one_unit(amount: int, unit: str) -> None:
    assert parse_duration(f"{amount}{unit}") == amount * UNITS_MS[unit]


def test_the_documented_examples() -> None:
    assert [parse_duration(t) for t in ("90s", "15m", "1d", "250ms", "2h")] == [
        90_000,
        900_000,
        86_400_000,
        250,
        7_200_000,
    ]


@pytest.mark.parametrize("text", ["1.5h", "90", "s", "-5s", "5 s", "5sec", "1h30m", "", "0x10s"])
def test_anything_else_is_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(InputError, match=r"expected an integer and one unit \(ms, s, m, h, d\)"):
        parse_duration(text)


def test_the_endpoint_may_come_before_or_after_the_move() -> None:
    parser = build_parser()
    before = parser.parse_args(["clock", "--endpoint", "http://a:1", "set", "2030-01-01T00:00Z"])
    after = parser.parse_args(["clock", "advance", "90s", "--endpoint", "http://b:2"])
    bare = parser.parse_args(["clock", "--endpoint", "http://c:3"])
    assert (before.endpoint, before.clock_command, before.time) == (
        "http://a:1",
        "set",
        "2030-01-01T00:00Z",
    )
    assert (after.endpoint, after.clock_command, after.duration) == ("http://b:2", "advance", "90s")
    assert (bare.endpoint, bare.clock_command) == ("http://c:3", None)


def test_what_it_prints() -> None:
    shown = {
        "now": "2030-01-01T09:00:00.000Z",
        "now_ms": 0,
        "frozen": True,
        "offset_ms": 90_061_500,
    }
    assert (
        describe(shown)
        == "2030-01-01T09:00:00.000Z (frozen; 1 d 1 h 1 min 1.5 s ahead of real time)"
    )
    shown.update(frozen=False, offset_ms=-120_000)
    assert describe(shown) == "2030-01-01T09:00:00.000Z (running; 2 min behind real time)"
    shown.update(offset_ms=12)
    assert describe(shown) == "2030-01-01T09:00:00.000Z (running; real time)"


def test_an_unreachable_serve_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clock", "--endpoint", UNREACHABLE]) == 1
    assert "cannot reach the admin endpoint at http://127.0.0.1:1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["set", "2030-01-01T09:00:00"], "set: '2030-01-01T09:00:00' has no time zone"),
        (["set", "launch day"], "set: 'launch day' is not an ISO-8601 time"),
        (["advance", "--", "-1s"], "advance '-1s': expected an integer and one unit"),
    ],
)
def test_a_bad_value_exits_2_before_reaching_serve(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clock", "--endpoint", UNREACHABLE, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "cannot reach" not in err
