"""--edgesim-cov and friends, in a user's suite run by pytester (and with pytest-xdist)."""

from __future__ import annotations

import pytest

# Imported before pytester's inner runs, which drop the modules they import first: a class
# imported anew would not be the one edgesim.testing already handed out (see test_plugin.py).
import edgesim.coverage.pytest_plugin
import edgesim.coverage.reports
import edgesim.testing.loading
import edgesim.testing.plugin

PRELOADED = (edgesim.coverage.pytest_plugin, edgesim.coverage.reports, edgesim.testing.loading)

PLUGIN_ARGS = ("-p", "no:edgesim", "-p", "edgesim.testing.plugin", "-p", "no:cacheprovider")
INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"

GATE = """\
function handler(event) {
  var request = event.request;
  if (request.uri.indexOf('/admin') === 0) {
    return { statusCode: 403, statusDescription: 'Forbidden' };
  }
  return request;
}
"""
OTHER = "function handler(event) { return event.request; }\n"

TESTS = """
from edgesim.testing import viewer_request

def test_public(edgesim_load):
    assert edgesim_load("functions/gate.js").run(viewer_request("/")).request is not None

def test_other(edgesim_load):
    assert edgesim_load("helpers/other.js").run(viewer_request("/")).request is not None
"""
ADMIN_TEST = """
from edgesim.testing import load_function, viewer_request

def test_admin():
    assert load_function("functions/gate.js").run(viewer_request("/admin")).response
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    (pytester.path / "functions").mkdir()
    (pytester.path / "functions" / "gate.js").write_text(GATE)
    (pytester.path / "helpers").mkdir()
    (pytester.path / "helpers" / "other.js").write_text(OTHER)
    pytester.makepyfile(test_gate=TESTS)
    return pytester


def test_off_by_default(project: pytest.Pytester) -> None:
    result = project.runpytest(*PLUGIN_ARGS)
    result.assert_outcomes(passed=2)
    assert "function coverage" not in result.stdout.str()


def test_term_missing_and_fail_under(project: pytest.Pytester) -> None:
    result = project.runpytest(
        *PLUGIN_ARGS,
        "--edgesim-cov=functions",
        "--edgesim-cov-report=term-missing",
        "--edgesim-cov-report=lcov:out/cov.lcov",
        "--edgesim-cov-fail-under=90",
    )
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*edgesim function coverage*",
            "functions/gate.js * 4 * 1 * 2 * 1 * 67% * 4, 3:if then",
            "*Coverage lcov report written to*out/cov.lcov",
            "FAIL Required function coverage of 90% not reached. Total coverage: 66.67%*",
        ]
    )
    assert "other.js" not in result.stdout.str()  # not under functions/
    assert "SF:functions/gate.js" in (project.path / "out" / "cov.lcov").read_text()


def test_all_paths_covered_passes(project: pytest.Pytester) -> None:
    project.makepyfile(test_admin=ADMIN_TEST)
    result = project.runpytest(
        *PLUGIN_ARGS, "--edgesim-cov", "--edgesim-cov-fail-under=100", "--edgesim-cov-report=term"
    )
    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "functions/gate.js * 100%",
            "helpers/other.js * 100%",
            "Required function coverage of 100% reached.",
        ]
    )


def test_bad_report_type_is_a_usage_error(project: pytest.Pytester) -> None:
    result = project.runpytest(*PLUGIN_ARGS, "--edgesim-cov", "--edgesim-cov-report=pdf")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--edgesim-cov-report*term, term-missing, lcov*"])


def test_workers_counts_are_combined(project: pytest.Pytester) -> None:
    project.makepyfile(test_admin=ADMIN_TEST)
    result = project.runpytest_subprocess(
        *PLUGIN_ARGS,
        "-n",
        "1",  # one worker is enough to send its counts to the controller (and costs less)
        "--edgesim-cov=functions",
        "--edgesim-cov-report=term",
        "--edgesim-cov-fail-under=100",
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["functions/gate.js * 100%"])
    assert result.ret == pytest.ExitCode.OK


SERVER_CONFIG = """
[[origins]]
id = "app"
url = "http://127.0.0.1:9"

[[functions]]
name = "gate"
file = "functions/gate.js"

[default_behavior]
origin = "app"
viewer_request = "gate"
"""
SERVER_TEST = """
import aiohttp
from pathlib import Path

async def test_served(edgesim_server):
    edge = await edgesim_server(Path("edgesim.toml"))
    async with aiohttp.ClientSession() as session:
        async with session.get(edge.url + "/admin/users") as answer:
            assert answer.status == 403
"""


def test_functions_run_by_edgesim_server_are_measured(project: pytest.Pytester) -> None:
    (project.path / "edgesim.toml").write_text(SERVER_CONFIG)
    (project.path / "test_gate.py").unlink()
    project.makepyfile(test_server=SERVER_TEST)
    result = project.runpytest(*PLUGIN_ARGS, "--edgesim-cov", "--edgesim-cov-report=term-missing")
    result.assert_outcomes(passed=1)
    # Only the /admin path ran: the pass-through line and the if's else arm are missed.
    result.stdout.fnmatch_lines(["functions/gate.js * 4 * 1 * 2 * 1 * 67% * 6, 3:if else"])
