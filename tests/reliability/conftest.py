"""The reliability suite (issue 11): soak, crash trials, fuzzers, hostile functions in serve.

Every test here carries the ``soak`` marker. ``make test`` runs the short version; ``make soak``
sets ``EDGESIM_SOAK=long`` (and the hypothesis profile ``soak``) for the long one. Tests read
their budgets through :func:`budget`, and report figures with the ``figures`` fixture, which
prints them in the terminal summary.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

LONG = os.environ.get("EDGESIM_SOAK") == "long"


def budget(short: int | float, long: int | float) -> int | float:
    """The short figure in make test, the long one in make soak."""
    return long if LONG else short


_FIGURES: list[tuple[str, dict[str, object]]] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[dict[str, object]]:
    """A dict a test fills with its figures (requests, faults, RSS, p99, …); printed at the end
    of the run under the test's name."""
    recorded: dict[str, object] = {}
    yield recorded
    if recorded:
        _FIGURES.append((request.node.nodeid, recorded))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.soak)


# Under pytest-xdist (make test) the figures are recorded in the workers: each hands its own to
# the controller (tests/conftest.py prints them there; this conftest is not loaded in it).
WORKER_KEY = "edgesim_reliability_figures"


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None and _FIGURES:
        # Plain JSON types: what execnet can send (a Counter or a tuple cannot cross as such).
        output[WORKER_KEY] = json.loads(json.dumps(_FIGURES, default=str))


def print_figures(
    terminalreporter: pytest.TerminalReporter, figures: list[tuple[str, dict[str, object]]]
) -> None:
    if not figures:
        return
    terminalreporter.section(f"reliability figures ({'long' if LONG else 'short'} run)")
    for nodeid, recorded in figures:
        terminalreporter.write_line(nodeid)
        for key, value in recorded.items():
            terminalreporter.write_line(f"    {key}: {value}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    print_figures(terminalreporter, _FIGURES)
