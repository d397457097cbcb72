"""Issue 12's table: edgesim serve next to a bare aiohttp reverse proxy (and Miniflare).

Every target runs in its own process in front of the same origin (benchmarks/_origin.py, its own
process, 1 KB answers) and gets the same request: ``GET /shop/item/42?id=42&utm_…`` with a ``uid``
cookie. Targets:

- the bare aiohttp reverse proxy (benchmarks/_bare_proxy.py): an aiohttp server and one
  ClientSession, no logic: the floor for an aiohttp design;
- Miniflare 4 (workerd) with the A/B router's logic as a Worker and its configuration in KV
  (benchmarks/_miniflare.cjs), only when Miniflare is installed (never installed by this script);
- ``edgesim serve`` through its CLI (request log to a file, file watcher on, throttling at its
  default): a behaviour with no function, one with benchmarks/functions/ab_router.js reading its
  JSON configuration from the KVS (seeded here), and cache hits.

In each of ``--rounds`` rounds (the order of the targets rotates from round to round) every target
gets a load with ``--connections`` connections for ``--duration`` seconds and then one connection
for ``--c1-duration`` seconds; the origin direct gets the same, and its c=1 latency is subtracted
from the targets' ("added latency"). CPU per request is the utime+stime of the target's process
tree (from /proc) over the loaded run, divided by the requests answered. Figures are medians over
the rounds; the ratio columns compare with the bare proxy, next to issue 12's targets. The load
generator is wrk when on PATH, else ours (benchmarks/_load.py), always in a child process.

Under the table: each row's spread over the rounds; the A/B function's CPU cost in serve (A/B row
minus no-function row) next to the same function invoked directly by edgesim's runtime (issue 12:
≤ 1.3×); serve's resident memory before and after the rounds; hot reload (from saving a function
file to the new code answering; issue 12: p95 ≤ 150 ms); 200 MB transfers through serve with the
growth of its peak RSS.

The bare proxy runs on the event loop serve runs on (uvloop when serve has it loaded, else
asyncio's; ``--bare-loop`` overrides). A full run takes about 5 minutes; ``--quick`` (1 s loads,
5 reload saves, 20 MB transfers) under a minute.

    python benchmarks/serve.py [--quick] [--rounds 3] [--duration 10] [--c1-duration 5]
        [--connections 32] [--loadgen auto|wrk|python] [--requests N (ours only)]
        [--reload-saves 20] [--transfer-mb 200] [--bare-loop same|asyncio|uvloop] [--workers N]

Issue 13's rows: the A/B row again on a second serve with ``[server] inspector = false`` (capture
off) and on the main serve while an inspector client reads the live stream; the line under the
table compares them with the main A/B row (capture on, no client). ``--no-inspector-rows`` skips
them.

``--workers N`` adds a second serve started with ``--workers N`` (no-function and A/B rows,
compared with one worker: issue 12 asks for req/s ≥ 1.3× and CPU µs/request ≤ 1.1×); while serve
has no such option, those rows say it did not start.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import _load
from _procs import Server, load_average, machine
from _table import Target, mark, median, spread, table

HERE = Path(__file__).resolve().parent
AB_ROUTER = HERE / "functions" / "ab_router.js"

# The A/B router's configuration (its format is described at the top of ab_router.js).
AB_CONFIG = {
    "prefix": "/shop",
    "salt": "2026-q4",
    "variants": [
        {"name": "blue", "weight": 60, "path": "/b"},
        {"name": "green", "weight": 40, "path": "/g"},
    ],
    "stripParams": "utm_",
}
TARGET = "/shop/item/42?id=42&utm_source=newsletter&utm_medium=email&utm_campaign=q4"
UID = "u-7f3a9c21"
HEADERS = (f"Cookie: uid={UID}; theme=dark", "Accept: text/html", "User-Agent: bench/1")

# A viewer-request function that answers by itself with its version: what hot reload times.
PROBE = """function handler(event) {
  return { statusCode: 200, statusDescription: 'OK',
           headers: { 'x-probe-version': { value: '%d' } } };
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

[[origins]]
id = "bulk"
url = "{bulk}"

[[kvs]]
name = "ab"
data = "ab.json"

[[functions]]
name = "ab_router"
file = "ab_router.js"
kvs = "ab"

[[functions]]
name = "probe"
file = "probe.js"

[[behaviors]]
path = "/shop/*"
origin = "app"
viewer_request = "ab_router"
cache_policy = "CachingDisabled"

[[behaviors]]
path = "/cached/*"
origin = "app"
cache_policy = "CachingOptimized"

[[behaviors]]
path = "/reload/*"
origin = "app"
viewer_request = "probe"
cache_policy = "CachingDisabled"

[[behaviors]]
path = "/big/*"
origin = "bulk"
cache_policy = "CachingDisabled"
allowed_methods = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]

