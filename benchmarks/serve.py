"""Proxy throughput and latency: edgesim serve next to a bare aiohttp reverse proxy.

The servers run in this process on loopback: a tiny origin, the baseline proxy (aiohttp server
plus one aiohttp client session, no logic), and edgesim serve in three set-ups (pass-through
with caching disabled, the same with a viewer-request function reading the KVS, and cache hits).
The load generator runs in a child process, so the CPU time this process spends per request is
the servers' own (origin included: compare with the "origin direct" row). Prints requests/s,
p50/p99 latency and server CPU µs per request, then hot-reload latency: from saving a function
file to the new code answering.

    python benchmarks/serve.py [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import multiprocessing
import resource
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from edgesim.app import EdgeServer
from edgesim.devloop.reloader import watch
from edgesim.distribution.config import load_config

FUNCTION = """
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  const request = event.request;
  let mode = 'off';
  try {
    mode = await kvs.get('mode');
  } catch (err) {
    mode = 'missing';
  }
  request.headers['x-mode'] = { value: mode };
  return request;
}
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

[[kvs]]
name = "flags"
data = "flags.json"

[[functions]]
name = "flag"
file = "flag.js"
kvs = "flags"

[[behaviors]]
path = "/fn/*"
origin = "app"
viewer_request = "flag"
cache_policy = "CachingDisabled"

[[behaviors]]
path = "/big/*"
origin = "app"
cache_policy = "CachingDisabled"
allowed_methods = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]

[[behaviors]]
path = "/bigcached/*"
origin = "app"
cache_policy = "CachingOptimized"

