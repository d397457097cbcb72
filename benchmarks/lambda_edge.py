"""Issue 18's benchmark: a trivial origin-request Lambda@Edge function through ``edgesim serve``.

One origin (benchmarks/_origin.py, 1 KB answers) and, in front of it, each in its own process:

- the bare aiohttp reverse proxy (benchmarks/_bare_proxy.py), the floor for an aiohttp design;
- ``edgesim serve`` (request log as JSON to a file) with three behaviours on that origin:
  ``/plain/*`` no lambda, ``/lambda/*`` an origin-request lambda that adds a header and returns
  the request — both CachingDisabled, so every request of the second runs the lambda — and
  ``/cached/*`` the same lambda with CachingOptimized: hits run no lambda, what a real cache hit
  ratio buys back.

The request is benchmarks/serve.py's (``GET /shop/item/42?…`` with a ``uid`` cookie), prefixed by
the behaviour's path. In each of ``--rounds`` rounds (the order of the rows rotates) every row
gets ``--connections`` connections for ``--duration`` seconds, then one connection for
``--c1-duration`` seconds; the origin direct gets the same and its c=1 latency is subtracted
("added latency"). CPU per request is the utime+stime of the target's process tree over the
loaded run — for serve that includes its Node.js workers (children of serve), whose part is
shown on its own; at c=1 the table also gives the tree's CPU and its time spent runnable but
waiting for a CPU (/proc schedstat), which on a shared machine explains most of the latency.
Figures are medians over the rounds. While a serve row runs, its Node workers are sampled every
0.1 s: how many were alive at once, every worker process ever seen (more than
``[lambda] max_workers`` of them means workers were replaced) and each one's share of the Node
CPU (one worker doing all the work would show here).

Under the table: the lambda against no lambda; what one invocation costs, from serve's request
log (its time for the request with and without the lambda, next to the handler's ``DurationMs``
in its worker) and from the same event — captured once from serve — replayed outside serve
through ``LambdaEdgeFunction.invoke_event`` with one worker (wall time, CPU of this Python
process, CPU of the Node worker, ``DurationMs``); then a second serve with timers
(benchmarks/_lambda_timers.py): its Python thread's CPU per piece of the lambda path at c=1, and
the wall time an invocation waits for a free worker next to its round trip to the worker, at
c=1 and under load.

    python benchmarks/lambda_edge.py [--quick] [--rounds 3] [--duration 10] [--c1-duration 5]
        [--connections 32] [--max-workers 4] [--loadgen auto|wrk|python] [--invocations 2000]

More than ``max_workers`` + 64 (``[lambda] max_queue``) connections make serve answer some
requests 503 LambdaLimitExceeded, as Lambda throttling would: they are counted as errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _load
import serve as bench  # benchmarks/serve.py: the request, its checks, an HTTP GET
from _lambda_probe import (
    NodeWatch,
    TimedServe,
    node_workers,
    quantile,
    records,
    replay,
    sched_seconds,
)
from _lambda_timers import QUEUE, ROUND_TRIP, WHOLE, WHOLE_WALL
from _procs import Server, load_average, machine
from _table import Target, added, median, spread

HERE = Path(__file__).resolve().parent
PATH = bench.TARGET.partition("?")[0]

# The trivial function. Asked for ``…/dump`` (once, before the rounds), it also logs the event
# as serve built it, which the benchmark replays outside serve.
LAMBDA_JS = """exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri.endsWith('/dump')) console.log(JSON.stringify(event));
  request.headers['x-bench'] = [{ key: 'X-Bench', value: 'origin-request' }];
  return request;
};
"""

CONFIG = """
[server]
port = 0
admin_port = 0
https = false
ephemeral = true

[[origins]]
id = "app"
url = "{origin}"

[[lambdas]]
name = "stamp"
file = "stamp.js"

[lambda]
max_workers = {max_workers}

[[behaviors]]
path = "/lambda/*"
origin = "app"
origin_request = "stamp"
cache_policy = "CachingDisabled"