[[behaviors]]
path = "/bigcached/*"
origin = "bulk"
cache_policy = "CachingOptimized"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
"""


def passes_unchanged(response: http.client.HTTPResponse) -> str | None:
    seen = response.getheader("X-Origin-Path") or ""
    return None if seen.startswith(urlsplit(TARGET).path) else f"origin saw {seen!r}"


def ab_routed(response: http.client.HTTPResponse) -> str | None:
    seen = response.getheader("X-Origin-Path") or ""
    if not seen.startswith(("/b/shop/", "/g/shop/")) or "utm_" in seen:
        return f"origin saw {seen!r}: the A/B logic did not run (expected /b|/g/shop/…, no utm_)"
    return None


def cache_hit(response: http.client.HTTPResponse) -> str | None:
    cache = response.getheader("X-Cache") or ""
    return None if cache.startswith("Hit") else f"X-Cache {cache!r}, expected a hit"


def get(url: str, headers: tuple[str, ...] = HEADERS) -> tuple[http.client.HTTPResponse, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    conn.request(
        "GET",
        url[len(f"{parts.scheme}://{parts.netloc}") :],
        headers=dict(h.split(": ", 1) for h in headers),
    )
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- Miniflare -------------------------------------------------------------------------------


def node_path() -> str:
    """NODE_PATH with the global npm root, so that a global Miniflare install resolves."""
    paths = [os.environ.get("NODE_PATH", ""), str(Path.cwd() / "node_modules")]
    if shutil.which("npm"):
        root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, timeout=60)
        paths.append(root.stdout.strip())
    return os.pathsep.join(p for p in paths if p)


def miniflare_status() -> str | None:
    """None when Miniflare can be run, else why not (shown in its row). Never installs it."""
    if not shutil.which("node"):
        return "not installed (no node)"
    found = shutil.which("miniflare") is not None
    if not found and shutil.which("npx"):
        probe = subprocess.run(
            ["npx", "--no-install", "miniflare", "--version"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        found = probe.returncode == 0
    env = {**os.environ, "NODE_PATH": node_path()}
    module = subprocess.run(
        ["node", "-e", "require.resolve('miniflare')"], capture_output=True, env=env, timeout=60
    )
    if module.returncode == 0:
        return None
    return "installed, but node cannot resolve the miniflare module" if found else "not installed"


def start_miniflare(origin: str, log: Path) -> Server:
    config = json.dumps(AB_CONFIG)
    argv = ["node", str(HERE / "_miniflare.cjs"), origin, str(free_port()), config]
    return Server("miniflare", argv, log, env={**os.environ, "NODE_PATH": node_path()})


# --- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    rounds: int
    duration: float
    c1_duration: float
    connections: int
    requests: int | None
    loadgen: str
    reload_saves: int
    transfer_mb: int
    quick: bool = False
    workers: int | None = None  # also serve --workers N (issue 12's multi-worker targets)
    inspector: bool = True  # also the inspector capture rows (issue 13)
    memory_requests: int = 0  # then serve's memory over this many A/B requests (0: not measured)


def measure(target: Target, s: Settings) -> None:
    """One round for ``target``: the loaded run (req/s, CPU) and the c=1 run."""
    with target.during() if target.during else contextlib.nullcontext():
        measure_runs(target, s)


def measure_runs(target: Target, s: Settings) -> None:
    cpu_before = target.server.cpu_seconds() if target.server else 0.0
    loaded = _load.run(
        target.url,
        loadgen=s.loadgen,
        connections=s.connections,
        duration=s.duration,
        requests=s.requests,
        headers=HEADERS,
    )
    cpu = (target.server.cpu_seconds() - cpu_before) if target.server else 0.0
    single = _load.run(
        target.url,
        loadgen=s.loadgen,
        connections=1,
        duration=s.c1_duration,
        requests=s.requests,
        headers=HEADERS,
    )
    target.rates.append(loaded.rate)
    target.cpu_us.append(cpu * 1e6 / max(loaded.requests, 1))
    target.c1.append((single.p50_ms, single.p99_ms))
    target.errors += loaded.errors + single.errors


def reload_latency(edge: str, folder: Path, saves: int) -> list[float]:
    """Seconds from writing a new version of probe.js to that version answering."""
    delays = []
    for version in range(2, saves + 2):
        saved = time.perf_counter()
        (folder / "probe.js").write_text(PROBE % version)
        deadline = saved + 10
        while time.perf_counter() < deadline:
            response, _ = get(edge + "/reload/x", headers=())
            if response.getheader("x-probe-version") == str(version):
                delays.append(time.perf_counter() - saved)
                break
            time.sleep(0.002)
        else:
            raise RuntimeError(f"hot reload: version {version} was not serving after 10 s")
        time.sleep(0.1)
    return delays


# --- the run ---------------------------------------------------------------------------------


def loop_of(server: Server) -> str:
    """uvloop when the process has uvloop's extension mapped, else asyncio's own loop."""
    try:
        maps = Path(f"/proc/{server.proc.pid}/maps").read_text()
    except OSError:
        return "unknown"
    return "uvloop" if "uvloop/loop." in maps else "asyncio"


def invocation_cpu_us(invocations: int) -> float:
    """Mean CPU µs of one invocation of the A/B router on the benchmark's request, run by
    edgesim's runtime directly in this thread (what benchmarks/runtime.py measures)."""
    from edgesim.kvs.reader import StaticKvs
    from edgesim.runtime.event import build_event
    from edgesim.runtime.function import LoadedFunction
    from edgesim.runtime.source import read_function

    kvs = StaticKvs({"ab:config": json.dumps(AB_CONFIG)})
    function = LoadedFunction(read_function(AB_ROUTER), kvs=kvs)
    path, _, query = TARGET.partition("?")
    querystring = {k: {"value": v} for k, _, v in (p.partition("=") for p in query.split("&"))}
    cookies = {"uid": {"value": UID}, "theme": {"value": "dark"}}
    # The headers of the event serve builds from wrk's request (HEADERS, and Host first, the
    # port cut off as a function sees it): the same event, so the two figures compare.
    headers = {"host": {"value": "127.0.0.1"}, "accept": {"value": "text/html"},
               "user-agent": {"value": "bench/1"}}  # fmt: skip
    request = {"method": "GET", "uri": path, "querystring": querystring, "cookies": cookies,
               "headers": headers}  # fmt: skip
    event = build_event({"context": {"eventType": "viewer-request"}, "request": request})
    for _ in range(50):
        function.invoke(event)
    started = time.thread_time()
    for _ in range(invocations):
        function.invoke(event)
    return (time.thread_time() - started) * 1e6 / invocations


