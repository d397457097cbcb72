"""CPU time of the function path measured inside a running serve under load (issue 12).

The runtime benchmark (invoke_cost.py) times invocations in a hot loop; serve's figure in
benchmarks/serve.py is a difference of two whole-process figures. This script times the pieces
themselves, inside one edgesim process serving benchmarks/functions/ab_router.js (the target
``edgesim-ab`` of plumbing_cost.py) while ``wrk`` loads it: each call of the functions stage,
of ``LoadedFunction.invoke``, of the engine's run and of the observers of finished flows is
timed with this thread's CPU clock (the timers' own cost, about 1.5 µs per timed call, is in the
figures). Then the same invocation in a hot loop, for comparison.

    python benchmarks/serve_stage_cpu.py [--duration 8] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import plumbing_cost  # noqa: E402

TIMED = (
    ("edgesim.edge.stages.functions", None, "run_viewer_request", "functions stage"),
    ("edgesim.runtime.function", "LoadedFunction", "invoke", "LoadedFunction.invoke"),
    ("edgesim.runtime.engine", "JsSession", "_run", "JsSession._run"),
    ("edgesim.edge.proxy", "EdgeProxy", "_finished", "observers"),
)


def install_timers(report: Path) -> None:
    """Wrap each timed callable; write the totals to ``report`` (JSON) at exit."""
    import atexit
    import importlib

    totals: dict[str, list[int]] = {}
    clock = time.thread_time_ns

    def wrap(label: str, original: Any) -> Any:
        entry = totals.setdefault(label, [0, 0])

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return original(*args, **kwargs)
            finally:
                entry[0] += clock() - start
                entry[1] += 1

        return timed

    for module_name, owner_name, attribute, label in TIMED:
        module = importlib.import_module(module_name)
        owner = module if owner_name is None else getattr(module, owner_name)
        setattr(owner, attribute, wrap(label, getattr(owner, attribute)))
    atexit.register(lambda: report.write_text(json.dumps(totals)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--_serve", dest="serve", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--_report", dest="report", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:  # the child: serve with the timers in place
        install_timers(Path(args.report))
        plumbing_cost.run_loop(
            plumbing_cost._serve_forever("edgesim-ab", args.serve, "asyncio"), "asyncio"
        )
        return
    origin, origin_port = plumbing_cost.spawn("origin", "", "uvloop")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        child = subprocess.Popen(
            [sys.executable, __file__, "--_serve", f"http://127.0.0.1:{origin_port}",
             "--_report", str(report)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert child.stdout is not None
            port = int(child.stdout.readline())
            url = f"http://127.0.0.1:{port}{plumbing_cost.PATHS['edgesim-ab']}"
            plumbing_cost.wrk(url, args.connections, 1)  # warm-up (its calls are counted too)
            loaded = plumbing_cost.wrk(url, args.connections, args.duration)
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(10)
            origin.send_signal(signal.SIGTERM)
            origin.wait(10)
        totals = json.loads(report.read_text())
    print(
        f"inside serve (wrk -c{args.connections}, {loaded['requests'] / args.duration:,.0f} "
        "req/s), CPU per call:"
    )
    for label, (ns, calls) in totals.items():
        print(f"  {label:<24} {ns / max(calls, 1) / 1000:8.1f} µs  ({calls} calls)")
    hot = subprocess.run(
        [sys.executable, str(HERE / "stage_cost.py"), "--count", "1000",
         "--layers", "stage,invoke"],
        capture_output=True, text=True, check=True, env=dict(os.environ),
    ).stdout  # fmt: skip
    print("the same in a hot loop (benchmarks/stage_cost.py):")
    print("".join(f"  {line}\n" for line in hot.strip().splitlines()), end="")


if __name__ == "__main__":
    main()