[[behaviors]]
path = "/cached/*"
origin = "app"
origin_request = "stamp"
cache_policy = "CachingOptimized"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
"""


@dataclass(frozen=True)
class Settings:
    rounds: int
    duration: float
    c1_duration: float
    connections: int
    loadgen: str
    max_workers: int
    invocations: int


@dataclass
class Row(Target):
    """A target, and for serve's rows what the Node workers and serve's request log showed."""

    prefix: str = ""  # the behaviour's path prefix: the rows of serve have one
    node_us: list[float] = field(default_factory=list)  # Node's part of cpu_us, per round
    alive: list[int] = field(default_factory=list)  # most workers alive at once, per round
    working: list[int] = field(default_factory=list)  # workers that ran ≥ 10 ms CPU, per round
    shares: list[list[float]] = field(default_factory=list)  # each worker's part of Node's CPU
    seen: set[int] = field(default_factory=set)  # every worker process seen under load
    times: dict[str, list[float]] = field(default_factory=dict)  # serve's log, per round
    invoked: int = 0  # lambda runs in serve's log over the measured runs
    logged: int = 0  # requests in serve's log over the measured runs
    lambda_errors: int = 0
    c1_cpu_us: list[float] = field(default_factory=list)  # CPU per request at c=1, per round
    c1_wait_us: list[float] = field(default_factory=list)  # waiting for a CPU, the same


# --- serve's request log ---------------------------------------------------------------------


def read_log(row: Row, log: Path, offset: int, run: str) -> None:
    """serve's own time for this row's requests in a run and, for those that ran the lambda,
    the handler's DurationMs in its worker (medians and p99 of the run, kept per round)."""
    flows, lambdas = [], []
    for record in records(log, offset):
        if "target" not in record or not record["target"].startswith(row.prefix + "/"):
            continue
        flows.append(record["duration_ms"])
        for _name, _event, ms, error in record.get("lambdas", ()):
            lambdas.append(ms)
            row.lambda_errors += error is not None
    row.invoked += len(lambdas)
    row.logged += len(flows)
    for name, values in (("flow", flows), ("lambda", lambdas)):
        for q in (0.5, 0.99):
            row.times.setdefault(f"{run} {name} p{round(q * 100)}", []).append(quantile(values, q))


# --- measuring --------------------------------------------------------------------------------


def measure(row: Row, s: Settings, log: Path) -> None:
    """One round of a row: the loaded run (req/s, CPU, workers), then the c=1 run."""
    assert row.server is not None
    serve_row = bool(row.prefix)
    offset = log.stat().st_size
    cpu_before = row.server.cpu_seconds()
    watch = NodeWatch(row.server.proc.pid) if serve_row else contextlib.nullcontext()
    with watch:
        loaded = _load.run(row.url, loadgen=s.loadgen, connections=s.connections,
                           duration=s.duration, headers=bench.HEADERS)  # fmt: skip
    cpu = row.server.cpu_seconds() - cpu_before
    answered = max(loaded.requests, 1)
    if isinstance(watch, NodeWatch):
        workers = watch.per_worker()
        node = sum(workers.values())
        row.node_us.append(node * 1e6 / answered)
        row.alive.append(watch.alive)
        row.working.append(sum(cpu >= 0.010 for cpu in workers.values()))
        row.seen |= set(workers)
        row.shares.append(sorted((c / node if node else 0.0 for c in workers.values()),
                                 reverse=True))  # fmt: skip
        read_log(row, log, offset, "loaded")
        offset = log.stat().st_size
    cpu_before, wait_before = sched_seconds(row.server.proc.pid)
    single = _load.run(row.url, loadgen=s.loadgen, connections=1, duration=s.c1_duration,
                       headers=bench.HEADERS)  # fmt: skip
    cpu_after, wait_after = sched_seconds(row.server.proc.pid)
    row.c1_cpu_us.append((cpu_after - cpu_before) * 1e6 / max(single.requests, 1))
    row.c1_wait_us.append((wait_after - wait_before) * 1e6 / max(single.requests, 1))
    if serve_row:
        read_log(row, log, offset, "c1")
    row.rates.append(loaded.rate)
    row.cpu_us.append(cpu * 1e6 / answered)
    row.c1.append((single.p50_ms, single.p99_ms))
    row.errors += loaded.errors + single.errors