def log_tail(server: Server, lines: int = 8) -> str:
    """The last lines of a server's output that report a problem (serve marks them with !)."""
    text = server.log.read_text(errors="replace").splitlines()
    marked = [line for line in text if line.lstrip().startswith(("!", "edgesim: ERROR"))]
    return "\n".join(f"    {line}" for line in (marked or text)[-lines:])


@dataclass
class Setup:
    """The running servers and the rows they stand for."""

    origin: Server
    edge: Server
    edge_url: str
    site: Path  # serve's config and function files
    loops: str
    targets: list[Target]
    missing: dict[str, str]  # row name → why it is not measured
    rss_before: float = 0.0  # serve's resident MB when the rounds start


MINIFLARE = "miniflare 4 (workerd), the same logic as a Worker + KV read"


def start(s: Settings, bare_loop: str, folder: Path, servers: list[Server]) -> Setup:
    py = sys.executable
    big = str(s.transfer_mb * 1024 * 1024)
    origin_proc = Server(
        "origin",
        [py, str(HERE / "_origin.py"), "--size", "1024", "--big", big],
        folder / "origin.log",
    )
    servers.append(origin_proc)
    found = origin_proc.wait_for(r"origin: (\S+) bulk: (\S+)")
    origin, bulk = found.group(1), found.group(2)

    # serve watches the folder of its files: the logs are written elsewhere, or every request
    # would wake the watcher.
    site = folder / "site"
    site.mkdir()
    shutil.copy(AB_ROUTER, site / "ab_router.js")
    (site / "probe.js").write_text(PROBE % 1)
    seed = {"data": [{"key": "ab:config", "value": json.dumps(AB_CONFIG)}]}
    (site / "ab.json").write_text(json.dumps(seed))
    (site / "edgesim.toml").write_text(CONFIG.replace("{origin}", origin).replace("{bulk}", bulk))
    edge_proc = Server(
        "edgesim serve",
        [py, "-m", "edgesim", "serve", "--config", str(site / "edgesim.toml"), "--no-https"],
        folder / "serve.log",
        cwd=HERE.parent,
    )
    servers.append(edge_proc)
    edge = edge_proc.wait_for(r"viewers: (http://\S+)").group(1)
    serve_loop = loop_of(edge_proc)
    bare_loop = serve_loop if bare_loop == "same" else bare_loop
    bare_argv = [py, str(HERE / "_bare_proxy.py"), origin]
    bare_argv += ["--uvloop"] if bare_loop == "uvloop" else []
    bare_proc = Server("bare proxy", bare_argv, folder / "bare.log")
    servers.append(bare_proc)
    bare = bare_proc.wait_for(r"bare proxy: (\S+)").group(1)

    missing: dict[str, str] = {}
    miniflare: Server | None = None
    mf_url = ""
    why = miniflare_status()
    if why is None:
        miniflare = start_miniflare(origin, folder / "miniflare.log")
        servers.append(miniflare)
        try:
            mf_url = miniflare.wait_for(r"miniflare: (\S+)", timeout=120).group(1)
        except RuntimeError as exc:
            missing[MINIFLARE] = "failed to start (its output is printed above)"
            print(f"miniflare: {exc}")
    else:
        missing[MINIFLARE] = why

    def plain(response: http.client.HTTPResponse) -> str | None:
        seen = response.getheader("X-Origin-Path") or ""
        return None if seen.startswith("/plain/shop/") else f"origin saw {seen!r}"

    targets = [
        Target("origin direct", origin + TARGET, origin_proc, passes_unchanged),
        Target(f"bare aiohttp reverse proxy ({bare_loop})", bare + TARGET, bare_proc,
               passes_unchanged),
        Target(MINIFLARE, mf_url + TARGET, miniflare, ab_routed, optional=True),
        Target("edgesim serve, no function", edge + "/plain" + TARGET, edge_proc, plain,
               goals="plain"),
        Target("edgesim serve, A/B function", edge + TARGET, edge_proc, ab_routed, goals="ab"),
        Target("edgesim serve, cache hit", edge + "/cached" + TARGET, edge_proc, cache_hit),
    ]  # fmt: skip
    if s.inspector:
        targets += inspector_rows(edge_proc, edge, site, folder, servers)
    if s.workers:
        targets += start_workers(s.workers, site, folder, servers, missing)
    loops = f"edgesim serve {serve_loop}, bare proxy {bare_loop}"
    return Setup(origin_proc, edge_proc, edge, site, loops, targets, missing)


