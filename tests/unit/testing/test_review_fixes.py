"""Toolkit behaviours a review pinned down."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.testing import FaultyKvs, ReplicatedKvs, load_function

ROOT = Path(__file__).resolve().parents[3]


def test_settle_advances_only_as_far_as_the_longest_lag() -> None:
    with ReplicatedKvs({"k": "0"}, pops=("IAD", "FRA", "NRT"), lag=2.0) as kvs:
        for i in range(10):
            kvs.put("k", str(i))
        before = kvs.clock.monotonic()
        kvs.settle()
        assert kvs.clock.monotonic() - before == pytest.approx(2.0, abs=1e-3)
        assert {kvs.replica(p).get("k") for p in kvs.pops} == {"9"}


def test_misspelt_fault_fails_where_it_is_written() -> None:
    with pytest.raises(ValueError, match="unknown KVS fault 'missing_key'"):
        FaultyKvs(None, "missing_key")  # type: ignore[arg-type]


def test_unknown_kvs_argument_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="kvs=42: expected None, a dict"):
        load_function(ROOT / "functions" / "ab_cohort.js", kvs=42)  # type: ignore[arg-type]
