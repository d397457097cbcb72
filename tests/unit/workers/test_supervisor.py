"""The control process's view of its workers' caches: counts and bytes added up (per POP too),
budgets as each worker has them, every configured POP listed."""

from __future__ import annotations

from edgesim.edge.cache import HttpCache
from edgesim.workers.supervisor import merge_cache_stats


def test_worker_caches_add_up_in_status_and_metrics() -> None:
    clock = [0.0]
    caches = [HttpCache(clock=lambda: clock[0], memory_limit_bytes=1 << 20) for _ in range(2)]
    try:
        rows = [cache.stats(pops=["IAD", "FRA"]) for cache in caches]
        merged = merge_cache_stats(rows, ["IAD", "FRA", "NRT"])
        assert merged["memory_limit_bytes"] == 1 << 20  # each worker's budget, not a sum
        for key, value in rows[0].items():
            if key != "pops" and not key.endswith("_limit_bytes") and isinstance(value, int):
                assert merged[key] == value + rows[1][key], key
        assert list(merged["pops"]) == ["FRA", "IAD", "NRT"]
        one = {"entries": 2, "bytes": 10}
        other = {"entries": 1, "bytes": 5}
        pops = merge_cache_stats(
            [{"entries": 2, "pops": {"IAD": one}}, {"entries": 1, "pops": {"IAD": other}}], []
        )["pops"]
        assert pops == {"IAD": {"entries": 3, "bytes": 15}}
    finally:
        for cache in caches:
            cache.close()
