"""`edgesim test --coverage` and `--coverage-report`: the table on stderr, reports written,
the result on stdout unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgesim import coverage
from edgesim.cli import main

ROOT = Path(__file__).resolve().parents[3]
FUNCTION = ROOT / "functions" / "country_redirect.js"
EVENT = ROOT / "fixtures" / "events" / "country_redirect.json"


def test_coverage_table_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    before = coverage.current()
    code = main(["test", str(FUNCTION), "--event", str(EVENT), "--repeat", "2", "--coverage"])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["FunctionOutput"]  # stdout is still the result alone
    row = next(line for line in err.splitlines() if "country_redirect.js" in line)
    assert row.split()[1:5] == ["7", "1", "4", "2"]  # 2 invocations of one event: one path
    assert coverage.current() is before  # nothing stays recording after the command


def test_coverage_reports_are_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "c.lcov"
    reports = ["--coverage-report", f"lcov:{trace}", "--coverage-report", f"xml:{tmp_path}/c.xml"]
    code = main(["test", str(FUNCTION), "--event", str(EVENT), "--repeat", "1", *reports])
    assert code == 0
    assert "DA:12,1" in trace.read_text()
    assert (tmp_path / "c.xml").read_text().startswith("<?xml")
    assert "Coverage lcov report written to" in capsys.readouterr().err


def test_a_bad_report_type_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["test", str(FUNCTION), "--event", str(EVENT), "--coverage-report", "pdf"])
    assert code == 2
    assert "coverage report 'pdf'" in capsys.readouterr().err