CAPTURE_OFF = "edgesim serve, A/B function, inspector capture off"
CAPTURE_CLIENT = "edgesim serve, A/B function, an inspector client connected"


class InspectorClient:
    """A browser's live view, reduced to what costs serve something: one connection to the
    inspector's event stream, read to the end of every event, for as long as the row runs."""

    def __init__(self, admin: str) -> None:
        self.admin = urlsplit(admin)
        self.events = 0
        self._conn: http.client.HTTPConnection | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> InspectorClient:
        conn = http.client.HTTPConnection(self.admin.hostname, self.admin.port, timeout=30)
        conn.request("GET", "/inspector/api/stream", headers={"Accept": "text/event-stream"})
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"inspector stream: HTTP {response.status}")
        self._conn = conn
        self._thread = threading.Thread(target=self._read, args=(response,), daemon=True)
        self._thread.start()
        return self

    def _read(self, response: http.client.HTTPResponse) -> None:
        try:
            for line in response:
                if line.startswith(b"data:"):
                    self.events += 1
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # closed by __exit__

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None and self._conn.sock is not None:
            self._conn.sock.shutdown(socket.SHUT_RDWR)
            self._conn.close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def inspector_rows(
    edge_proc: Server, edge_url: str, site: Path, folder: Path, servers: list[Server]
) -> list[Target]:
    """Issue 13: capturing traces costs little. The A/B row again, once on a second serve with
    ``[server] inspector = false`` (same build, capture off) and once on the main serve while an
    inspector client reads the live stream; the main A/B row is capture on, no client."""
    copy = folder / "site-nocapture"
    shutil.copytree(site, copy)
    config = copy / "edgesim.toml"
    config.write_text(config.read_text().replace("[server]\n", "[server]\ninspector = false\n", 1))
    argv = [sys.executable, "-m", "edgesim", "serve", "--config", str(config), "--no-https"]
    proc = Server("edgesim serve (capture off)", argv, folder / "serve-nocapture.log",
                  cwd=HERE.parent)  # fmt: skip
    servers.append(proc)
    edge = proc.wait_for(r"viewers: (http://\S+)").group(1)
    admin = edge_proc.wait_for(r"inspector: (http://\S+)").group(1)
    return [
        Target(CAPTURE_OFF, edge + TARGET, proc, ab_routed, goals="capture:off"),
        Target(CAPTURE_CLIENT, edge_url + TARGET, edge_proc, ab_routed,
               goals="capture:client", during=lambda: InspectorClient(admin)),
    ]  # fmt: skip


