"""What coverage costs per invocation: each cookbook function on its fixture event, CPU µs per
invocation without coverage (the default: nothing is instrumented) and with it, and the ratio
(issue 14 asks for at most 3×).

    python benchmarks/coverage_cost.py [--count N] [--rounds R]

CPU time of this thread per invocation, the median of R rounds of N invocations each, the two
variants alternating round by round so that the machine's load falls on both alike. The cost
with coverage includes taking the counts after each invocation and adding them up.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import orjson

from edgesim.coverage.collector import Collector
from edgesim.kvs.importfile import load_import_file
from edgesim.kvs.reader import StaticKvs
from edgesim.runtime.event import build_event
from edgesim.runtime.function import LoadedFunction
from edgesim.runtime.source import read_function

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 3.0


def per_invocation_us(fn: LoadedFunction, event: dict[str, object], count: int) -> float:
    started = time.thread_time_ns()
    for _ in range(count):
        fn.invoke(event, now=1_780_000_000_000, seed=7)
    return (time.thread_time_ns() - started) / count / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    collector = Collector()
    rows = []
    for path in sorted((ROOT / "functions").glob("*.js")):
        event_file = ROOT / "fixtures" / "events" / f"{path.stem}.json"
        if not event_file.exists():
            continue
        kvs_file = ROOT / "fixtures" / "kvs" / f"{path.stem}.json"
        kvs = StaticKvs(load_import_file(kvs_file)) if kvs_file.exists() else None
        event = build_event(orjson.loads(event_file.read_bytes()))
        source = read_function(path)
        plain = LoadedFunction(source, kvs=kvs, coverage=False)
        covered = LoadedFunction(source, kvs=kvs, coverage=collector)
        for fn in (plain, covered):  # warm-up
            per_invocation_us(fn, event, max(args.count // 10, 1))
        off: list[float] = []
        on: list[float] = []
        for _ in range(args.rounds):
            off.append(per_invocation_us(plain, event, args.count))
            on.append(per_invocation_us(covered, event, args.count))
        rows.append((path.name, statistics.median(off), statistics.median(on)))
    print(f"{'function':<26}{'off µs':>9}{'on µs':>9}{'ratio':>8}")
    worst = 0.0
    for name, off_us, on_us in rows:
        ratio = on_us / off_us
        worst = max(worst, ratio)
        print(f"{name:<26}{off_us:>9.1f}{on_us:>9.1f}{ratio:>7.2f}×")
    verdict = "✓" if worst <= LIMIT else "✗"
    print(f"worst ratio {worst:.2f}× (limit {LIMIT:g}×) {verdict}")
    print("off = coverage not started: the body is not instrumented at all (no cost to measure).")
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
