"""/metrics shows the cache per POP (entries, memory and disk bytes), its budgets and evictions
(issue 17 part 4)."""

from __future__ import annotations

from edgesim.devloop.metrics import Metrics
from edgesim.edge.cache import HttpCache
from edgesim.edge.ttl import TtlDecision


def test_cache_gauges_per_pop_and_budgets() -> None:
    with HttpCache(
        memory_limit_bytes=4_096,
        disk_limit_bytes=1_000,
        spill_threshold_bytes=100,
        count_entry_overhead=True,
    ) as cache:
        for key, pop, size in [("IAD|/a", "IAD", 10), ("NRT|/b", "NRT", 500), ("IAD|/c", "IAD", 5)]:
            writer = cache.begin(
                key, status=200, headers=[], decision=TtlDecision(True, 60), path="/", pop=pop
            )
            writer.write(b"x" * size)
            writer.commit()
        stats = cache.stats(pops=["FRA", "IAD", "NRT"])
    lines = Metrics().render(cache=stats).splitlines()
    iad = stats["pops"]["IAD"]
    assert 'edgesim_cache_entries{pop="IAD"} 2' in lines
    assert 'edgesim_cache_entries{pop="FRA"} 0' in lines
    assert f'edgesim_cache_memory_bytes{{pop="IAD"}} {iad["memory_bytes"]}' in lines
    assert 'edgesim_cache_disk_bytes{pop="NRT"} 500' in lines
    assert "edgesim_cache_memory_limit_bytes 4096" in lines
    assert "edgesim_cache_disk_limit_bytes 1000" in lines
    assert "edgesim_cache_evictions 0" in lines
    assert "# TYPE edgesim_cache_entries gauge" in lines


def test_without_cache_stats_no_cache_lines() -> None:
    assert "edgesim_cache_entries" not in Metrics().render()
