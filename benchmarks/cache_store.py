"""Cache benchmark (issue 17 part 4): µs per store into a full cache of 1k / 100k / 1M entries,
side by side with plain-Python baselines measured in the same run.

Each case fills an ``HttpCache`` (counting entry overhead, as serve does) with N small objects
and a memory budget that holds exactly N, then stores new objects: every store is a
``begin``/``write``/``commit`` that also evicts the least recently used entry. Columns:

- ``HttpCache store``: that store, as the pipeline does it;
- ``dict insert``: ``d[key] = value`` into a plain dict of N entries (the floor);
- ``OrderedDict LRU``: ``od[key] = value`` plus ``od.popitem(last=False)``, the bare LRU step;
- ``scan (before)``: the eviction search before issue 17 part 4, which listed every entry on
  each store (``[k for k, o in od.items() if ...]``), emulated on the same N entries — only a few
  stores, it is O(N).

Each figure is the median (and p99) of per-call ``perf_counter_ns`` timings, so the timer's cost
is in every column; the process's CPU time per store is printed too.

    python benchmarks/cache_store.py [--sizes 1000,100000,1000000] [--stores N]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections import OrderedDict
from collections.abc import Callable

from edgesim.edge.cache import CachedObject, HttpCache
from edgesim.edge.cache_cost import entry_memory_cost
from edgesim.edge.ttl import TtlDecision

TTL = TtlDecision(cacheable=True, ttl=60)
HEADERS = [("content-type", "text/plain"), ("etag", '"v1"')]
BODY = b"x" * 64


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(step: Callable[[int], object], first: int, count: int) -> tuple[float, float, float]:
    """(p50 µs, p99 µs, CPU µs per call) of ``step(i)`` for i in first..first+count."""
    clock = time.perf_counter_ns
    samples = []
    cpu = time.process_time()
    for i in range(first, first + count):
        start = clock()
        step(i)
        samples.append((clock() - start) / 1000)
    cpu_us = (time.process_time() - cpu) / count * 1e6
    return (*percentiles(samples), cpu_us)


def key(i: int) -> str:
    return f"IAD|/objects/{i:09d}"


def store(cache: HttpCache, i: int) -> CachedObject | None:
    writer = cache.begin(
        key(i), status=200, headers=list(HEADERS), decision=TTL, path=key(i)[4:], pop="IAD"
    )
    writer.write(BODY)
    return writer.commit()


def http_cache_case(size: int, stores: int) -> tuple[float, float, float]:
    one = entry_memory_cost(key(0), key(0)[4:], HEADERS, body_bytes=len(BODY))
    cache = HttpCache(memory_limit_bytes=size * one, count_entry_overhead=True)
    for i in range(size):
        store(cache, i)
    assert len(cache) == size, (len(cache), size)
    result = timed(lambda i: store(cache, i), size, stores)
    assert len(cache) == size  # every store evicted exactly one
    assert cache.stats()["evictions"] == stores
    cache.close()
    return result


def dict_case(size: int, stores: int) -> tuple[float, float, float]:
    d: dict[str, object] = {key(i): i for i in range(size)}

    def step(i: int) -> None:
        d[key(i)] = i

    return timed(step, size, stores)


def lru_case(size: int, stores: int) -> tuple[float, float, float]:
    od: OrderedDict[str, object] = OrderedDict((key(i), i) for i in range(size))

    def step(i: int) -> None:
        od[key(i)] = i
        od.popitem(last=False)

    return timed(step, size, stores)


def scan_case(size: int, stores: int) -> tuple[float, float, float]:
    od: OrderedDict[str, bool] = OrderedDict((key(i), False) for i in range(size))

    def step(i: int) -> None:
        od[key(i)] = False
        victims = [k for k, spilled in od.items() if spilled is False]
        od.pop(victims[0])

    return timed(step, size, stores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--stores", type=int, default=20_000, help="timed stores per case")
    parser.add_argument("--scan-stores", type=int, default=20, help="timed stores, scan column")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    columns: list[tuple[str, Callable[[int, int], tuple[float, float, float]], int]] = [
        ("HttpCache store", http_cache_case, args.stores),
        ("dict insert", dict_case, args.stores),
        ("OrderedDict LRU", lru_case, args.stores),
        ("scan (before)", scan_case, args.scan_stores),
    ]
    print("µs per store into a full cache: median / p99 (CPU per store)")
    print(f"{'entries':>10}  " + "  ".join(f"{name:>26}" for name, _, _ in columns))
    for size in sizes:
        cells = []
        for _, case, stores in columns:
            gc.collect()
            p50, p99, cpu = case(size, stores)
            cells.append(f"{p50:8.2f} / {p99:8.2f} ({cpu:7.2f})")
        print(f"{size:>10}  " + "  ".join(f"{c:>26}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
