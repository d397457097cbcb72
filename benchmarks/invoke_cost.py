"""Per-invocation cost of a function in edgesim's runtime: CPU µs and instructions per invocation.

The function is benchmarks/functions/ab_router.js (a JSON config read from KVS, an FNV-1a hash of
the `uid` cookie, a URI rewrite, utm_* parameters stripped), called the way `serve` calls it
(a browser-like viewer-request event, the time, the edge location, the raw query, a KVS
replica), with fresh state per invocation as always.

    python benchmarks/invoke_cost.py [--count N] [--function FILE]
        CPU time of this thread per invocation (median of 5 rounds of N invocations).
    python benchmarks/invoke_cost.py --callgrind [--count N]
        Instructions per invocation, which do not depend on the machine's load: the script runs
        itself twice under `valgrind --tool=callgrind` (N and 5N invocations after the same
        warm-up) and prints (Ir(5N) - Ir(N)) / 4N. The periodic memory check (about 30 µs once
        per 2 ms of invocations) is left out.
    python benchmarks/invoke_cost.py --floor [--count N]
        The same count for handlers that do less and less (return event.request; the same,
        async; the same after one KVS read) next to the A/B router: the runtime's fixed cost per
        invocation and what each layer adds.
    python benchmarks/invoke_cost.py --profile [--count N]
        cProfile of N invocations, the 25 costliest functions by own time.
    --on-loop (with any of them): each invocation is made from a running asyncio loop after
        `await fn.until_ready()`, as serve's proxy makes it.
    python benchmarks/invoke_cost.py --cold KB [--count N]
        The CPU time per invocation with the caches cold, next to the figure with them warm:
        before each invocation KB kilobytes of other memory are written (as serve's own work
        between two invocations evicts the engine's data and code), and only the invocation is
        timed. A hot loop keeps the context's heap and the interpreters' code in the caches,
        which serve never does.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from edgesim.kvs.reader import StaticKvs
from edgesim.runtime.engine import JsSession
from edgesim.runtime.event import build_event
from edgesim.runtime.function import BudgetPolicy, LoadedFunction
from edgesim.runtime.source import read_function

ROOT = Path(__file__).resolve().parents[1]
AB_ROUTER = ROOT / "benchmarks" / "functions" / "ab_router.js"
CONFIG = {
    "prefix": "/shop",
    "salt": "2026-q4",
    "variants": [
        {"name": "blue", "weight": 60, "path": "/b"},
        {"name": "green", "weight": 40, "path": "/g"},
    ],
    "stripParams": "utm_",
}
KVS = {"ab:config": orjson.dumps(CONFIG).decode(), "other": "x"}
# What a browser sends, as serve turns it into an event (about 1.1 KB of JSON).
EVENT = {
    "context": {
        "eventType": "viewer-request",
        "distributionId": "EDFDVBD6EXAMPLE",
        "distributionDomainName": "d111111abcdef8.cloudfront.net",
        "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
        "endpoint": "d111111abcdef8.cloudfront.net",
    },
    "viewer": {"ip": "198.51.100.7"},
    "request": {
        "method": "GET",
        "uri": "/shop/item/42",
        "querystring": {
            "utm_source": {"value": "newsletter"},
            "utm_medium": {"value": "email"},
            "id": {"value": "7"},
        },
        "headers": {
            "host": {"value": "shop.example.com"},
            "user-agent": {
                "value": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/131.0.0.0 Safari/537.36"
            },
            "accept": {"value": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
            "accept-language": {"value": "en-GB,en;q=0.9"},
            "accept-encoding": {"value": "gzip, deflate, br"},
            "referer": {"value": "https://shop.example.com/"},
            "cloudfront-viewer-country": {"value": "GB"},
            "x-forwarded-for": {"value": "198.51.100.7"},
        },
        "cookies": {
            "uid": {"value": "viewer-4242-9f3c"},
            "session": {"value": "s%3A1a2b3c4d5e6f"},
            "theme": {"value": "dark"},
        },
    },
}
EDGE = {"name": "LHR", "serverIp": "127.0.0.1", "region": "eu-west-2"}
RAW_QUERY = "utm_source=newsletter&utm_medium=email&id=7"
WARMUP = 300


def load(
    path: Path, budget: BudgetPolicy | None = None
) -> tuple[LoadedFunction, dict[str, Any], StaticKvs]:
    replica = StaticKvs(KVS)
    fn = LoadedFunction(read_function(path), kvs=replica, budget=budget)
    return fn, build_event(EVENT), replica


ON_LOOP = False  # --on-loop: every invocation made from a running asyncio loop, as serve does


def run(fn: LoadedFunction, event: dict[str, Any], replica: StaticKvs, count: int) -> None:
    if ON_LOOP:
        asyncio.run(_run_on_loop(fn, event, replica, count))
        return
    now = 1_767_225_600_000.0
    for i in range(count):
        result = fn.invoke(event, now=now + i, edge=EDGE, raw_query=RAW_QUERY, replica=replica)
        if result.error is not None:
            raise SystemExit(f"the function failed: {result.error}")


async def _run_on_loop(
    fn: LoadedFunction, event: dict[str, Any], replica: StaticKvs, count: int
) -> None:
    # As serve's proxy does: wait (without holding the loop) for a context, then invoke.
    now = 1_767_225_600_000.0
    for i in range(count):
        await fn.until_ready()
        result = fn.invoke(event, now=now + i, edge=EDGE, raw_query=RAW_QUERY, replica=replica)
        if result.error is not None:
            raise SystemExit(f"the function failed: {result.error}")


def cpu_per_invocation(path: Path, count: int) -> None:
    fn, event, replica = load(path)
    run(fn, event, replica, WARMUP)
    rounds = []
    for _ in range(5):
        start = time.thread_time_ns()
        run(fn, event, replica, count)
        rounds.append((time.thread_time_ns() - start) / count / 1000)
    result = fn.invoke(event, now=0.0, edge=EDGE, raw_query=RAW_QUERY, replica=replica)
    print(
        f"{path.name}: {statistics.median(rounds):.1f} µs CPU per invocation "
        f"(median of 5 rounds of {count}; min {min(rounds):.1f}, max {max(rounds):.1f}); "
        f"ComputeUtilization {result.compute_utilization}; "
        f"contexts built {fn.sessions_built}"
    )


def cold(path: Path, count: int, kilobytes: int) -> None:
    fn, event, replica = load(path)
    run(fn, event, replica, WARMUP)
    other = bytearray(kilobytes * 1024)
    lines = len(other[::64])
    figures: dict[str, list[float]] = {"warm": [], "cold": []}
    now = 1_767_225_600_000.0
    for _ in range(5):
        for mode, times in figures.items():
            spent = 0
            for i in range(count):
                if mode == "cold":
                    other[::64] = b"\x01" * lines  # one write per cache line
                start = time.thread_time_ns()
                fn.invoke(event, now=now + i, edge=EDGE, raw_query=RAW_QUERY, replica=replica)
                spent += time.thread_time_ns() - start
            times.append(spent / count / 1000)
    warm, chilled = statistics.median(figures["warm"]), statistics.median(figures["cold"])
    print(
        f"{path.name}: {warm:.1f} µs CPU per invocation warm, {chilled:.1f} µs with "
        f"{kilobytes} KB written before each ({chilled / warm:.2f}×; medians of 5 rounds of "
        f"{count}, rounds interleaved)"
    )


def callgrind(path: Path, count: int) -> float:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed")
    totals = []
    for n in (count, 5 * count):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "callgrind.out"
            subprocess.run(
                [
                    valgrind, "--tool=callgrind", f"--callgrind-out-file={out}",
                    sys.executable, __file__, "--function", str(path), "--bare", str(n),
                    *(["--on-loop"] if ON_LOOP else []),
                ],
                check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"},
            )  # fmt: skip
            match = re.search(r"^summary:\s*(\d+)", out.read_text(), re.MULTILINE)
            if match is None:
                raise SystemExit("no summary line in callgrind's output")
            totals.append(int(match[1]))
    per = (totals[1] - totals[0]) / (4 * count)
    print(
        f"{path.name}: {per:,.0f} instructions per invocation "
        f"(Ir({5 * count}) - Ir({count})) / {4 * count}"
    )
    return per


# --floor: what every invocation costs before the function does anything, layer by layer.
FLOOR = (
    (
        "returns event.request (a plain handler)",
        "function handler(event) {\n  return event.request;\n}\n",
    ),
    ("the same, async", "async function handler(event) {\n  return event.request;\n}\n"),
    (
        "the same, after one KVS read",
        "import cf from 'cloudfront';\nconst kvs = cf.kvs();\n"
        "async function handler(event) {\n  await kvs.get('ab:config');\n"
        "  return event.request;\n}\n",
    ),
)


def floor(count: int) -> None:
    """Instructions per invocation of handlers that do less and less than the A/B router: the
    runtime's fixed cost (event in, request out, isolation check, validation), then what an
    async handler, a KVS read and the router's own logic add."""
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (label, source) in enumerate(FLOOR):
            path = Path(tmp) / f"floor{index}.js"
            path.write_text(source)
            rows.append((label, callgrind(path, count)))
    rows.append(("the A/B router (benchmarks/functions/ab_router.js)", callgrind(AB_ROUTER, count)))
    print("\n| handler | instructions per invocation | added by this layer |\n|---|---:|---:|")
    previous = 0.0
    for label, per in rows:
        added = f"{per - previous:+,.0f}" if previous else ""
        print(f"| {label} | {per:,.0f} | {added} |")
        previous = per


