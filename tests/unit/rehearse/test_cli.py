"""``edgesim rehearse``: the JSON report's shape, the text report, and the exit codes a CI step
relies on (0 guards held, 1 a guard failed, 2 bad input)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgesim.cli import main
from edgesim.rehearse.traffic import write_traffic
from tests.unit.rehearse.traffic_gen import (
    AB_AFTER,
    CONFIG,
    REWRITES_AFTER,
    ROOT,
    expected_kinds,
    records,
)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "traffic.jsonl"
    write_traffic(path, records(200))
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["rehearse", "--config", str(CONFIG), "--jobs", "1", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_report_shape(traffic: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "--traffic", str(traffic), "--kvs-after", f"experiments={AB_AFTER}",
        "--kvs-after", f"rewrites={REWRITES_AFTER}", "--json",
    )  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert {"total", "changed", "new_errors", "by_kind", "by_pop"} <= report.keys()
    assert report["total"] == 200
    assert report["changed"] == sum(1 for r in records(200) if expected_kinds(r))
    assert report["new_errors"] == 0
    for entry in report["by_kind"].values():
        assert set(entry) == {"count", "examples", "top"}
        assert sum(entry["top"].values()) <= entry["count"]
        assert 1 <= len(entry["examples"]) <= min(3, entry["count"])
        assert {"request", "pop", "method", "target", "before", "after", "detail"} <= set(
            entry["examples"][0]
        )
    assert set(report["by_pop"]) == {"IAD", "FRA", "NRT"}
    assert sum(p["requests"] for p in report["by_pop"].values()) == 200
    assert report["guards_failed"] == []


def test_text_report(traffic: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--traffic", str(traffic), "--kvs-after", f"experiments={AB_AFTER}")
    assert code == 0
    assert out.startswith(f"Rehearsal of 200 requests from {traffic} (edgesim-traffic)")
    assert "proposed KVS experiments: 0 added, 0 removed, 1 changed keys" in out
    assert "cohort_changed" in out
    assert "header x-cohort: a → b" in out
    assert "By POP (the KVS write at" in out


def test_max_changed_guard(traffic: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changed = sum(1 for r in records(200) if expected_kinds(r, rewrites=False))
    pct = 100 * changed / 200
    args = ["--traffic", str(traffic), "--kvs-after", f"experiments={AB_AFTER}", "--json"]
    code, out, err = _run(capsys, *args, "--max-changed", f"{pct - 0.5:g}%")
    assert code == 1
    assert "guard failed: --max-changed" in err
    assert json.loads(out)["guards_failed"]
    code, _, err = _run(capsys, *args, "--max-changed", f"{pct + 0.5:g}")
    assert (code, err) == (0, "")


def test_no_new_errors_guard(
    traffic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.js"
    broken.write_text("function handler(event) { throw new Error('nope'); }")
    fine = tmp_path / "fine.js"
    fine.write_text((ROOT / "functions" / "rewrite_table.js").read_text())
    code, _, err = _run(
        capsys, "--traffic", str(traffic), "--function-after", f"rewrites={broken}",
        "--no-new-errors",
    )  # fmt: skip
    assert code == 1
    assert "guard failed: --no-new-errors:" in err
    code, _, _ = _run(
        capsys, "--traffic", str(traffic), "--function-after", f"rewrites={fine}",
        "--no-new-errors",
    )  # fmt: skip
    assert code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to rehearse"),
        (["--kvs-after", "x.json"], "say which store"),
        (["--kvs-after", f"experiments={AB_AFTER}", "--max-changed", "lots"], "--max-changed"),
        (["--kvs-after", f"experiments={AB_AFTER}", "--max-changed", "150%"], "0% to 100%"),
        (["--kvs-after", "experiments=missing.json"], "missing.json: cannot read"),
        (["--kvs-after", f"experiments={AB_AFTER}", "--write-at", "noon"], "--write-at"),
    ],
)
def test_bad_input_exits_2(
    traffic: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = _run(capsys, "--traffic", str(traffic), *args)
    assert code == 2
    assert message in err


def test_a_missing_traffic_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--traffic", "nope.jsonl", "--kvs-after", f"experiments={AB_AFTER}")
    assert code == 2
    assert "--traffic nope.jsonl: no such file" in err