def capture_cost(setup: Setup) -> None:
    """Issue 13's line: the A/B row with capture on (no client) and with a client connected,
    against the same build with capture off, in the same run."""
    by_name = {t.name: t for t in setup.targets if t.name not in setup.missing}
    off, client = by_name.get(CAPTURE_OFF), by_name.get(CAPTURE_CLIENT)
    on = by_name.get("edgesim serve, A/B function")
    if off is None or client is None or on is None:
        return
    base = median(off.rates)
    idle, watched = median(on.rates) / base, median(client.rates) / base
    print(
        f"inspector capture (A/B function): capture off {base:,.0f} req/s "
        f"{median(off.cpu_us):.0f} µs CPU; capture on, no client {idle:.0%} of it "
        f"({median(on.cpu_us):.0f} µs; issue 13: ≥ 95% {mark(idle >= 0.95)}); a client "
        f"connected {watched:.0%} ({median(client.cpu_us):.0f} µs; ≥ 85% {mark(watched >= 0.85)})"
    )


def start_workers(
    workers: int, site: Path, folder: Path, servers: list[Server], missing: dict[str, str]
) -> list[Target]:
    """A second serve with ``--workers N`` on a copy of the same files: its no-function and A/B
    rows are compared with the one-worker rows. Optional: a serve without the option, or one that
    fails to start, leaves the rows marked."""
    copy = folder / "site-workers"
    shutil.copytree(site, copy)
    argv = [sys.executable, "-m", "edgesim", "serve", "--config", str(copy / "edgesim.toml")]
    argv += ["--no-https", "--workers", str(workers)]
    proc = Server(f"edgesim serve --workers {workers}", argv, folder / "serve-workers.log",
                  cwd=HERE.parent)  # fmt: skip
    servers.append(proc)
    names = (f"edgesim serve --workers {workers}, no function",
             f"edgesim serve --workers {workers}, A/B function")  # fmt: skip
    try:
        edge = proc.wait_for(r"viewers: (http://\S+)").group(1)
    except RuntimeError as exc:
        lines = [line for line in str(exc).splitlines()[1:] if line.strip()]
        why = f"did not start: {lines[-1] if lines else 'no output'}"
        missing.update(dict.fromkeys(names, why))
        edge = ""

    def plain(response: http.client.HTTPResponse) -> str | None:
        seen = response.getheader("X-Origin-Path") or ""
        return None if seen.startswith("/plain/shop/") else f"origin saw {seen!r}"

    hits = f"edgesim serve --workers {workers}, cache hit"
    if names[0] in missing:
        missing[hits] = missing[names[0]]
    else:  # each worker has its own cache: fill every one (fresh connections spread over them)
        for _ in range(8 * workers):
            get(edge + "/cached" + TARGET)
    return [
        Target(names[0], edge + "/plain" + TARGET, proc, plain, goals="workers:plain",
               optional=True),
        Target(names[1], edge + TARGET, proc, ab_routed, goals="workers:ab", optional=True),
        Target(hits, edge + "/cached" + TARGET, proc, cache_hit, optional=True),
        start_shared_cache(workers, site, folder, servers, missing),
    ]  # fmt: skip


