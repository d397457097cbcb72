"""A runaway function in serve: what it costs the healthy requests next to it.

edgesim serve runs in this process with two behaviours on a tiny loopback origin: ``/ok/*`` with a
healthy viewer-request function and ``/loop/*`` with ``while (true) {}``. The load generator runs
in a child process (concurrency 16 by default). For each set-up it first sends healthy requests
only, then the same number with every other request on the looping behaviour, and prints the
healthy requests' p50/p99 in both, the looping requests' answers (503 execution error: it ran;
503 throttled: it did not), how long one looping invocation held the event loop (wall time of
``invoke()``), the longest the event loop went without running a 1 ms timer during the mixed load
(several invocations in one loop iteration add up there), and how the looping function's new
contexts came: spares ready in advance / built on an invocation's path.

Set-ups: throttling at its default (``[throttling]``: 10 runs in 10 s, half over budget → 30 s)
and off; each in two modes:

- ``rebuild``: no spare context (``LoadedFunction.spare_contexts = False``): the invocation after
  a runaway builds a new context on the request path, as before;
- ``spare``: serve as shipped: a poisoned context is replaced at once by a spare, the next spare
  is built on the event loop one step per callback, and a request that finds its function's
  context not ready yet awaits ``until_ready()`` (in ``EdgeProxy``) while the others go on.

A fresh server per set-up, so throttling starts afresh. Target (issue 11): with throttling on,
healthy p99 with the looping traffic ≤ 3× healthy p99 without it.

Then the phases of one runaway invocation, measured in this (serve's) process in CPU time: the
run to the time limit, building a new context (and its longest step), the binding's ``ctx.gc()``
(which runs Python's whole collector, so its cost grows with the process's heap) against
QuickJS's own collection, and the looping invocation after another with and without a spare.

    python benchmarks/runaway.py [--requests 2000] [--concurrency 16] [--modes rebuild,...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from edgesim.app import EdgeServer
from edgesim.distribution.config import load_config
from edgesim.runtime import engine
from edgesim.runtime.function import LoadedFunction
from edgesim.runtime.source import from_text

HEALTHY = """
function handler(event) {
  var request = event.request;
  request.headers['x-seen'] = { value: request.uri.length + '' };
  return request;
}
"""
LOOPING = "function handler(event) { while (true) {} }\n"

CONFIG = """
[server]
port = 0
admin_port = 0
https = false
ephemeral = true
{throttling}
[[origins]]
id = "app"
url = "{origin}"

[[functions]]
name = "healthy"
file = "healthy.js"

[[functions]]
name = "looping"
file = "looping.js"

[[behaviors]]
path = "/ok/*"
origin = "app"
viewer_request = "healthy"
cache_policy = "CachingDisabled"

