"""``edgesim serve`` with thread-CPU timers around the pieces of the Lambda@Edge path, for
benchmarks/lambda_edge.py (its breakdown of one invocation's cost on the Python side).

Each timed callable is wrapped. CPU timers use this thread's CPU clock, across the awaits of a
coroutine, so they are only meaningful with one request at a time (c=1), when nothing else runs
on the loop meanwhile — and then they include what the loop does for that request while it
waits (reading the worker's reply, for instance). Wall timers (labels ending in "(wall)") hold
under any load: the whole request, the time an invocation waits for a free worker, and its
round trip to the worker. Whenever the file ``TRIGGER`` appears, the totals since the last time
(µs per call and calls) are appended to ``REPORT`` as one JSON line, and the trigger file is
removed.

    python benchmarks/_lambda_timers.py REPORT TRIGGER serve --config … (edgesim's arguments)
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

WHOLE = "the whole request (EdgeProxy.handle)"
WHOLE_WALL = "the whole request (wall)"
QUEUE = "waiting for a free worker (LambdaPool._acquire) (wall)"
ROUND_TRIP = "the round trip to the worker (Worker.invoke) (wall)"
# (module, class or None, attribute, label), outermost first.
TIMED = (
    ("edgesim.edge.proxy", "EdgeProxy", "handle", WHOLE),
    ("edgesim.edge.stages.lambdas", None, "run_origin_request", "origin-request stage"),
    ("edgesim.edge.stages.lambdas", None, "_invoke", "  the stage's _invoke (run record, clock)"),
    ("edgesim.lambda_edge.function", "LambdaEdgeFunction", "invoke_event",
     "    LambdaEdgeFunction.invoke_event"),
    ("edgesim.lambda_edge.function", None, "validate_result", "      validate_result"),
    ("edgesim.lambda_edge.pool", "LambdaPool", "invoke", "      LambdaPool.invoke"),
    ("edgesim.lambda_edge.worker", "Worker", "invoke",
     "        Worker.invoke (JSON both ways, the pipe, the wait)"),
    ("edgesim.edge.lambda_codec", None, "origin_request", "  lambda_codec.origin_request"),
    ("edgesim.edge.lambda_codec", None, "origin_from", "  lambda_codec.origin_from"),
    ("edgesim.edge.lambda_codec", None, "wire_headers", "  lambda_codec.wire_headers"),
    ("edgesim.edge.proxy", "EdgeProxy", "_finished", "observers (log, metrics, inspector)"),
    ("edgesim.edge.proxy", "EdgeProxy", "handle", WHOLE_WALL),
    ("edgesim.lambda_edge.pool", "LambdaPool", "_acquire", QUEUE),
    ("edgesim.lambda_edge.worker", "Worker", "invoke", ROUND_TRIP),
)  # fmt: skip

_totals: dict[str, list[int]] = {}


def _wrap(label: str, original: Any) -> Any:
    entry = _totals.setdefault(label, [0, 0])
    clock = time.perf_counter_ns if label.endswith("(wall)") else time.thread_time_ns
    if inspect.iscoroutinefunction(original):

        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return await original(*args, **kwargs)
            finally:
                entry[0] += clock() - start
                entry[1] += 1

        return timed_async

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return original(*args, **kwargs)
        finally:
            entry[0] += clock() - start
            entry[1] += 1

    return timed


def _watch(report: Path, trigger: Path) -> None:
    while True:
        if trigger.exists():
            figures = {label: [ns / 1000 / max(n, 1), n] for label, (ns, n) in _totals.items()}
            with report.open("a") as out:
                out.write(json.dumps(figures) + "\n")
            for entry in _totals.values():
                entry[0] = entry[1] = 0
            trigger.unlink()
        time.sleep(0.02)


def main() -> int:
    report, trigger, *argv = sys.argv[1:]
    for module_name, owner_name, attribute, label in TIMED:
        module = importlib.import_module(module_name)
        owner = module if owner_name is None else getattr(module, owner_name)
        setattr(owner, attribute, _wrap(label, getattr(owner, attribute)))
    threading.Thread(target=_watch, args=(Path(report), Path(trigger)), daemon=True).start()
    from edgesim.cli import main as edgesim

    return edgesim(argv)


if __name__ == "__main__":
    sys.exit(main())