def start_shared_cache(
    workers: int, site: Path, folder: Path, servers: list[Server], missing: dict[str, str]
) -> Target:
    """The cache hit row on a third serve, ``--workers N --shared-cache``: what one cache for
    all workers (an SQLite lookup per cacheable request, docs/workers.md) costs next to the
    workers' own caches. Only cacheable requests use the cache, so it is the only row that
    differs."""
    copy = folder / "site-shared-cache"
    shutil.copytree(site, copy)
    argv = [sys.executable, "-m", "edgesim", "serve", "--config", str(copy / "edgesim.toml")]
    argv += ["--no-https", "--workers", str(workers), "--shared-cache"]
    proc = Server(f"edgesim serve --workers {workers} --shared-cache", argv,
                  folder / "serve-shared-cache.log", cwd=HERE.parent)  # fmt: skip
    servers.append(proc)
    name = f"edgesim serve --workers {workers} --shared-cache, cache hit"
    try:
        edge = proc.wait_for(r"viewers: (http://\S+)").group(1)
    except RuntimeError as exc:
        lines = [line for line in str(exc).splitlines()[1:] if line.strip()]
        missing[name] = f"did not start: {lines[-1] if lines else 'no output'}"
        edge = ""
    return Target(name, edge + "/cached" + TARGET, proc, cache_hit, optional=True)


def check_and_warm(setup: Setup, s: Settings) -> bool:
    """Each target answers as it should (the A/B logic ran, the cache hits); then a short load
    warms it up. A target that does not is reported and the run stops (an optional row, such as
    Miniflare's, is only marked), rather than measuring the wrong thing."""
    for target in setup.targets:
        if target.name in setup.missing:
            continue
        get(target.url)
        response, body = get(target.url)
        problem = target.check(response)
        if problem is None and (response.status != 200 or len(body) != 1024):
            problem = f"status {response.status}, {len(body)} bytes"
        if problem and target.optional:
            setup.missing[target.name] = f"answers wrongly: {problem}"
            continue
        if problem:
            print(f"{target.name}: {problem}; not measuring the wrong thing", file=sys.stderr)
            if target.server is not None:
                print(log_tail(target.server), file=sys.stderr)
            return False
        _load.run(target.url, loadgen=s.loadgen, connections=s.connections, duration=1,
                  requests=s.requests, headers=HEADERS)  # fmt: skip
    return True