[[behaviors]]
path = "/cached/*"
origin = "app"
cache_policy = "CachingOptimized"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
"""


BIG = 200 * 1024 * 1024


async def _transfer(url: str, upload: bool) -> float:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as client:
        started = time.perf_counter()
        if upload:

            async def body():  # type: ignore[no-untyped-def]
                chunk = b"u" * (1 << 16)
                for _ in range(BIG // len(chunk)):
                    yield chunk

            async with client.post(url, data=body()) as response:
                assert int(await response.text()) == BIG
        else:
            size = 0
            async with client.get(url) as response:
                async for chunk in response.content.iter_chunked(1 << 16):
                    size += len(chunk)
            assert size == BIG, size
        return BIG / (time.perf_counter() - started) / 1e6


def _transfer_process(url: str, upload: bool, out: multiprocessing.Queue) -> None:
    out.put(asyncio.run(_transfer(url, upload)))


async def transfer(url: str, *, upload: bool = False) -> tuple[float, float]:
    """(MB/s, growth of this process's peak RSS in MB) for one 200 MB transfer."""
    results: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_transfer_process, args=(url, upload, results))
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child.start()
    rate = await asyncio.to_thread(results.get)
    child.join()
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rate, (peak_after - peak_before) / 1024


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def origin_app() -> web.Application:
    body = b"x" * 2048

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path.startswith(("/big", "/bigcached")):
            return await big(request)
        return web.Response(body=body, headers={"Cache-Control": "max-age=600"})

    async def big(request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            received = 0
            async for chunk in request.content.iter_chunked(1 << 16):
                received += len(chunk)
            return web.Response(text=str(received))
        size = BIG
        response = web.StreamResponse(headers={"Cache-Control": "max-age=600"})
        response.content_length = size
        await response.prepare(request)
        chunk = b"z" * (1 << 16)
        for _ in range(size // len(chunk)):
            await response.write(chunk)
        await response.write_eof()
        return response

    app = web.Application(client_max_size=0)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def bare_proxy_app(origin: str) -> web.Application:
    """The baseline: forward method, path and headers, stream the answer back."""
    session: dict[str, aiohttp.ClientSession] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        if "s" not in session:
            session["s"] = aiohttp.ClientSession(auto_decompress=False)
        async with session["s"].request(
            request.method, origin + request.raw_path, headers=request.headers
        ) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for name, value in upstream.headers.items():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    response.headers[name] = value
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(65536):
                await response.write(chunk)
            await response.write_eof()
            return response

    async def close(_: web.Application) -> None:
        if "s" in session:
            await session["s"].close()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    app.on_cleanup.append(close)
    return app


async def _load(url: str, requests: int, concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(range(requests))
    async with aiohttp.ClientSession() as client:

        async def worker() -> None:
            for _ in queue:
                started = time.perf_counter()
                async with client.get(url) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - started)

        # Warm up connections and caches first.
        for _ in range(20):
            async with client.get(url) as response:
                await response.read()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return requests / elapsed, latencies


def _load_process(url: str, requests: int, concurrency: int, out: multiprocessing.Queue) -> None:
    out.put(asyncio.run(_load(url, requests, concurrency)))


async def load(url: str, requests: int, concurrency: int) -> tuple[float, list[float], float]:
    """Run the load generator in a child process; returns (req/s, latencies, server CPU µs)."""
    results: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(
        target=_load_process, args=(url, requests, concurrency, results)
    )
    cpu_before = time.process_time()
    child.start()
    # Wait in a thread so that this event loop keeps serving the child's requests.
    rate, latencies = await asyncio.to_thread(results.get)
    cpu = time.process_time() - cpu_before
    child.join()
    return rate, latencies, cpu * 1e6 / (requests + 20)


def row(name: str, rate: float, latencies: list[float], cpu_us: float) -> str:
    cuts = statistics.quantiles(latencies, n=100)
    return f"{name:<44} {rate:>9.0f} {cuts[49] * 1000:>9.2f} {cuts[98] * 1000:>9.2f} {cpu_us:>9.0f}"


async def reload_latency(server: EdgeServer, folder: Path, url: str, rounds: int) -> list[float]:
    """Seconds from writing a new version of the function to that version answering."""
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch(server, stop=stop))
    await asyncio.sleep(0.3)  # let the watcher start
    delays = []
    async with aiohttp.ClientSession() as client:
        for version in range(1, rounds + 1):
            text = FUNCTION.replace("'x-mode'", f"'x-v{version}'")
            saved = time.perf_counter()
            (folder / "flag.js").write_text(text)
            while True:
                async with client.get(url) as response:
                    await response.read()
                # Reloading swaps the code synchronously: the next request runs the new version.
                if server.proxy.state.functions.slots["flag"].versions > version:
                    break
                await asyncio.sleep(0.002)
            delays.append(time.perf_counter() - saved)
            await asyncio.sleep(0.05)
    stop.set()
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    return delays


async def main(requests: int, concurrency: int) -> None:
    origin_runner, origin = await start_app(origin_app())
    proxy_runner, proxy = await start_app(bare_proxy_app(origin))
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "flag.js").write_text(FUNCTION)
        (base / "flags.json").write_text('{"data": [{"key": "mode", "value": "on"}]}')
        (base / "edgesim.toml").write_text(CONFIG.replace("{origin}", origin))
        server = EdgeServer(load_config(base / "edgesim.toml"), stream=io.StringIO())
        await server.start()
        edge = f"http://127.0.0.1:{server.viewer_port}"
        try:
            print(f"{requests} requests, concurrency {concurrency}, 2 KB bodies, loopback")
            print(f"{'set-up':<44} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'CPU µs':>9}")
            cases = [
                ("origin direct", origin + "/x"),
                ("baseline: bare aiohttp proxy", proxy + "/x"),
                ("edgesim: pass-through, CachingDisabled", edge + "/x"),
                ("edgesim: viewer-request function + KVS get", edge + "/fn/x"),
                ("edgesim: cache hit", edge + "/cached/x"),
            ]
            for name, url in cases:
                rate, latencies, cpu_us = await load(url, requests, concurrency)
                print(row(name, rate, latencies, cpu_us))
            print("200 MB through edgesim (peak RSS growth of the server process):")
            for label, url, upload in (
                ("download, CachingDisabled", edge + "/big/x", False),
                ("download, cached (spills to disk)", edge + "/bigcached/x", False),
                ("upload, streamed to the origin", edge + "/big/x", True),
            ):
                rate, growth = await transfer(url, upload=upload)
                print(f"  {label:<40} {rate:>7.0f} MB/s   peak RSS +{growth:.0f} MB")
            delays = sorted(await reload_latency(server, base, edge + "/fn/x", rounds=20))
            p95 = delays[int(len(delays) * 0.95) - 1]
            p50 = statistics.median(delays)
            print(
                f"hot reload, save → new code serving: p50 {p50 * 1000:.0f} ms,"
                f" p95 {p95 * 1000:.0f} ms ({len(delays)} saves)"
            )
        finally:
            await server.stop()
    await proxy_runner.cleanup()
    await origin_runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.concurrency))