# --- setting up -------------------------------------------------------------------------------


@dataclass
class Setup:
    origin: Row
    rows: list[Row]
    edge: Server
    edge_url: str
    log: Path
    loops: str
    folder: Path
    site: Path


def start(s: Settings, folder: Path, servers: list[Server]) -> Setup:
    py = sys.executable
    origin_proc = Server("origin", [py, str(HERE / "_origin.py"), "--size", "1024", "--big", "0"],
                         folder / "origin.log")  # fmt: skip
    servers.append(origin_proc)
    origin = origin_proc.wait_for(r"origin: (\S+)").group(1)
    site = folder / "site"  # serve watches its files' folder: its log goes elsewhere
    site.mkdir()
    (site / "stamp.js").write_text(LAMBDA_JS)
    config = CONFIG.replace("{origin}", origin).replace("{max_workers}", str(s.max_workers))
    (site / "edgesim.toml").write_text(config)
    argv = [py, "-m", "edgesim", "serve", "--config", str(site / "edgesim.toml"), "--no-https",
            "--log-format", "json"]  # fmt: skip
    log = folder / "serve.log"
    edge_proc = Server("edgesim serve", argv, log, cwd=HERE.parent)
    servers.append(edge_proc)
    edge = edge_proc.wait_for(r"viewers: (http://\S+)").group(1)
    loop = bench.loop_of(edge_proc)
    bare_argv = [py, str(HERE / "_bare_proxy.py"), origin] + (["--uvloop"] * (loop == "uvloop"))
    bare_proc = Server("bare proxy", bare_argv, folder / "bare.log")
    servers.append(bare_proc)
    bare = bare_proc.wait_for(r"bare proxy: (\S+)").group(1)

    def at(prefix: str) -> Callable[[Any], str | None]:
        def check(response: Any) -> str | None:
            seen = response.getheader("X-Origin-Path") or ""
            return None if seen.startswith(prefix + PATH) else f"origin saw {seen!r}"

        return check

    def hit(response: Any) -> str | None:
        return at("/cached")(response) or bench.cache_hit(response)

    rows = [
        Row("bare aiohttp reverse proxy", bare + bench.TARGET, bare_proc, bench.passes_unchanged),
        Row("serve, no lambda (CachingDisabled)", edge + "/plain" + bench.TARGET, edge_proc,
            at("/plain"), prefix="/plain"),
        Row("serve, origin-request lambda (CachingDisabled)", edge + "/lambda" + bench.TARGET,
            edge_proc, at("/lambda"), prefix="/lambda"),
        Row("serve, same lambda, cache hits (CachingOptimized)", edge + "/cached" + bench.TARGET,
            edge_proc, hit, prefix="/cached"),
    ]  # fmt: skip
    origin_row = Row("origin direct", origin + bench.TARGET, origin_proc, bench.passes_unchanged)
    loops = f"serve {loop}, bare proxy {loop}"
    return Setup(origin_row, rows, edge_proc, edge, log, loops, folder, site)


def check_and_warm(setup: Setup, s: Settings) -> bool:
    """Each row answers as it should — the lambda ran (serve's log says so) where it must —
    then a 1 s load warms it up (and starts the Node workers)."""
    for row in [setup.origin, *setup.rows]:
        offset = setup.log.stat().st_size
        bench.get(row.url)
        response, body = bench.get(row.url)
        problem = row.check(response)
        if problem is None and (response.status != 200 or len(body) != 1024):
            problem = f"status {response.status}, {len(body)} bytes"
        if problem is None and row.prefix:
            time.sleep(0.2)  # the request log line follows the response
            ran = [r for r in records(setup.log, offset) if r.get("target", "").startswith(
                row.prefix + "/")]  # fmt: skip
            runs = [entry for r in ran for entry in r.get("lambdas", ())]
            expected = {"/plain": 0, "/lambda": 2, "/cached": 1}[row.prefix]  # a miss, a hit
            if len(ran) != 2 or len(runs) != expected or any(e[3] for e in runs):
                problem = f"serve's log shows {len(runs)} lambda runs for 2 requests: {ran}"
        if problem:
            print(f"{row.name}: {problem}; not measuring the wrong thing", file=sys.stderr)
            if row.server is not None:
                print(bench.log_tail(row.server), file=sys.stderr)
            return False
        warm = min(1.0, s.duration)
        _load.run(row.url, loadgen=s.loadgen, connections=s.connections, duration=warm,
                  headers=bench.HEADERS)  # fmt: skip
    return True


