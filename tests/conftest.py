import os
import shutil
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
# make test: every property with 100 examples (the cookbook functions' 100% coverage holds with
# the dev profile's 50). make soak runs every property again (`-m hypothesis`) with 2,000.
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# make soak: the reliability suite's fuzzers and every property with a large example budget.
settings.register_profile(
    "soak",
    max_examples=2_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# trylast: after tests/reliability/conftest.py has marked its tests ``soak``.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not shutil.which("node"):
        skip = pytest.mark.skip(reason="node is not installed")
        for item in items:
            if "node" in item.keywords:
                item.add_marker(skip)
    # The reliability tests run for a fixed time (the soak alone for minutes): run them first, so
    # that under pytest-xdist (make test) the other workers work beside them instead of one of
    # them being the last test left. A stable sort: every other test keeps its order.
    items.sort(key=lambda item: item.get_closest_marker("soak") is None)


@pytest.fixture(scope="session")
def node():
    """A Node.js oracle shared by the session (tests using it carry the ``node`` marker)."""
    from tests.nodeoracle import NodeOracle

    oracle = NodeOracle()
    yield oracle
    oracle.close()


# The reliability tests' figures, sent by the pytest-xdist workers (tests/reliability/conftest.py),
# printed by the controller in its terminal summary.
_WORKER_FIGURES: list[tuple[str, dict[str, object]]] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    from tests.reliability.conftest import WORKER_KEY

    _WORKER_FIGURES.extend(
        (nodeid, recorded)
        for nodeid, recorded in getattr(node, "workeroutput", {}).get(WORKER_KEY, [])
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _WORKER_FIGURES:
        from tests.reliability.conftest import print_figures

        print_figures(terminalreporter, sorted(_WORKER_FIGURES, key=lambda figure: figure[0]))
