"""``--edgesim-cov`` under pytest-xdist gives the serial run's report, counts and verdict.

``make test`` runs the suite with ``-n`` and applies ``--edgesim-cov-fail-under=100`` to the
combined hits of all workers: each worker records its own counts and the controller adds them
up before it reports. Here a tiny project whose two test files exercise different arms of one
function runs twice — serially and with ``-n 2 --dist loadfile`` (one file per worker) — and
the reports (term-missing text and lcov with hit counts) must be identical.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"

ROUTE_JS = """\
function handler(event) {
  var request = event.request;
  if (request.uri === '/admin') {
    return { statusCode: 403, statusDescription: 'Forbidden' };
  }
  if (request.uri === '/old') {
    return { statusCode: 301, statusDescription: 'Moved Permanently' };
  }
  if (request.uri === '/never') {
    request.uri = '/nowhere';
  }
  return request;
}
"""

# Each file reaches arms the other does not, and both pass through the first lines (counts add).
TEST_ADMIN = """
from edgesim.testing import load_function, viewer_request

def test_admin_is_refused():
    fn = load_function("functions/route.js")
    assert fn.run(viewer_request("/admin")).response["statusCode"] == 403
    assert fn.run(viewer_request("/admin")).response["statusCode"] == 403
"""
TEST_PAGES = """
from edgesim.testing import load_function, viewer_request

def test_old_moves():
    assert load_function("functions/route.js").run(viewer_request("/old")).response["statusCode"] == 301

def test_pages_pass():
    assert load_function("functions/route.js").run(viewer_request("/")).request["uri"] == "/"
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeini(INI)
    (pytester.path / "functions").mkdir()
    (pytester.path / "functions" / "route.js").write_text(ROUTE_JS)
    pytester.makepyfile(test_admin=TEST_ADMIN, test_pages=TEST_PAGES)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    # The outer run may itself be an xdist worker: the inner runs must not inherit that.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    return pytester


def run(project: pytest.Pytester, tmp_path: Path, name: str, *extra: str) -> pytest.RunResult:
    # pytester.run rather than runpytest_subprocess, which makes its basetemp inside the project.
    result = project.run(
        sys.executable,
        "-m",
        "pytest",
        "-v",
        "-p",
        "no:cacheprovider",
        f"--basetemp={tmp_path / name}",
        "--edgesim-cov=functions",
        "--edgesim-cov-report=term-missing",
        f"--edgesim-cov-report=lcov:{tmp_path / name}.lcov",
        "--edgesim-cov-fail-under=100",
        *extra,
        timeout=120,
    )
    result.assert_outcomes(passed=3)
    return result


def report(result: pytest.RunResult) -> list[str]:
    """The coverage section of the terminal summary, without the (run-specific) lcov path."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "edgesim function coverage" in line)
    end = next(i for i, line in enumerate(lines) if i > start and line.startswith("=="))
    return [line for line in lines[start:end] if "lcov report written" not in line]


def test_workers_combined_report_equals_the_serial_one(
    project: pytest.Pytester, tmp_path: Path
) -> None:
    serial = run(project, tmp_path, "serial")
    parallel = run(project, tmp_path, "parallel", "-n", "2", "--dist", "loadfile")
    # The premise: each worker ran one file, so the counts come from two processes.
    workers = {
        match[2]: match[1]
        for match in re.finditer(r"\[(gw\d)\][^\n]*PASSED (test_\w+)\.py", parallel.stdout.str())
    }
    assert set(workers) == {"test_admin", "test_pages"}
    assert workers["test_admin"] != workers["test_pages"]

    assert report(parallel) == report(serial)
    lcov = (tmp_path / "parallel.lcov").read_text()
    assert lcov == (tmp_path / "serial.lcov").read_text()
    # The /never arm runs in no test: both runs miss it, and the gate fails on it in both.
    assert parallel.ret == serial.ret == pytest.ExitCode.TESTS_FAILED
    text = "\n".join(report(parallel))
    assert re.search(r"functions/route\.js .* 86% +10, 9:if then", text), text
    assert "FAIL Required function coverage of 100% not reached. Total coverage: 85.71%" in text
    # Hit counts are summed over the workers: the first line ran on every call (4 calls).
    assert "FNDA:4,handler" in lcov, lcov
    assert "DA:2,4" in lcov, lcov