def captured_event(setup: Setup) -> dict[str, Any]:
    """The origin-request event serve builds for the benchmark's request (logged by the lambda
    for ``/lambda/dump``), with the benchmark's URI."""
    offset = setup.log.stat().st_size
    bench.get(setup.edge_url + "/lambda/dump")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for record in records(setup.log, offset):
            message = str(record.get("log", "")).split("\t", 3)[-1]
            if record.get("function") == "stamp" and message.startswith('{"Records"'):
                event: dict[str, Any] = json.loads(message)
                event["Records"][0]["cf"]["request"]["uri"] = "/lambda" + PATH
                return event
        time.sleep(0.05)
    raise RuntimeError("the lambda did not log its event for /lambda/dump")


# --- the run and the report -------------------------------------------------------------------


def run(s: Settings) -> int:
    print(f"Lambda@Edge through edgesim serve (issue 18), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print("the machine is busy (more runnable work than cores): absolute figures are noisy")
    with tempfile.TemporaryDirectory(prefix="edgesim-bench-") as tmp:
        servers: list[Server] = []
        try:
            setup = start(s, Path(tmp), servers)
            if not check_and_warm(setup, s):
                return 1
            event = captured_event(setup)
            rounds(setup, s)
            after = node_workers(setup.edge.proc.pid)
            report(setup, s, after)
            invocation_cost(setup, s, event)
            breakdown(setup, s)
        finally:
            for server in reversed(servers):
                server.stop()
    print(f"load average at the end: {load_average()}")
    return 0


def rounds(setup: Setup, s: Settings) -> None:
    print(
        f"load generator: {_load.describe(s.loadgen)}; {s.connections} connections × "
        f"{s.duration:g} s, then 1 connection × {s.c1_duration:g} s; {s.rounds} interleaved "
        "round(s), row order rotated; medians"
    )
    print(
        f"origin: 1 KB answers (own process); GET <behaviour>{bench.TARGET} + uid cookie; "
        f"[lambda] max_workers = {s.max_workers}; event loops: {setup.loops}; serve's request "
        "log (JSON) goes to a file; CPU = utime+stime of each target's process tree (/proc), "
        "serve's Node workers included"
    )
    rows = setup.rows
    for number in range(s.rounds):
        turn = number % len(rows)
        measure(setup.origin, s, setup.log)
        for row in rows[turn:] + rows[:turn]:
            measure(row, s, setup.log)
        print(f"  round {number + 1}/{s.rounds} done, load average {load_average()}", flush=True)


def table(setup: Setup) -> list[str]:
    bare = setup.rows[0]
    bare_p99 = added(bare, setup.origin.c1)[1]
    lines = [
        "| target | req/s | CPU µs/request (Node's part) | lambda runs / request "
        "| Node workers working "
        "| c=1 added latency p50 / p99 | c=1 CPU / wait for a CPU, µs/request "
        "| req/s vs bare | CPU vs bare | c=1 p99 vs bare |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in setup.rows:
        rate, cpu = median(row.rates), median(row.cpu_us)
        p50, p99 = added(row, setup.origin.c1)
        node = f" ({median(row.node_us):,.0f})" if row.prefix else ""
        runs = f"{row.invoked / row.logged:.3f}" if row.logged else ""
        working = f"{median([float(w) for w in row.working]):.0f}" if row.prefix else ""
        flag = f" ({row.errors} errors!)" if row.errors else ""
        lines.append(
            f"| {row.name}{flag} | {rate:,.0f} | {cpu:,.0f}{node} | {runs} | {working} "
            f"| {p50:.2f} / {p99:.2f} ms "
            f"| {median(row.c1_cpu_us):,.0f} / {median(row.c1_wait_us):,.0f} "
            f"| {rate / median(bare.rates):.2f} "
            f"| {cpu / median(bare.cpu_us):.2f} | {p99 / bare_p99 if bare_p99 > 0 else 0:.2f} |"
        )
    return lines


def report(setup: Setup, s: Settings, after: list[int]) -> None:
    print()
    print("\n".join(table(setup)))
    print()
    for line in spread([setup.origin, *setup.rows], {}):
        print(line)
    origin = setup.origin
    o50, o99 = median([c[0] for c in origin.c1]), median([c[1] for c in origin.c1])
    print(
        f"added latency = the row's c=1 latency − the origin direct's ({o50:.2f} / {o99:.2f} ms); "
        "lambda runs / request from serve's log; Node workers working = those that used ≥ 10 ms "
        "CPU in a loaded run (median over the rounds)"
    )
    _, plain, with_lambda, cached = setup.rows
    rate = median(with_lambda.rates) / median(plain.rates)
    cpu = median(with_lambda.cpu_us) - median(plain.cpu_us)
    node = median(with_lambda.node_us)
    lat = [
        a - b for a, b in zip(added(with_lambda, origin.c1), added(plain, origin.c1), strict=True)
    ]
    print(
        f"with the lambda vs without (CachingDisabled, every request runs it): req/s "
        f"{median(plain.rates):,.0f} → {median(with_lambda.rates):,.0f} ({rate:.0%}); CPU "
        f"{cpu:+,.0f} µs/request (Node workers {node:,.0f}, serve's Python process "
        f"{cpu - node:+,.0f}); c=1 latency p50 {lat[0]:+.2f} ms, p99 {lat[1]:+.2f} ms"
    )
    hits = median(cached.rates) / median(plain.rates)
    print(
        f"cache hits on the lambda's behaviour: {median(cached.rates):,.0f} req/s ({hits:.0%} of "
        f"no lambda), {with_lambda.invoked:,} lambda runs on the CachingDisabled row vs "
        f"{cached.invoked} on the cached one over the measured runs"
    )
    shares = " ".join(f"{part:.0%}" for part in median_shares(with_lambda.shares))
    seen = with_lambda.seen | cached.seen
    print(
        f"Node workers ([lambda] max_workers = {s.max_workers}): at most "
        f"{max(with_lambda.alive)} alive at once under load; each one's part of the Node CPU in "
        f"the lambda row's loaded runs (median per rank): {shares}; {len(seen)} distinct worker "
        f"processes seen over the rounds; {len(after)} alive after them"
        + ("" if len(seen) <= s.max_workers else " (more than max_workers: workers were replaced)")
    )
    if with_lambda.lambda_errors:
        print(f"errors!: {with_lambda.lambda_errors} lambda runs failed (see serve's log)")
    for row in setup.rows:
        if row.errors and row.server is not None:
            print(f"errors!: {row.name}: {row.errors} socket errors or non-2xx answers; "
                  f"its output:\n{bench.log_tail(row.server)}")  # fmt: skip


def median_shares(rounds: list[list[float]]) -> list[float]:
    width = max((len(r) for r in rounds), default=0)
    return [median([r[i] if i < len(r) else 0.0 for r in rounds]) for i in range(width)]


def invocation_cost(setup: Setup, s: Settings, event: dict[str, Any]) -> None:
    """What one invocation costs: in serve (its request log), and replayed outside serve."""
    _, plain, with_lambda, _ = setup.rows
    w, p = with_lambda.times, plain.times
    for run, label in (("c1", "c=1"), ("loaded", f"c={s.connections}")):
        flow = median(w[f"{run} flow p50"]) - median(p[f"{run} flow p50"])
        flow99 = median(w[f"{run} flow p99"]) - median(p[f"{run} flow p99"])
        handler = median(w[f"{run} lambda p50"])
        print(
            f"one invocation in serve at {label} (serve's request log, medians): serve's time "
            f"for a request {median(w[f'{run} flow p50']):.3f} ms with the lambda, "
            f"{median(p[f'{run} flow p50']):.3f} ms without: {flow:+.3f} ms (p99 "
            f"{flow99:+.3f} ms); the handler's DurationMs in Node {handler:.3f} ms (p99 "
            f"{median(w[f'{run} lambda p99']):.3f}), so {flow - handler:.3f} ms of the added time "
            "is outside the handler (the event built, JSON over the pipe both ways, waiting for "
            "a free worker, the result checked and applied)"
        )
    direct = replay(LAMBDA_JS, event, s.invocations)
    print(
        f"the same event replayed outside serve (LambdaEdgeFunction.invoke_event, 1 worker, one "
        f"at a time, {s.invocations} invocations × 3, medians): {direct['wall']:.0f} µs wall per "
        f"invocation; CPU {direct['python']:.0f} µs in this Python process (event to JSON, pipe, "
        f"reply parsed, result validated) + {direct['node']:.0f} µs in the Node worker (of "
        f"which the handler's DurationMs {direct['duration']:.0f} µs)"
    )


def breakdown(setup: Setup, s: Settings) -> None:
    """Where serve's Python thread spends its CPU on one request, with the lambda and without:
    c=1 runs on a second serve with thread-CPU timers around the pieces of the path."""
    copy = setup.folder / "site-timed"
    shutil.copytree(setup.site, copy)
    timed = TimedServe(setup.folder)
    config = str(copy / "edgesim.toml")
    argv = [*timed.argv(sys.executable, HERE), "serve", "--config", config, "--no-https",
            "--log-format", "json"]  # fmt: skip
    proc = Server("edgesim serve (timed)", argv, setup.folder / "serve-timed.log", cwd=HERE.parent)
    figures = {}
    try:
        edge = proc.wait_for(r"viewers: (http://\S+)").group(1)
        for prefix, connections, seconds in (
            ("/plain", 1, s.c1_duration),
            ("/lambda", 1, s.c1_duration),
            ("/lambda", s.connections, s.duration),
        ):
            url = edge + prefix + bench.TARGET
            _load.run(url, loadgen=s.loadgen, connections=connections, duration=min(1, s.duration),
                      headers=bench.HEADERS)  # fmt: skip
            timed.totals()
            _load.run(url, loadgen=s.loadgen, connections=connections, duration=seconds,
                      headers=bench.HEADERS)  # fmt: skip
            figures[prefix, connections] = timed.totals()
    finally:
        proc.stop()
    plain = figures["/plain", 1][WHOLE][0]
    print(
        "serve's Python thread per request at c=1 (thread CPU, timers around each piece in a "
        f"second serve, benchmarks/_lambda_timers.py): {plain:,.0f} µs without the lambda; with it:"
    )
    single = figures["/lambda", 1]
    requests = single[WHOLE][1]
    for label, (us, calls) in single.items():
        if calls and not label.endswith("(wall)"):
            per = f" ({calls / requests:.0f} calls)" if calls != requests else ""
            print(f"  {us * calls / requests:7,.0f} µs  {label}{per}")
    for connections in (1, s.connections):
        wall = figures["/lambda", connections]
        print(
            f"  at c={connections}, wall time: {wall[WHOLE_WALL][0]:,.0f} µs a request in serve, "
            f"of which {wall[QUEUE][0]:,.0f} µs waiting for a free worker and "
            f"{wall[ROUND_TRIP][0]:,.0f} µs the round trip to it (the handler's DurationMs in it)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 s loads, 1 round")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 1)")
    parser.add_argument("--duration", type=float, help="seconds of each loaded run (default 10)")
    parser.add_argument("--c1-duration", type=float, help="seconds of each c=1 run (default 5)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--max-workers", type=int, default=4, help="[lambda] max_workers: Node workers at most"
    )
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk when it is on PATH, else ours",
    )
    parser.add_argument(
        "--invocations", type=int, help="invocations per batch of the replay (default 2000)"
    )
    options = parser.parse_args()
    quick = options.quick
    settings = Settings(
        rounds=options.rounds or (1 if quick else 3),
        duration=options.duration or (1 if quick else 10),
        c1_duration=options.c1_duration or (1 if quick else 5),
        connections=options.connections,
        loadgen=_load.choose(options.loadgen),
        max_workers=options.max_workers,
        invocations=options.invocations or (300 if quick else 2000),
    )
    # SIGTERM (a make or CI job stopped) unwinds like Ctrl-C, so that the servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
