"""Coverage in pytest: ``--edgesim-cov[=PATH]``, ``--edgesim-cov-report=SPEC`` (repeatable),
``--edgesim-cov-fail-under=N``, spelled and behaving as pytest-cov's ``--cov`` options, and
``--edgesim-cov-no-sourcemaps`` (built functions' own lines instead of their sources).

edgesim's pytest plugin (:mod:`edgesim.testing.plugin`) adds the options and, when coverage is
asked for, registers :class:`CoveragePlugin`. With pytest-xdist each worker records its own
counts and hands them to the controller (``workeroutput``), which writes the reports.
This module imports only pytest until coverage is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from edgesim.coverage.collector import Collector

PLUGIN_NAME = "edgesim-coverage"
WORKER_KEY = "edgesim_cov"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("edgesim", "edgesim (CloudFront Functions)")
    group.addoption(
        "--edgesim-cov",
        action="append",
        nargs="?",
        const=True,
        default=[],
        metavar="PATH",
        help="record line and branch coverage of CloudFront Functions code loaded by the tests "
        "(only files under PATH when given; repeatable)",
    )
    group.addoption(
        "--edgesim-cov-report",
        action="append",
        default=[],
        metavar="TYPE",
        help="function coverage report: term, term-missing, lcov[:PATH], xml[:PATH] (Cobertura), "
        "html[:DIR]; repeatable (default: term)",
    )
    group.addoption(
        "--edgesim-cov-fail-under",
        type=float,
        default=None,
        metavar="N",
        help="fail the run when function coverage (lines and branch arms) is below N%%",
    )
    group.addoption(
        "--edgesim-cov-no-sourcemaps",
        action="store_true",
        default=False,
        help="report built functions' own lines, not the sources their source maps name",
    )


def configure(config: pytest.Config) -> None:
    if config.getoption("edgesim_cov", default=None) and not config.pluginmanager.has_plugin(
        PLUGIN_NAME
    ):
        config.pluginmanager.register(CoveragePlugin(config), PLUGIN_NAME)


class CoveragePlugin:
    def __init__(self, config: pytest.Config) -> None:
        from edgesim import coverage
        from edgesim.coverage.reports import parse_spec
        from edgesim.errors import InputError

        self.config = config
        include = [p for p in config.getoption("edgesim_cov") if p is not True]
        try:
            self.specs = [parse_spec(s) for s in config.getoption("edgesim_cov_report")] or [
                parse_spec("term")
            ]
        except InputError as exc:
            raise pytest.UsageError(f"--edgesim-cov-report: {exc}") from None
        self.fail_under: float | None = config.getoption("edgesim_cov_fail_under")
        self.sourcemaps = not config.getoption("edgesim_cov_no_sourcemaps", default=False)
        self.collector: Collector = coverage.start(include)
        self.worker = hasattr(config, "workerinput")
        self.text = ""
        self.failure: str | None = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        yield
        if self.worker:
            return
        from edgesim.coverage.reports import fail_under_message, write_reports

        self.text, share = write_reports(
            self.collector, self.specs, root=Path.cwd(), sourcemaps=self.sourcemaps
        )
        if self.fail_under is not None:
            self.failure = fail_under_message(share, self.fail_under)
            if self.failure is not None:
                session.testsfailed += 1

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.worker:
            output = getattr(self.config, "workeroutput", None)
            if output is not None:
                output[WORKER_KEY] = self.collector.to_dict()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        data = getattr(node, "workeroutput", {}).get(WORKER_KEY)
        if data:
            self.collector.merge(data)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.worker or not (self.text or self.failure):
            return
        terminalreporter.write_sep("-", "edgesim function coverage")
        terminalreporter.write(self.text)
        if self.failure is not None:
            terminalreporter.write_line(self.failure, red=True, bold=True)
        elif self.fail_under is not None:
            terminalreporter.write_line(
                f"Required function coverage of {self.fail_under:g}% reached.", green=True
            )

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        from edgesim import coverage

        if coverage.current() is self.collector:
            coverage.stop()
