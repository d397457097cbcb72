"""The reliability suite (issue 11): soak, crash trials, fuzzers, hostile functions in serve.

Every test here carries the ``soak`` marker. ``make test`` runs the short version; ``make soak``
sets ``EDGESIM_SOAK=long`` (and the hypothesis profile ``soak``) for the long one. Tests read
their budgets through :func:`budget`, and report figures with the ``figures`` fixture, which
prints them in the terminal summary.
"""

from __future__ import annotations

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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _FIGURES:
        return
    terminalreporter.section(f"reliability figures ({'long' if LONG else 'short'} run)")
    for nodeid, recorded in _FIGURES:
        terminalreporter.write_line(nodeid)
        for key, value in recorded.items():
            terminalreporter.write_line(f"    {key}: {value}")
