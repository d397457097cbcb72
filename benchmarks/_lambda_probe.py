"""Probes for benchmarks/lambda_edge.py: serve's Node.js workers (how many, their CPU), time spent
waiting for a CPU (/proc schedstat), serve's JSON request log, an invocation replayed outside
serve, and serve run with thread-CPU timers around the Lambda@Edge path (_lambda_timers.py).

Linux only (/proc).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _procs import descendants, tree_cpu_seconds
from _table import median


def node_workers(serve_pid: int) -> list[int]:
    """The Node.js workers below serve (processes running edgesim's runner.cjs)."""
    found = []
    for pid in descendants(serve_pid)[1:]:
        with contextlib.suppress(OSError):
            if b"runner.cjs" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


class NodeWatch:
    """Samples serve's workers every 0.1 s during a run: how many at once, their CPU."""

    def __init__(self, serve_pid: int) -> None:
        self.serve_pid = serve_pid
        self.start = {pid: tree_cpu_seconds(pid) for pid in node_workers(serve_pid)}
        self.last: dict[int, float] = dict(self.start)
        self.alive = len(self.start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self._take()

    def _take(self) -> None:
        pids = node_workers(self.serve_pid)
        self.alive = max(self.alive, len(pids))
        for pid in pids:  # a worker that exits keeps its last sampled figure
            self.last[pid] = tree_cpu_seconds(pid)

    def __enter__(self) -> NodeWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    def per_worker(self) -> dict[int, float]:
        """CPU seconds of each worker over the run (a worker started during it: all of it)."""
        return {pid: cpu - self.start.get(pid, 0.0) for pid, cpu in self.last.items()}


def records(log: Path, offset: int) -> Iterator[dict[str, Any]]:
    """The JSON lines of serve's output from byte ``offset`` on."""
    with log.open("rb") as f:
        f.seek(offset)
        for line in f:
            if line.startswith(b"{"):
                with contextlib.suppress(ValueError):
                    yield json.loads(line)


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def sched_seconds(pid: int) -> tuple[float, float]:
    """(CPU time, time spent runnable but waiting for a CPU) of every thread of ``pid`` and its
    descendants so far, from /proc/<pid>/task/<tid>/schedstat (nanoseconds; needs schedstats,
    as Linux kernels have by default). On a shared machine the wait is what turns a few
    hand-offs between processes into milliseconds."""
    cpu = wait = 0
    for member in descendants(pid):
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{member}/task"):
                with contextlib.suppress(OSError, ValueError):
                    fields = Path(f"/proc/{member}/task/{task}/schedstat").read_text().split()
                    cpu += int(fields[0])
                    wait += int(fields[1])
    return cpu / 1e9, wait / 1e9


def replay(code: str, event: dict[str, Any], invocations: int) -> dict[str, float]:
    """The event serve built, invoked outside serve on the function ``code``:
    LambdaEdgeFunction.invoke_event, one worker, one invocation at a time, in this process's
    event loop (uvloop when installed, as serve). Medians of 3 batches: µs per invocation of
    wall time (``wall``), of this process's CPU (``python``), of the worker's CPU (``node``),
    and the median ``DurationMs`` the worker reported (``duration``)."""
    from edgesim.lambda_edge.function import LambdaEdgeFunction
    from edgesim.lambda_edge.spec import LambdaSpec

    async def batches(source: Path) -> dict[str, float]:
        figures: dict[str, list[float]] = {}
        async with LambdaEdgeFunction(LambdaSpec("stamp", source), max_workers=1) as fn:
            for _ in range(200):  # start the worker, warm V8 up
                await fn.invoke_event("origin-request", event)
            for _ in range(3):
                durations = []
                worker = node_workers(os.getpid())
                node_before = sum(tree_cpu_seconds(pid) for pid in worker)
                cpu_before, wall_before = time.process_time(), time.perf_counter()
                for _ in range(invocations):
                    outcome = await fn.invoke_event("origin-request", event)
                    assert outcome.failure is None, outcome.failure
                    durations.append(outcome.duration_ms)
                wall = time.perf_counter() - wall_before
                python = time.process_time() - cpu_before
                node = sum(tree_cpu_seconds(pid) for pid in worker) - node_before
                for name, value in (("wall", wall), ("python", python), ("node", node)):
                    figures.setdefault(name, []).append(value * 1e6 / invocations)
                figures.setdefault("duration", []).append(statistics.median(durations) * 1000)
        return {name: median(values) for name, values in figures.items()}

    with tempfile.TemporaryDirectory(prefix="edgesim-bench-replay-") as tmp:
        source = Path(tmp) / "stamp.js"
        source.write_text(code)
        try:
            import uvloop  # serve runs on it when it is installed
        except ImportError:
            return asyncio.run(batches(source))
        return uvloop.run(batches(source))


class TimedServe:
    """A second serve on a copy of the benchmark's files, run by _lambda_timers.py: thread-CPU
    timers around the pieces of the Lambda@Edge path; :meth:`totals` reads them since the last
    call (µs per call, calls)."""

    def __init__(self, folder: Path) -> None:
        self.report = folder / "timers.jsonl"
        self.trigger = folder / "timers.trigger"

    def argv(self, python: str, here: Path) -> list[str]:
        return [python, str(here / "_lambda_timers.py"), str(self.report), str(self.trigger)]

    def totals(self) -> dict[str, tuple[float, int]]:
        self.trigger.touch()
        deadline = time.monotonic() + 10
        while self.trigger.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("serve with timers did not answer (is it running?)")
            time.sleep(0.02)
        last = self.report.read_text().splitlines()[-1]
        return {label: (float(us), int(n)) for label, (us, n) in json.loads(last).items()}
