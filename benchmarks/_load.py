"""Load generation for benchmarks/serve.py, always in a child process.

``wrk`` when it is on PATH (C, one thread, the report written by a Lua ``done`` hook as JSON);
otherwise ours: asyncio streams on raw sockets (uvloop when installed), keep-alive, N connections
each sending its next request as soon as the previous answer is read, latency per request.
Either way the result is requests, seconds, errors (socket errors and non-2xx/3xx answers) and the
p50/p99 latency.

As a script (the child process of ``run``):

    python benchmarks/_load.py run URL --connections 32 --duration 5 [--requests N] [-H 'K: V']
    python benchmarks/_load.py transfer URL --size BYTES [--upload]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# wrk calls done() once at the end; latency percentiles are in microseconds.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "micros": %d, "errors": %d, "p50": %d, "p99": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def choose(preference: str) -> str:
    """``wrk`` or ``python``: ``auto`` is wrk when it is on PATH."""
    if preference == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if preference == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--loadgen wrk: wrk is not on PATH (apt-get install wrk)")
    return preference


def describe(loadgen: str) -> str:
    if loadgen == "wrk":
        version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
        return f"wrk {version[1] if len(version) > 1 else ''} (1 thread)".replace("  ", " ")
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "ours (asyncio, raw sockets, keep-alive)"
    return "ours (asyncio on uvloop, raw sockets, keep-alive)"


def run(
    url: str,
    *,
    loadgen: str,
    connections: int,
    duration: float,
    requests: int | None = None,
    headers: Sequence[str] = (),
) -> LoadResult:
    """One load run against ``url`` in a child process. ``requests`` (ours only) stops it early."""
    if loadgen == "wrk":
        return _run_wrk(url, connections, duration, headers)
    argv = [sys.executable, __file__, "run", url, "--connections", str(connections)]
    argv += ["--duration", str(duration)]
    if requests is not None:
        argv += ["--requests", str(requests)]
    for header in headers:
        argv += ["-H", header]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{done.stderr[-3000:]}")
    return LoadResult(**json.loads(done.stdout))


def _run_wrk(url: str, connections: int, duration: float, headers: Sequence[str]) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_REPORT)
    try:
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, math.ceil(duration))}s"]
        argv += ["--timeout", "10s", "-s", script.name]
        for header in headers:
            argv += ["-H", header]
        done = subprocess.run([*argv, url], capture_output=True, text=True, timeout=duration + 120)
    finally:
        Path(script.name).unlink()
    report = [line for line in done.stdout.splitlines() if line.startswith('{"requests"')]
    if done.returncode != 0 or not report:
        raise RuntimeError(f"wrk failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    raw = json.loads(report[-1])
    return LoadResult(
        requests=raw["requests"],
        seconds=raw["micros"] / 1e6,
        errors=raw["errors"],
        p50_ms=raw["p50"] / 1000,
        p99_ms=raw["p99"] / 1000,
    )


# --- our load generator (the child process) --------------------------------------------------


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; (status, whether the server closes the connection after it)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    closes = b"\r\nconnection: close" in lower
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        await reader.readexactly(int(lower[at + 17 : lower.index(b"\r\n", at + 2)]))
    elif b"\r\ntransfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, if any
                    pass
                break
            await reader.readexactly(size + 2)
    elif status >= 200 and status not in (204, 304):
        await reader.read()  # delimited by the end of the connection
        closes = True
    return status, closes


async def _generate(
    url: str, connections: int, duration: float, limit: int | None, headers: Sequence[str]
) -> dict[str, float | int]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    head = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    request = (head + "".join(f"{h}\r\n" for h in headers) + "\r\n").encode("latin-1")
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration

    def more() -> bool:
        if limit is not None and len(latencies) + errors >= limit:
            return False
        return time.perf_counter() < deadline

    async def connection() -> None:
        nonlocal errors
        while more():
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                errors += 1
                await asyncio.sleep(0.01)
                continue
            try:
                while more():
                    started = time.perf_counter()
                    writer.write(request)
                    status, closes = await _answer(reader)
                    latencies.append(time.perf_counter() - started)
                    if status >= 400:
                        errors += 1
                    if closes:
                        break
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1
            finally:
                writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    seconds = time.perf_counter() - started
    latencies.sort()

    def cut(q: float) -> float:
        """The nearest-rank quantile, in ms."""
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "seconds": seconds,
        "errors": errors,
        "p50_ms": cut(0.50),
        "p99_ms": cut(0.99),
    }


async def _transfer(url: str, size: int, upload: bool) -> dict[str, float]:
    import aiohttp

    chunk = b"u" * (1 << 16)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(size // len(chunk)):
            yield chunk
        yield chunk[: size % len(chunk)]

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as client:
        started = time.perf_counter()
        if upload:
            async with client.post(url, data=body()) as response:
                received = int(await response.text())
        else:
            received = 0
            async with client.get(url) as response:
                async for part in response.content.iter_chunked(1 << 16):
                    received += len(part)
        if received != size:
            raise SystemExit(f"{url}: {received} bytes transferred, expected {size}")
        return {"mb_per_s": size / (time.perf_counter() - started) / 1e6}


def transfer(url: str, size: int, *, upload: bool) -> float:
    """MB/s of one transfer of ``size`` bytes (aiohttp client in a child process)."""
    argv = [sys.executable, __file__, "transfer", url, "--size", str(size)]
    done = subprocess.run(
        argv + (["--upload"] if upload else []), capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"the transfer failed:\n{done.stderr[-3000:]}")
    return float(json.loads(done.stdout)["mb_per_s"])


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    load = sub.add_parser("run")
    load.add_argument("url")
    load.add_argument("--connections", type=int, default=32)
    load.add_argument("--duration", type=float, default=5.0)
    load.add_argument("--requests", type=int)
    load.add_argument("-H", dest="headers", action="append", default=[])
    move = sub.add_parser("transfer")
    move.add_argument("url")
    move.add_argument("--size", type=int, required=True)
    move.add_argument("--upload", action="store_true")
    options = parser.parse_args()
    if options.command == "run":
        work = _generate(
            options.url, options.connections, options.duration, options.requests, options.headers
        )
    else:
        work = _transfer(options.url, options.size, options.upload)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(work)
    else:
        result = uvloop.run(work)
    print(json.dumps(result))


if __name__ == "__main__":
    _main()
