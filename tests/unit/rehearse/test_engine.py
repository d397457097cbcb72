"""The rehearsal engine: the counted changes of a KVS weight change and a rewrite-rule change
match an independent computation; a proposed function that throws counts as new errors; the
propagation window splits each POP's requests at its configured lag."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from edgesim.errors import InputError
from edgesim.rehearse import rehearse
from edgesim.rehearse.traffic import write_traffic
from tests.unit.rehearse.traffic_gen import (
    AB_AFTER,
    CONFIG,
    REWRITES_AFTER,
    ROOT,
    T0,
    expected_kinds,
    records,
    uid_of,
)

LAGS = {"IAD": 5000.0, "FRA": 20000.0, "NRT": 5000.0}


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("traffic") / "traffic.jsonl"
    write_traffic(path, records(600))
    return path


def _changes(ab: bool, rw: bool) -> tuple[int, Counter[str]]:
    kinds: Counter[str] = Counter()
    changed = 0
    for record in records(600):
        found = expected_kinds(record, ab=ab, rewrites=rw)
        changed += bool(found)
        kinds.update(found)
    return changed, kinds


def test_kvs_weight_and_rewrite_rule_changes_match_an_independent_count(traffic: Path) -> None:
    report = rehearse(
        traffic,
        CONFIG,
        kvs_after={"experiments": AB_AFTER, "rewrites": REWRITES_AFTER},
        jobs=1,
    )
    changed, kinds = _changes(True, True)
    assert report["total"] == 600
    assert report["changed"] == changed > 0
    assert report["new_errors"] == 0
    assert {k: v["count"] for k, v in report["by_kind"].items()} == dict(kinds)
    assert not report["partial"]
    # Examples show the change itself.
    assert report["by_kind"]["cohort_changed"]["top"] == {
        "header x-cohort: a → b": kinds["cohort_changed"]
    }
    cohort = report["by_kind"]["cohort_changed"]["examples"][0]
    assert cohort["detail"] == "header x-cohort: a → b"
    redirect = report["by_kind"]["redirect_target_changed"]["examples"][0]
    assert "/offers/winter" in redirect["after"]
    assert "/offers/summer" in redirect["before"]


@pytest.mark.parametrize(("ab", "rw"), [(True, False), (False, True)])
def test_each_change_alone_changes_only_its_requests(traffic: Path, ab: bool, rw: bool) -> None:
    after = {"experiments": AB_AFTER} if ab else {"rewrites": REWRITES_AFTER}
    report = rehearse(traffic, CONFIG, kvs_after=after, jobs=1)
    assert report["changed"] == _changes(ab, rw)[0]


def test_the_same_data_changes_nothing(traffic: Path) -> None:
    report = rehearse(
        traffic, CONFIG, kvs_after=[f"experiments={CONFIG.parent / 'ab_30.json'}"], jobs=1
    )
    assert report["changed"] == 0
    assert report["by_kind"] == {}


def test_a_throwing_proposed_function_counts_new_errors(traffic: Path, tmp_path: Path) -> None:
    code = (ROOT / "functions" / "rewrite_table.js").read_text()
    marker = "  const key = tableKey(request.uri);"
    assert marker in code
    broken = code.replace(
        marker, "  if (request.uri === '/home') { throw new Error('boom'); }\n" + marker
    )
    new = tmp_path / "rewrite_table.js"
    new.write_text(broken)
    report = rehearse(traffic, CONFIG, function_after={"rewrites": new}, jobs=1)
    homes = sum(1 for r in records(600) if r.uri == "/home")
    assert report["new_errors"] == homes > 0
    assert report["by_kind"]["now_error"]["count"] == homes
    assert report["by_kind"]["status_changed"]["count"] == homes
    example = report["by_kind"]["now_error"]["examples"][0]
    assert "boom" in example["after"]
    assert example["after"].startswith("503 ")
    assert report["errors"] == {"current": 0, "proposed": homes}
    assert sum(p["new_errors"] for p in report["by_pop"].values()) == homes


def test_propagation_window_splits_each_pops_requests_at_its_lag(traffic: Path) -> None:
    report = rehearse(traffic, CONFIG, kvs_after={"experiments": AB_AFTER}, jobs=1)
    assert report["window"]["write_at"].startswith("2025-12-02T18:26:40.000")
    expected: dict[str, Counter[str]] = {pop: Counter() for pop in LAGS}
    for record in records(600):
        assert record.pop is not None
        count = expected[record.pop]
        count["requests"] += 1
        changes = bool(expected_kinds(record, rewrites=False))
        count["changed"] += changes
        if record.time_ms < T0 + max(LAGS.values()):
            count["window"] += 1
            landed = record.time_ms >= T0 + LAGS[record.pop]
            count["new_data" if landed else "old_data"] += 1
            if changes:
                count["changed_early" if landed else "pending"] += 1
    for pop, entry in report["by_pop"].items():
        want = expected[pop]
        assert entry["lag_ms"] == LAGS[pop]
        assert entry["lag_range_ms"] == [LAGS[pop], LAGS[pop]]
        assert entry["requests"] == want["requests"]
        assert entry["changed"] == want["changed"]
        window = entry["window"]
        assert window["requests"] == want["window"]
        assert window["old_data"] == want["old_data"]
        assert window["new_data"] == want["new_data"]
        assert window["changed_early"] == want["changed_early"]
        assert window["pending"] == want["pending"]
        for example in window["examples"]:
            assert T0 + LAGS[pop] <= records(600)[example["request"]].time_ms < T0 + 20000
        assert len(window["examples"]) == min(3, want["changed_early"])
    # FRA's data lands last: all of its window requests still saw the old data.
    assert report["by_pop"]["FRA"]["window"]["new_data"] == 0


def test_current_code_on_new_data_is_rehearsed_when_both_change(
    traffic: Path, tmp_path: Path
) -> None:
    """Data the current code cannot read, shipped with code that can: the final state has no
    new error, but POPs the write reached before the code changed fail, and say so."""
    desired = tmp_path / "ab.json"
    desired.write_text(
        '{"data": [{"key": "experiment:checkout", "value": "{\\"path\\": \\"/checkout\\"}"}]}'
    )
    code = (ROOT / "functions" / "ab_cohort.js").read_text()
    marker = "  const variant = pickVariant("
    assert marker in code
    fixed = tmp_path / "ab_cohort.js"
    fixed.write_text(
        code.replace(marker, "  if (!experiment.variants) { return request; }\n" + marker)
    )
    report = rehearse(
        traffic, CONFIG, kvs_after={"experiments": desired}, function_after={"ab-test": fixed},
        jobs=1,
    )  # fmt: skip
    assert report["new_errors"] == 0
    # Without variants, every viewer with a uid loses the cohort header and rewrite.
    cohort = [r for r in records(600) if r.uri.startswith("/checkout") and uid_of(r)]
    assert report["changed"] == len(cohort)
    # The current code reads experiment.variants.length: a TypeError at IAD and NRT, whose data
    # lands after 5 s, for /checkout requests with a uid between 5 s and 20 s; none at FRA.
    for pop in ("IAD", "NRT"):
        want = sum(
            1 for r in cohort if r.pop == pop and T0 + LAGS[pop] <= r.time_ms < T0 + LAGS["FRA"]
        )
        window = report["by_pop"][pop]["window"]
        assert window["errors_current_code_new_data"] == want > 0
        assert window["changed_early"] == want
    assert report["by_pop"]["FRA"]["window"]["errors_current_code_new_data"] == 0


def test_parallel_workers_give_the_same_report(traffic: Path) -> None:
    after = {"experiments": AB_AFTER, "rewrites": REWRITES_AFTER}
    alone = rehearse(traffic, CONFIG, kvs_after=after, jobs=1)
    shared = rehearse(traffic, CONFIG, kvs_after=after, jobs=2)
    for report in (alone, shared):
        report.pop("runs")
    assert shared == alone


def test_bad_input_is_refused_with_the_flag_and_the_reason(traffic: Path) -> None:
    with pytest.raises(InputError, match="nothing to rehearse"):
        rehearse(traffic, CONFIG)
    with pytest.raises(InputError, match=r"--kvs-after .*say which store"):
        rehearse(traffic, CONFIG, kvs_after=str(AB_AFTER))
    with pytest.raises(InputError, match=r"no store 'nope'.*experiments, rewrites"):
        rehearse(traffic, CONFIG, kvs_after={"nope": AB_AFTER})
    with pytest.raises(InputError, match=r"no function 'x'"):
        rehearse(traffic, CONFIG, function_after={"x": AB_AFTER})
    with pytest.raises(InputError, match="proposed version: function rewrites"):
        rehearse(traffic, CONFIG, function_after={"rewrites": Path("missing.js")})


def test_workers_are_started_ahead_only_for_a_recording_large_enough_to_need_them() -> None:
    from edgesim.rehearse.engine import PARALLEL_FROM, workers_for

    assert workers_for(None, 1_000) is None  # a small recording runs in-process
    assert workers_for(1, 10**9) is None  # --jobs 1: in-process whatever the size
    workers = workers_for(2, 0)  # --jobs 2: asked for
    assert workers is not None
    try:
        assert workers.jobs == 2
    finally:
        workers.close()
    assert PARALLEL_FROM * 300 > 1_000