def profile(path: Path, count: int) -> None:
    fn, event, replica = load(path)
    run(fn, event, replica, WARMUP)
    profiler = cProfile.Profile()
    profiler.enable()
    run(fn, event, replica, count)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--function", type=Path, default=AB_ROUTER)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument(
        "--floor", action="store_true", help="callgrind: the per-invocation floor, layer by layer"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--on-loop", action="store_true", help="invoke from an asyncio loop")
    parser.add_argument("--cold", type=int, default=None, metavar="KB")
    # Internal: load, warm up and run N invocations, nothing else (what callgrind measures).
    parser.add_argument("--bare", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global ON_LOOP
    ON_LOOP = args.on_loop
    if args.bare is not None:
        # Under valgrind code runs tens of times slower: the runaway stop must not trip, and the
        # memory check, which comes after so much CPU time, would come after every invocation
        # instead of about one in ten: it is left out of the count.
        JsSession.GC_CHECK_AFTER_NS = 1 << 62
        fn, event, replica = load(args.function, BudgetPolicy(ceiling_factor=10_000))
        run(fn, event, replica, WARMUP)
        run(fn, event, replica, args.bare)
    elif args.cold is not None:
        cold(args.function, args.count, args.cold)
    elif args.floor:
        floor(args.count)
    elif args.callgrind:
        callgrind(args.function, args.count)
    elif args.profile:
        profile(args.function, args.count)
    else:
        cpu_per_invocation(args.function, args.count)


if __name__ == "__main__":
    main()
