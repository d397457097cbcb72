"""Regressions found by tests/reliability/test_fuzz_edgesim_test.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.cli import main

EVENT = (
    '{"version": "1.0", "context": {"eventType": "viewer-request"}, "viewer": {"ip": "1.2.3.4"}, '
    '"request": {"method": "GET", "uri": "/", "querystring": {}, "headers": {}, "cookies": {}}}'
)


@pytest.mark.parametrize("budget", ["1e-9", "0.0000009", "1e-300"])
def test_a_budget_below_one_nanosecond_is_bad_input(
    budget: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # It used to round to 0 ns and fail the run with "division by zero" as a function error.
    fn = tmp_path / "fn.js"
    fn.write_text("function handler(event) { return event.request; }")
    event = tmp_path / "event.json"
    event.write_text(EVENT)
    assert main(["test", str(fn), "--event", str(event), "--budget-ms", budget]) == 2
    err = capsys.readouterr().err
    assert "expected a number of milliseconds from 0.000001 (1 ns) to 10000" in err


def test_a_budget_of_one_nanosecond_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fn = tmp_path / "fn.js"
    fn.write_text("function handler(event) { return event.request; }")
    event = tmp_path / "event.json"
    event.write_text(EVENT)
    argv = ["test", str(fn), "--event", str(event), "--budget-ms", "0.000001", "--repeat", "1"]
    assert main([*argv, "--deterministic", "--ceiling", "1000"]) in (0, 1)
    assert "division by zero" not in capsys.readouterr().err
