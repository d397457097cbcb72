"""Runtime benchmark: µs per invocation, edgesim (QuickJS) next to Node.js `vm`, in one run.

Cases: (a) a pass-through function; (b) functions/ab_cohort.js, which does one KVS read, a
SHA-256 and a URI rewrite. Both get fresh state per invocation. Also the wall time of a whole
`edgesim test` process, start to exit.

    python benchmarks/runtime.py [--iterations N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import orjson

from edgesim.kvs.importfile import load_import_file
from edgesim.kvs.reader import StaticKvs
from edgesim.runtime.event import build_event
from edgesim.runtime.function import LoadedFunction
from edgesim.runtime.source import from_text, module_body, read_function

ROOT = Path(__file__).resolve().parents[1]
PASS_THROUGH = "function handler(event) { return event.request; }"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def bench_edgesim(
    fn: LoadedFunction, event: dict[str, object], iterations: int
) -> tuple[float, float]:
    for _ in range(200):
        fn.invoke(event)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(iterations):
        start = clock()
        fn.invoke(event)
        samples.append((clock() - start) / 1000)
    return percentiles(samples)


def bench_node(
    source: str, event: dict[str, object], kvs: dict[str, str], iterations: int
) -> tuple[float, float] | None:
    node = shutil.which("node")
    if node is None:
        return None
    job = {
        "body": module_body(source),
        "event": event,
        "kvs": kvs,
        "iterations": iterations,
        "warmup": 200,
    }
    proc = subprocess.run(
        [node, str(ROOT / "benchmarks" / "node_vm_baseline.js")],
        input=orjson.dumps(job), capture_output=True, check=True,
    )  # fmt: skip
    figures = json.loads(proc.stdout)
    return figures["p50"], figures["p99"]


def bench_cli(runs: int) -> tuple[float, float]:
    argv = [
        sys.executable, "-m", "edgesim", "test", str(ROOT / "functions" / "ab_cohort.js"),
        "--event", str(ROOT / "fixtures" / "events" / "ab_cohort.json"),
        "--kvs", str(ROOT / "fixtures" / "kvs" / "ab_cohort.json"),
    ]  # fmt: skip
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--cli-runs", type=int, default=10)
    args = parser.parse_args()

    kvs_items = load_import_file(ROOT / "fixtures" / "kvs" / "ab_cohort.json")
    event = build_event(
        orjson.loads((ROOT / "fixtures" / "events" / "ab_cohort.json").read_bytes())
    )
    ab_source = read_function(ROOT / "functions" / "ab_cohort.js")
    cases = [
        ("(a) pass-through", from_text(PASS_THROUGH), None),
        ("(b) A/B: KVS read + sha256 + rewrite", ab_source, kvs_items),
    ]
    print(f"µs per invocation, fresh state each time, {args.iterations} iterations")
    widths = (40, 12, 8, 12, 8, 10)
    header = ("case", "edgesim p50", "p99", "node vm p50", "p99", "ratio p50")
    print(
        " ".join(
            f"{h:>{w}}" if i else f"{h:{w}}"
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    for label, source, items in cases:
        fn = LoadedFunction(source, kvs=StaticKvs(items) if items is not None else None)
        mine = bench_edgesim(fn, event, args.iterations)
        node = bench_node(source.text, event, items or {}, args.iterations)
        node_txt = (
            f"{node[0]:12.1f} {node[1]:8.1f} {mine[0] / node[0]:10.2f}" if node else "   (no node)"
        )
        print(f"{label:40} {mine[0]:12.1f} {mine[1]:8.1f} {node_txt}")
    median_ms, worst_ms = bench_cli(args.cli_runs)
    print(
        f"`edgesim test` process start to exit: median {median_ms:.0f} ms, "
        f"max {worst_ms:.0f} ms ({args.cli_runs} runs)"
    )


if __name__ == "__main__":
    main()
