"""What serve costs per request outside the function runtime (issue 12, the plumbing part).

Two measures, each next to a bare aiohttp reverse proxy (the floor for an aiohttp design):

``load`` (default): a tiny origin in its own process (a raw asyncio protocol answering 1 KB),
each target server in its own process, ``wrk`` as the load generator. For each target: req/s and
server CPU µs per request at ``--connections`` (CPU of the target's process, from /proc), and the
added latency at one connection (the target's p50/p99 minus the origin's own). Rounds are
interleaved and the median of each figure is printed. Wall-clock figures are noisy on a shared
machine; CPU µs/request much less so.

``callgrind``: instructions per request, deterministic even on a busy machine. Runs
``valgrind --tool=callgrind`` on ``drive`` (origin, target and a raw-socket client in one
process, one request at a time) with two request counts, and prints
``(Ir(N2) - Ir(N1)) / (N2 - N1)``. The ``direct`` row is the client and origin alone: subtract it
from a target's figure for the target's own instructions.

    python benchmarks/plumbing_cost.py [load] [--rounds 3] [--duration 5] [--loop uvloop]
    python benchmarks/plumbing_cost.py callgrind [--targets direct,bare,edgesim,edgesim-fn]

Targets: ``bare`` (aiohttp server + one ClientSession), ``edgesim`` (serve, no function,
CachingDisabled), ``edgesim-fn`` (serve with a small viewer-request function: reads a cookie,
sets a header, strips ``utm_*`` query parameters), ``edgesim-ab`` (serve with
benchmarks/functions/ab_router.js reading its JSON configuration from a KVS, as in
benchmarks/serve.py; compare with ``benchmarks/invoke_cost.py --callgrind``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BODY = b"x" * 1024
FUNCTION = """
function handler(event) {
  var request = event.request;
  var uid = request.cookies.uid ? request.cookies.uid.value : 'anon';
  request.headers['x-bucket'] = { value: uid.length % 2 ? 'a' : 'b' };
  var qs = request.querystring;
  for (var name in qs) {
    if (name.indexOf('utm_') === 0) { delete qs[name]; }
  }
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

[[functions]]
name = "ab"
file = "ab.js"

[[kvs]]
name = "abkvs"
data = "ab-kvs.json"

[[functions]]
name = "ab_router"
file = "ab_router.js"
kvs = "abkvs"

[[behaviors]]
path = "/fn/*"
origin = "app"
viewer_request = "ab"
cache_policy = "CachingDisabled"

[[behaviors]]
path = "/shop/*"
origin = "app"
viewer_request = "ab_router"
cache_policy = "CachingDisabled"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
"""
PATHS = {
    "direct": "/x",
    "bare": "/x",
    "edgesim": "/x",
    "edgesim-fn": "/fn/x?utm_source=a&id=7",
    "edgesim-ab": "/shop/item/42?id=42&utm_source=newsletter&utm_medium=email&utm_campaign=q4",
}
# benchmarks/functions/ab_router.js (edgesim-ab) and its configuration in the KVS.
AB_ROUTER = Path(__file__).resolve().parent / "functions" / "ab_router.js"
AB_CONFIG = {
    "prefix": "/shop",
    "salt": "2026-q4",
    "variants": [
        {"name": "blue", "weight": 60, "path": "/b"},
        {"name": "green", "weight": 40, "path": "/g"},
    ],
    "stripParams": "utm_",
}
REQUEST_HEADERS = (
    "User-Agent: plumbing-cost\r\nAccept: */*\r\nAccept-Encoding: gzip, br\r\n"
    "Cookie: uid=u12345; theme=dark\r\n"
)


# -- the origin: a raw protocol, so that its cost is small and the same for every target ------
class _OriginProtocol(asyncio.Protocol):
    RESPONSE = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: max-age=600\r\n"
        b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
    )

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.buffer = self.buffer[end + 4 :]  # GET requests only: no bodies
            self.transport.write(self.RESPONSE)


async def start_origin() -> tuple[asyncio.AbstractServer, str]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_OriginProtocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


# -- the targets --------------------------------------------------------------------------------
async def start_bare(origin: str) -> tuple[Any, int]:
    """The floor: forward method, path and headers, stream the answer back."""
    import aiohttp
    from aiohttp import web

    session = aiohttp.ClientSession(auto_decompress=False)

    async def handle(request: web.Request) -> web.StreamResponse:
        async with session.request(
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
        await session.close()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    app.on_cleanup.append(close)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, int(runner.addresses[0][1])


async def start_edgesim(origin: str, folder: Path, *, slow: bool = False) -> tuple[Any, int]:
    """``slow``: under valgrind, where code runs ~50 times slower, the function's runaway
    ceiling and throttling would turn its runs into 503s; both are lifted then."""
    from edgesim.app import EdgeServer
    from edgesim.distribution.config import load_config
    from edgesim.runtime.function import BudgetPolicy

    (folder / "ab.js").write_text(FUNCTION)
    (folder / "ab_router.js").write_text(AB_ROUTER.read_text())
    seed = {"data": [{"key": "ab:config", "value": json.dumps(AB_CONFIG)}]}
    (folder / "ab-kvs.json").write_text(json.dumps(seed))
    config = CONFIG.replace("{origin}", origin)
    if slow:
        config += "\n[throttling]\nenabled = false\n"
    (folder / "edgesim.toml").write_text(config)
    # The request log is on, written where serve's console would be (here: nowhere).
    sink = open(os.devnull, "w")  # noqa: ASYNC230, SIM115 - closed with the process
    budget = BudgetPolicy(ceiling_factor=10_000) if slow else None
    server = EdgeServer(load_config(folder / "edgesim.toml"), stream=sink, budget=budget)
    await server.start()
    return server, server.viewer_port


async def start_target(
    target: str, origin: str, folder: Path, *, slow: bool = False
) -> tuple[Any, int]:
    if target == "direct":
        return None, int(origin.rsplit(":", 1)[1])
    if target == "bare":
        return await start_bare(origin)
    return await start_edgesim(origin, folder, slow=slow)


async def stop_target(handle: Any) -> None:
    if handle is None:
        return
    if hasattr(handle, "cleanup"):
        await handle.cleanup()
    else:
        await handle.stop()


def run_loop(main: Any, loop: str) -> Any:
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


# -- child processes: the origin and one target ----------------------------------------------
async def _serve_forever(role: str, origin: str, loop_name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        if role == "origin":
            server, url = await start_origin()
            port = int(url.rsplit(":", 1)[1])
            handle: Any = server
        else:
            handle, port = await start_target(role, origin, Path(folder))
            if role.startswith("edgesim"):
                import edgesim.serve_cli

                settle = getattr(edgesim.serve_cli, "settle_heap", None)  # older trees: none
                if settle is not None:
                    settle()  # as edgesim serve does once it listens
        print(port, flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        if role == "origin":
            handle.close()
        else:
            await stop_target(handle)


def spawn(role: str, origin: str, loop: str) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [sys.executable, __file__, "_serve", role, "--origin", origin, "--loop", loop],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line.strip().isdigit():
        child.kill()
        raise SystemExit(f"{role} did not start (said {line!r})")
    return child, int(line)


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (and its waited-for children) from /proc, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


_HEADER_ARGS = [arg for line in REQUEST_HEADERS.strip().split("\r\n") for arg in ("-H", line)]


def wrk(url: str, connections: int, duration: float) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            *_HEADER_ARGS,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{out}")
    latency = {m.group(1): _ms(m.group(2)) for m in re.finditer(r"\s(50|99)%\s+(\S+)", out)}
    return {"requests": requests, "p50": latency["50"], "p99": latency["99"]}


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(args: argparse.Namespace) -> None:
    targets = args.targets.split(",")
    origin_proc, origin_port = spawn("origin", "", "uvloop")
    origin = f"http://127.0.0.1:{origin_port}"
    servers = {t: spawn(t, origin, args.loop) for t in targets if t != "direct"}
    rows: dict[str, dict[str, list[float]]] = {t: {} for t in targets}
    try:
        for _ in range(args.rounds):
            for target in targets:
                proc, port = servers.get(target, (origin_proc, origin_port))
                url = f"http://127.0.0.1:{port}{PATHS[target]}"
                wrk(url, args.connections, 1)  # warm up
                before = cpu_seconds(proc.pid)
                loaded = wrk(url, args.connections, args.duration)
                cpu = cpu_seconds(proc.pid) - before
                single = wrk(url, 1, args.duration / 2)
                figures = {
                    "req/s": loaded["requests"] / args.duration,
                    "cpu_us": cpu * 1e6 / loaded["requests"],
                    "p50": single["p50"],
                    "p99": single["p99"],
                }
                for key, value in figures.items():
                    rows[target].setdefault(key, []).append(value)
    finally:
        for proc, _ in [*servers.values(), (origin_proc, 0)]:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    med = {t: {k: statistics.median(v) for k, v in r.items()} for t, r in rows.items()}
    print(
        f"loop={args.loop}, wrk -c{args.connections} {args.duration:g}s x {args.rounds} rounds "
        "(medians); origin: raw asyncio, 1 KB; CPU of the target's process"
    )
    print(f"{'target':<12} {'req/s':>8} {'CPU µs/req':>11} {'c=1 p50 ms':>11} {'c=1 p99 ms':>11}")
    direct = med.get("direct")
    for target, m in med.items():
        p50, p99 = m["p50"], m["p99"]
        added = ""
        if direct is not None and target != "direct":
            added = f"   added p50 {p50 - direct['p50']:.3f} / p99 {p99 - direct['p99']:.3f} ms"
        cpu = f"{m['cpu_us']:>11.0f}" if target != "direct" else f"{'(origin)':>11}"
        print(f"{target:<12} {m['req/s']:>8.0f} {cpu} {p50:>11.3f} {p99:>11.3f}{added}")
    if "bare" in med:
        for target in ("edgesim", "edgesim-fn"):
            if target in med:
                ratio = med[target]["req/s"] / med["bare"]["req/s"]
                print(f"{target}: {ratio:.0%} of the bare proxy's req/s")


# -- callgrind: instructions per request -----------------------------------------------------
async def _drive(target: str, requests: int, connections: int = 1) -> None:
    """``requests`` GETs through ``target`` over ``connections`` keep-alive connections, each
    sending its next request when the last answer is in."""
    origin_server, origin = await start_origin()
    with tempfile.TemporaryDirectory() as folder:
        handle, port = await start_target(target, origin, Path(folder), slow=True)
        if target.startswith("edgesim"):
            import edgesim.serve_cli

            settle = getattr(edgesim.serve_cli, "settle_heap", None)  # older trees: none
            if settle is not None:
                settle()  # as edgesim serve does once it listens
        request = (
            f"GET {PATHS[target]} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{REQUEST_HEADERS}\r\n"
        ).encode()
        left = [requests]

        async def client() -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            while left[0] > 0:
                left[0] -= 1
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200"), head[:200]
                await read_body(reader, head)
            writer.close()

        await asyncio.gather(*(client() for _ in range(connections)))
        await stop_target(handle)
    origin_server.close()


async def read_body(reader: asyncio.StreamReader, head: bytes) -> bytes:
    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    if length is not None:
        return await reader.readexactly(int(length.group(1)))
    body = b""  # chunked
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        body += (await reader.readexactly(size + 2))[:size]
        if size == 0:
            return body


def callgrind(args: argparse.Namespace) -> None:
    low, high = args.low, args.high
    print(
        f"callgrind, loop={args.loop}: instructions per request = "
        f"(Ir({high}) - Ir({low})) / {high - low}"
    )
    results: dict[str, float] = {}
    for target in args.targets.split(","):
        counts = []
        for requests in (low, high):
            with tempfile.NamedTemporaryFile(suffix=".callgrind") as out:
                subprocess.run(
                    [
                        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}",
                        sys.executable, __file__, "drive", target, "--requests", str(requests),
                        "--loop", args.loop, "--connections", str(args.connections),
                    ],
                    check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"},
                )  # fmt: skip
                text = Path(out.name).read_text(errors="replace")
            totals = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.MULTILINE)
            assert totals is not None, "no totals in the callgrind output"
            counts.append(int(totals.group(1)))
        results[target] = (counts[1] - counts[0]) / (high - low)
        line = f"{target:<12} {results[target]:>12,.0f} Ir/request"
        if "direct" in results and target != "direct":
            line += f"   ({results[target] - results['direct']:,.0f} without client and origin)"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="mode")
    for name in ("load", "callgrind"):
        mode = sub.add_parser(name)
        mode.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
        mode.add_argument("--targets", default="direct,bare,edgesim,edgesim-fn")
    sub.choices["load"].add_argument("--rounds", type=int, default=3)
    sub.choices["load"].add_argument("--duration", type=float, default=5.0)
    sub.choices["load"].add_argument("--connections", type=int, default=32)
    sub.choices["callgrind"].add_argument("--low", type=int, default=200)
    sub.choices["callgrind"].add_argument("--high", type=int, default=1200)
    sub.choices["callgrind"].add_argument("--connections", type=int, default=1)
    drive = sub.add_parser("drive")
    drive.add_argument("target", choices=tuple(PATHS))
    drive.add_argument("--requests", type=int, default=1000)
    drive.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    drive.add_argument("--connections", type=int, default=1)
    serve = sub.add_parser("_serve")
    serve.add_argument("role")
    serve.add_argument("--origin", default="")
    serve.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    argv = sys.argv[1:]
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["load", *argv]
    args = parser.parse_args(argv)
    if args.mode == "drive":
        # As in invoke_cost.py: under valgrind every invocation takes long enough to be followed
        # by the engine's memory check (a walk of the whole heap, about 200,000 instructions),
        # which runs once per 2 ms of invocations at native speed: it is left out of the count.
        from edgesim.runtime.engine import JsSession

        JsSession.GC_CHECK_AFTER_NS = 1 << 62
        run_loop(_drive(args.target, args.requests, args.connections), args.loop)
    elif args.mode == "_serve":
        run_loop(_serve_forever(args.role, args.origin, args.loop), args.loop)
    elif args.mode == "callgrind":
        callgrind(args)
    else:
        load(args)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