[[behaviors]]
path = "/loop/*"
origin = "app"
viewer_request = "looping"
cache_policy = "CachingDisabled"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
"""
THROTTLING_OFF = "\n[throttling]\nenabled = false\n"


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def origin_app() -> web.Application:
    body = b"x" * 2048

    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


# --- the load generator (child process) ------------------------------------------------------


async def _load(
    edge: str, requests: int, concurrency: int, mixed: bool
) -> tuple[float, list[float], list[float], dict[str, int]]:
    healthy: list[float] = []
    looping: list[float] = []
    answers: dict[str, int] = {}
    paths = iter(("/loop/x" if mixed and n % 2 else "/ok/x", n) for n in range(requests))
    async with aiohttp.ClientSession() as client:

        async def worker() -> None:
            for path, _ in paths:
                started = time.perf_counter()
                async with client.get(edge + path) as response:
                    await response.read()
                    took = time.perf_counter() - started
                    if path == "/ok/x":
                        assert response.status == 200, response.status
                        healthy.append(took)
                    else:
                        looping.append(took)
                        what = f"{response.status} {response.headers.get('X-Cache', '')}"
                        answers[what] = answers.get(what, 0) + 1

        for _ in range(20):  # warm up connections
            async with client.get(edge + "/ok/x") as response:
                await response.read()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return requests / elapsed, healthy, looping, answers


def _load_process(
    edge: str, requests: int, concurrency: int, mixed: bool, out: multiprocessing.Queue[Any]
) -> None:
    try:
        out.put(asyncio.run(_load(edge, requests, concurrency, mixed)))
    except BaseException as exc:  # the parent would wait forever
        out.put(exc)
        raise


async def load(
    edge: str, requests: int, concurrency: int, *, mixed: bool
) -> tuple[float, list[float], list[float], dict[str, int]]:
    results: multiprocessing.Queue[Any] = multiprocessing.Queue()
    child = multiprocessing.Process(
        target=_load_process, args=(edge, requests, concurrency, mixed, results)
    )
    child.start()
    # Wait in a thread (idle: it does not eat into the functions' CPU time limit).
    outcome = await asyncio.to_thread(results.get)
    child.join()
    if isinstance(outcome, BaseException):
        raise RuntimeError(f"the load generator failed: {outcome!r}")
    return outcome  # type: ignore[no-any-return]


# --- what happens inside this process --------------------------------------------------------


class LoopWatch:
    """The longest the event loop went without running a 1 ms timer."""

    def __init__(self) -> None:
        self.stalls: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            self.stalls.append(time.perf_counter() - started - 0.001)

    def __enter__(self) -> LoopWatch:
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


@contextlib.contextmanager
def timed_invocations(name: str) -> Iterator[list[float]]:
    """Wall time of every invoke() of the function whose file is ``name``."""
    spent: list[float] = []
    original = LoadedFunction.invoke

    def invoke(self: LoadedFunction, *args: Any, **kwargs: Any) -> Any:
        if not str(self.source.filename).endswith(name):
            return original(self, *args, **kwargs)
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    LoadedFunction.invoke = invoke  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        LoadedFunction.invoke = original  # type: ignore[method-assign]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def quantile(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100)[q - 1]


async def run_setup(
    origin: str, requests: int, concurrency: int, *, throttling: bool, mode: str
) -> tuple[float, float]:
    LoadedFunction.spare_contexts = mode != "rebuild"
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "healthy.js").write_text(HEALTHY)
        (base / "looping.js").write_text(LOOPING)
        config = CONFIG.replace("{origin}", origin)
        config = config.replace("{throttling}", "" if throttling else THROTTLING_OFF)
        (base / "edgesim.toml").write_text(config)
        server = EdgeServer(load_config(base / "edgesim.toml"), stream=io.StringIO())
        await server.start()
        edge = f"http://127.0.0.1:{server.viewer_port}"
        functions = server.proxy.state.functions
        try:
            _, alone, _, _ = await load(edge, requests, concurrency, mixed=False)
            with timed_invocations("looping.js") as spent, LoopWatch() as watch:
                rate, healthy, _, answers = await load(edge, requests, concurrency, mixed=True)
            looping = functions.get("looping")
            counters = (
                f"{looping.spares_used}/{looping.inline_builds}"
                if looping is not None and hasattr(looping, "inline_builds")
                else "-"
            )
        finally:
            await server.stop()
    label = f"throttling {'default' if throttling else 'off':<7} {mode:<13}"
    base_p99, mixed_p99 = quantile(alone, 99), quantile(healthy, 99)
    ratio = mixed_p99 / base_p99
    ran = sum(n for what, n in answers.items() if "Execution" in what)
    throttled = sum(n for what, n in answers.items() if "Throttled" in what)
    print(
        f"{label}  {ms(quantile(alone, 50))} {ms(base_p99)}  {ms(quantile(healthy, 50))}"
        f" {ms(mixed_p99)} {ratio:6.1f}×  {rate:6.0f}  {ran:>5}/{throttled:<5}"
        f" {ms(statistics.median(spent) if spent else float('nan'))}"
        f" {ms(max(spent) if spent else float('nan'))} {ms(max(watch.stalls))}  {counters}"
    )
    return base_p99, mixed_p99


# --- phases of one runaway invocation ---------------------------------------------------------


def cpu_ms(action: Callable[[], object], repeat: int = 10) -> float:
    times = []
    for _ in range(repeat):
        started = time.thread_time()
        action()
        times.append(time.thread_time() - started)
    return statistics.median(times) * 1000


def phases() -> None:
    """Where the time of one runaway invocation goes (CPU ms of this thread, medians of 10)."""
    print("\nOne runaway invocation, by phase (CPU ms of this thread, median of 10):")
    fn = LoadedFunction(from_text(LOOPING, name="looping", filename="looping.js"))
    event = {
        "version": "1.0",
        "context": {"eventType": "viewer-request"},
        "viewer": {"ip": "192.0.2.10"},
        "request": {"method": "GET", "uri": "/", "querystring": {}, "headers": {}, "cookies": {}},
    }
    event_json = orjson.dumps(event).decode()
    options = {"now": 0, "seed": 1, "eventType": "viewer-request", "edge": {}, "kvs": None,
               "rawQuery": ""}  # fmt: skip

    def run() -> None:
        session = fn._new_session()
        started = time.thread_time()
        raw = session.invoke(event_json, options, lambda requests: [], 0)
        runs.append(time.thread_time() - started)
        assert raw.state == "runaway", raw

    runs: list[float] = []
    for _ in range(10):
        run()
    print(f"  {'run until the time limit stops it':<58} {statistics.median(runs) * 1000:8.2f}")
    steps: list[float] = []

    def build() -> None:
        session = fn._new_session(stepwise=True)
        while True:
            started = time.thread_time()
            done = session.build_step()
            steps.append(time.thread_time() - started)
            if done:
                break

    whole = cpu_ms(build)
    print(f"  {'build a new context: all steps':<58} {whole:8.2f}")
    print(f"  {'  its longest step (the isolation snapshot)':<58} {max(steps) * 1000:8.2f}")
    session = fn._new_session()
    ctx = session._ctx
    print(f"  {'binding ctx.gc(): QuickJS + Python gc.collect()':<58} {cpu_ms(ctx.gc):8.2f}")
    print(f"  {'Python gc.collect() alone':<58} {cpu_ms(gc.collect):8.2f}")
    js_only = getattr(engine, "collect_garbage", None)
    if js_only is not None:
        print(f"  {'QuickJS collection alone (engine.collect_garbage)':<58} "
              f"{cpu_ms(lambda: js_only(ctx)):8.2f}")  # fmt: skip

    def after_runaway(*, spare: bool) -> float:
        """CPU time of a looping invocation that follows another (so its context has to go)."""
        times = []
        fn.invoke(event)
        for _ in range(10):
            if spare:
                while fn.prepare_spare():  # what serve's event loop does between requests
                    pass
            started = time.thread_time()
            fn.invoke(event)
            times.append(time.thread_time() - started)
        return statistics.median(times) * 1000

    label = "the next looping invocation, context rebuilt on its path"
    print(f"  {label:<58} {after_runaway(spare=False):8.2f}")
    label = "the next looping invocation, spare context ready"
    print(f"  {label:<58} {after_runaway(spare=True):8.2f}")


async def main(requests: int, concurrency: int, modes: list[str]) -> None:
    origin_runner, origin = await start_app(origin_app())
    print(
        f"{requests} requests per load, concurrency {concurrency}; mixed: every other request "
        "on the looping function. Times in ms."
    )
    print(
        f"{'set-up':<33}  {'healthy alone':>17}  {'healthy, mixed':>17} {'p99×':>7}  "
        f"{'req/s':>6}  {'ran/thrott.':<11} {'looping invoke':>17} {'stall':>8}  spare/inline"
    )
    print(
        f"{'':<33}  {'p50':>8} {'p99':>8}  {'p50':>8} {'p99':>8} {'':>7}  {'':>6}  {'':<11}"
        f" {'p50':>8} {'max':>8} {'max':>8}"
    )
    try:
        for throttling in (True, False):
            for mode in modes:
                await run_setup(origin, requests, concurrency, throttling=throttling, mode=mode)
    finally:
        await origin_runner.cleanup()
    LoadedFunction.spare_contexts = True
    if hasattr(LoadedFunction, "prepare_spare"):
        phases()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--modes", default="rebuild,spare")
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.concurrency, options.modes.split(",")))