def hot_reload(setup: Setup, s: Settings) -> None:
    delays = sorted(reload_latency(setup.edge_url, setup.site, s.reload_saves))
    p95 = delays[max(0, round(len(delays) * 0.95) - 1)]
    print(
        f"hot reload, save → new code serving: p50 {median(delays) * 1000:.0f} ms, p95 "
        f"{p95 * 1000:.0f} ms ({len(delays)} saves; issue 12: p95 ≤ 150 ms {mark(p95 <= 0.150)})"
    )


def transfers(setup: Setup, s: Settings) -> None:
    size = s.transfer_mb * 1024 * 1024
    print(f"{s.transfer_mb} MB through edgesim serve (growth of its peak RSS):")
    for label, path, upload in (
        ("download, CachingDisabled", "/big/x", False),
        ("download, cached (spills to disk)", "/bigcached/x", False),
        ("upload, streamed to the origin", "/big/x", True),
    ):
        before = setup.edge.peak_rss_mb()
        rate = _load.transfer(setup.edge_url + path, size, upload=upload)
        growth = setup.edge.peak_rss_mb() - before
        print(f"  {label:<40} {rate:>7.0f} MB/s   peak RSS +{growth:.0f} MB")


def memory_over_requests(setup: Setup, s: Settings, total: int) -> None:
    """Issue 12: a worker's memory stays flat over 100k requests. ``total`` A/B requests (the
    function, its KVS read, the inspector's capture ring: serve's per-request state) in ten
    slices of loaded runs; serve's resident memory after each slice."""
    target = next(t for t in setup.targets if t.name == "edgesim serve, A/B function")
    rate = median(target.rates) if target.rates else 1000.0
    samples: list[tuple[int, float]] = [(0, setup.edge.rss_mb())]
    done = 0
    while done < total:
        slice_requests = min(total // 10, total - done)
        result = _load.run(target.url, loadgen=s.loadgen, connections=s.connections,
                           duration=max(1.0, slice_requests / rate), headers=HEADERS)  # fmt: skip
        done += result.requests
        samples.append((done, setup.edge.rss_mb()))
    first_tenth = next(mb for n, mb in samples if n >= total // 10)
    growth = (samples[-1][1] - first_tenth) / first_tenth * 100
    print(
        f"serve's resident memory over {done:,} A/B requests: "
        + ", ".join(f"{mb:.0f}" for _, mb in samples)
        + f" MB (at the start and after each of {len(samples) - 1} slices); from the first "
        f"slice to the end {growth:+.1f}% (issue 12: flat)"
    )


def run(s: Settings, bare_loop: str) -> int:
    print(f"edgesim serve benchmark (issue 12), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print("the machine is busy (more runnable work than cores): absolute figures are noisy")
    with tempfile.TemporaryDirectory(prefix="edgesim-bench-") as tmp:
        servers: list[Server] = []
        try:
            setup = start(s, bare_loop, Path(tmp), servers)
            if not check_and_warm(setup, s):
                return 1
            rounds(setup, s)
            report(setup, s)
            hot_reload(setup, s)
            if s.memory_requests:
                memory_over_requests(setup, s, s.memory_requests)
            if s.transfer_mb:
                transfers(setup, s)
        finally:
            for server in reversed(servers):
                server.stop()
    print(f"load average at the end: {load_average()}")
    return 0


def rounds(setup: Setup, s: Settings) -> None:
    print(
        f"load generator: {_load.describe(s.loadgen)}; {s.connections} connections × "
        f"{s.duration:g} s, then 1 connection × {s.c1_duration:g} s"
        + (f" (at most {s.requests} requests a run)" if s.requests else "")
        + f"; {s.rounds} interleaved round(s), target order rotated; medians"
    )
    print(f"origin: 1 KB answers (benchmarks/_origin.py, own process); GET {TARGET} + uid cookie")
    print(
        f"event loops: {setup.loops}; serve's request log goes to a file; "
        "CPU = utime+stime of each target's process tree (/proc)"
    )
    origin, *measured = [t for t in setup.targets if t.name not in setup.missing]
    setup.rss_before = setup.edge.rss_mb()
    for round_no in range(s.rounds):
        turn = round_no % len(measured)
        measure(origin, s)
        for target in measured[turn:] + measured[:turn]:
            measure(target, s)
        print(f"  round {round_no + 1}/{s.rounds} done, load average {load_average()}", flush=True)


def report(setup: Setup, s: Settings) -> None:
    origin, *rows = setup.targets
    print()
    print("\n".join(table(rows, setup.missing, origin)))
    print()
    for line in spread(setup.targets, setup.missing):
        print(line)
    o50, o99 = median([c[0] for c in origin.c1]), median([c[1] for c in origin.c1])
    print(
        f"added latency = the target's c=1 latency − the origin direct's (c=1 p50 / p99 "
        f"{o50:.2f} / {o99:.2f} ms; {median(origin.rates):,.0f} req/s at c={s.connections}, "
        f"{median(origin.cpu_us):.0f} µs CPU/request)"
    )
    by_name = {t.name: t for t in rows}
    plain, ab = by_name["edgesim serve, no function"], by_name["edgesim serve, A/B function"]
    in_serve = median(ab.cpu_us) - median(plain.cpu_us)
    direct = invocation_cpu_us(200 if s.quick else 5000)
    print(
        f"a function's cost in serve: {in_serve:.0f} µs CPU per request (A/B function − no "
        f"function); the same function invoked directly (LoadedFunction.invoke, one thread): "
        f"{direct:.0f} µs; ratio {in_serve / direct:.1f}× (issue 12: ≤ 1.3× "
        f"{mark(in_serve <= 1.3 * direct)})"
    )
    capture_cost(setup)
    print(
        f"serve's resident memory: {setup.rss_before:.0f} MB before the rounds, "
        f"{setup.edge.rss_mb():.0f} MB after them"
    )
    for target in setup.targets:
        if target.errors and target.server is not None:
            print(
                f"errors!: {target.name}: {target.errors} socket errors or non-2xx answers; "
                f"its figures are suspect. Its output:\n{log_tail(target.server)}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 1 s loads, 5 reload saves, 20 MB transfers",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, help="seconds of each loaded run (default 10)")
    parser.add_argument("--c1-duration", type=float, help="seconds of each c=1 run (default 5)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--requests",
        type=int,
        help="stop each run after this many requests (our load generator only)",
    )
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk when it is on PATH, else ours",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="also measure serve --workers N (rows compared with one worker)",
    )
    parser.add_argument(
        "--no-inspector-rows",
        action="store_true",
        help="skip the rows that measure the inspector's capture (capture off, a client on)",
    )
    parser.add_argument(
        "--memory-requests",
        type=int,
        default=0,
        help="after the rounds, serve's memory over this many A/B requests (e.g. 100000)",
    )
    parser.add_argument("--reload-saves", type=int)
    parser.add_argument("--transfer-mb", type=int, help="size of the transfers (0: none)")
    parser.add_argument(
        "--bare-loop",
        choices=("same", "asyncio", "uvloop"),
        default="same",
        help="the bare proxy's event loop (same: the one serve runs on)",
    )
    options = parser.parse_args()
    quick = options.quick
    if options.requests and options.loadgen == "wrk":
        parser.error("--requests needs our load generator (--loadgen python): wrk runs by time")
    loadgen = _load.choose("python" if options.requests else options.loadgen)
    settings = Settings(
        rounds=options.rounds,
        duration=options.duration or (1 if quick else 10),
        c1_duration=options.c1_duration or (1 if quick else 5),
        connections=options.connections,
        requests=options.requests,
        loadgen=loadgen,
        reload_saves=options.reload_saves or (5 if quick else 20),
        transfer_mb=(20 if quick else 200) if options.transfer_mb is None else options.transfer_mb,
        quick=quick or options.requests is not None,
        workers=options.workers,
        inspector=not options.no_inspector_rows,
        memory_requests=options.memory_requests,
    )
    # SIGTERM (a make or CI job stopped) unwinds like Ctrl-C, so that the servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    return run(settings, options.bare_loop)


if __name__ == "__main__":
    sys.exit(main())
