"""Line and branch coverage of CloudFront Functions code (see docs/testing.md, "Coverage").

While a :class:`Collector` is started, every function loaded in the process (``load_function``,
the pytest fixtures, ``serve``, ``edgesim test``) carries counters, and the collector adds up
their counts per function file. Reports (:mod:`edgesim.coverage.reports`) put them in the
user's file: a terminal table, lcov, Cobertura XML, HTML; a built file with a source map is
reported as the sources it was built from (:mod:`edgesim.coverage.sourcemaps`). When no
collector is started, loading and running functions is exactly as without this package.

    collector = coverage.start(include=["functions"])
    ...  # load and run functions
    coverage.stop()
    print(reports.term(collector))
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgesim.coverage.collector import Collector, FileCoverage

__all__ = ["Collector", "FileCoverage", "current", "start", "stop"]

# What each start() replaced, restored by stop().
_previous: list[Any] = []


def __getattr__(name: str) -> Any:
    # Imported on use: the pytest plugin imports this package in every test session.
    if name in ("Collector", "FileCoverage"):
        from edgesim.coverage import collector

        return getattr(collector, name)
    raise AttributeError(f"module 'edgesim.coverage' has no attribute {name!r}")


def start(include: Iterable[str | os.PathLike[str]] = ()) -> Collector:
    """Record coverage of every function loaded from now on (files under ``include``; all
    when empty) until :func:`stop`. Functions loaded before keep running unmeasured. Starts
    nest (pytest run inside pytest): :func:`stop` goes back to the collector before."""
    from edgesim.coverage.collector import Collector
    from edgesim.runtime.function import LoadedFunction

    collector = Collector(include)
    _previous.append(LoadedFunction.instrumenter)
    LoadedFunction.instrumenter = collector
    return collector


def stop() -> Collector | None:
    """Stop instrumenting new loads for the latest :func:`start`; the collector stopped
    (functions already loaded with counters keep adding to it)."""
    from edgesim.runtime.function import LoadedFunction

    collector = current()
    LoadedFunction.instrumenter = _previous.pop() if _previous else None
    return collector


def current() -> Collector | None:
    from edgesim.coverage.collector import Collector
    from edgesim.runtime.function import LoadedFunction

    found = LoadedFunction.instrumenter
    return found if isinstance(found, Collector) else None
