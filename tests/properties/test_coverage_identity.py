"""Coverage never changes what a function does: every cookbook function, on generated viewer
requests (and with generated KVS faults), gives the same result with and without counters:
the same output, error and position, logs, warnings, and (deterministic mode) the same compute
utilization."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
from hypothesis import given, settings

import edgesim.strategies as es
from edgesim.coverage.collector import Collector
from edgesim.kvs.importfile import load_import_file
from edgesim.kvs.reader import StaticKvs
from edgesim.runtime.function import BudgetPolicy, InvocationResult, LoadedFunction
from edgesim.runtime.source import read_function
from edgesim.testing import viewer_request
from edgesim.testing.loading import EdgeFunction

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.stem for p in (ROOT / "functions").glob("*.js"))
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# Deterministic mode: counted work is what is compared (CPU time differs by nature).
BUDGET = BudgetPolicy(deterministic=True)
COLLECTOR = Collector()


@cache
def pair(name: str) -> tuple[EdgeFunction, EdgeFunction]:
    kvs_file = ROOT / "fixtures" / "kvs" / f"{name}.json"
    kvs = StaticKvs(load_import_file(kvs_file), name=name) if kvs_file.exists() else None
    source = read_function(ROOT / "functions" / f"{name}.js")
    return tuple(  # type: ignore[return-value]
        EdgeFunction(LoadedFunction(source, kvs=kvs, budget=BUDGET, coverage=c), kvs)
        for c in (False, COLLECTOR)
    )


def observable(result: InvocationResult) -> dict[str, Any]:
    error = result.error
    return {
        "kind": result.kind,
        "output": result.output,
        "error": None
        if error is None
        else (error.kind, error.message, error.position, error.stack),
        "logs": result.logs,
        "warnings": result.warnings,
        "utilization": result.compute_utilization,
        "custom_log": result.custom_log_data,
        "origin": [(m.helper, m.argument, m.problems) for m in result.origin_modifications],
    }


@settings(max_examples=100)
@given(
    name=st.sampled_from(FUNCTIONS),
    event=es.viewer_requests(),
    fault=st.none() | es.kvs_faults(propagating=False),
    seed=st.integers(0, 2**32 - 1),
)
def test_results_are_the_same_with_and_without_coverage(
    name: str, event: dict[str, Any], fault: str | None, seed: int
) -> None:
    plain, covered = pair(name)
    runs = []
    for fn in (plain, covered):
        kvs = None if fault is None or fn.kvs is None else fn.with_fault(fault)
        runs.append(observable(fn.run(event, now=NOW, seed=seed, kvs=kvs)))
    assert runs[0] == runs[1]


def test_the_covered_copies_do_count() -> None:
    _plain, covered = pair("country_redirect")
    covered.run(viewer_request("/"), now=NOW)
    (entry,) = (e for path, e in COLLECTOR.files.items() if path.endswith("country_redirect.js"))
    assert sum(entry.counts) > 0
