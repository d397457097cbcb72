"""The probes of benchmarks/lambda_edge.py (no timing is asserted): serve's Node workers found
among its children, CPU time read from schedstat, and serve's JSON request log read per row.

The whole benchmark takes tens of seconds even with tiny settings, so it is not run here."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> Iterator[tuple[ModuleType, ModuleType]]:
    sys.path.insert(0, str(BENCH))
    try:
        import _lambda_probe
        import lambda_edge

        yield _lambda_probe, lambda_edge
    finally:
        sys.path.remove(str(BENCH))


def test_node_workers_are_the_children_running_the_runner(
    bench: tuple[ModuleType, ModuleType],
) -> None:
    probe, _ = bench
    # A parent with two children: one whose command line names runner.cjs, one that does not.
    script = (
        "import subprocess, sys, time\n"
        "nap = [sys.executable, '-c', 'import time; time.sleep(30)']\n"
        "a = subprocess.Popen(nap + ['edgesim/lambda_edge/runner.cjs'])\n"
        "b = subprocess.Popen(nap + ['other.js'])\n"
        "print(a.pid, b.pid, flush=True)\n"
        "time.sleep(30)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        worker, other = (int(pid) for pid in parent.stdout.readline().split())
        try:
            assert probe.node_workers(parent.pid) == [worker]
        finally:
            for pid in (worker, other, parent.pid):
                os.kill(pid, signal.SIGKILL)


def test_sched_seconds_counts_the_cpu_of_a_process(bench: tuple[ModuleType, ModuleType]) -> None:
    probe, _ = bench
    busy = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    with subprocess.Popen([sys.executable, "-c", busy + "time.sleep(30)\n"]) as child:
        try:
            deadline = time.monotonic() + 20
            cpu, wait = probe.sched_seconds(child.pid)
            while cpu < 0.3 and time.monotonic() < deadline:
                time.sleep(0.05)
                cpu, wait = probe.sched_seconds(child.pid)
            assert cpu >= 0.3
            assert wait >= 0.0
        finally:
            child.kill()


def test_read_log_takes_the_rows_requests_and_lambda_runs(
    bench: tuple[ModuleType, ModuleType], tmp_path: Path
) -> None:
    _, lambda_edge = bench
    log = tmp_path / "serve.log"
    head = "edgesim: viewers: http://127.0.0.1:1\n"

    def request(target: str, ms: float, lambdas: list[list[object]]) -> str:
        return json.dumps({"target": target, "duration_ms": ms, "lambdas": lambdas}) + "\n"

    log.write_text(
        head
        + request("/plain/shop/a", 1.0, [])
        + json.dumps({"function": "stamp", "log": "t\tid\tINFO\t{}"})
        + "\n"
        + request("/lambda/shop/a", 3.0, [["stamp", "origin-request", 0.5, None]])
        + request("/lambda/shop/b", 5.0, [["stamp", "origin-request", 0.7, "execution"]])
        + request("/lambdax/shop/c", 9.0, [["stamp", "origin-request", 9.0, None]])
    )
    row = lambda_edge.Row("lambda", "", None, lambda response: None, prefix="/lambda")
    lambda_edge.read_log(row, log, len(head), "c1")
    assert (row.logged, row.invoked, row.lambda_errors) == (2, 2, 1)
    assert row.times["c1 flow p50"] == [5.0]  # nearest rank of [3, 5]
    assert row.times["c1 lambda p99"] == [0.7]

    plain = lambda_edge.Row("plain", "", None, lambda response: None, prefix="/plain")
    lambda_edge.read_log(plain, log, 0, "loaded")
    assert (plain.logged, plain.invoked) == (1, 0)
