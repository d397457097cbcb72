"""``edgesim serve --workers 2`` with ``[cache] shared = true`` as users run it (a subprocess):
one cache for both workers — a request sees Miss once, then Hit through either worker; Age,
revalidation (304 → RefreshHit), a stale copy served on an origin 5xx and LRU eviction behave
as in one process; an invalidation and ``/status`` count each object once (issue 12)."""

from __future__ import annotations

import http.server
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgesim.controlplane.client import ControlPlaneClient
from tests.e2e.workers_serve import SERVER_TOML, Serve, workers_serve

# The shared cache and its origin (everything after the [server] keys; the reliability test's too).
SHARED_CACHE = """
[cache]
shared = true
memory_limit_mb = 1

[[origins]]
id = "app"
url = "http://127.0.0.1:ORIGIN_PORT"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"

[edges]
pops = ["IAD"]
"""
CONFIG = SERVER_TOML + 'now = "2030-01-01T09:00:00Z"\nfrozen = true\n' + SHARED_CACHE
BIG = 300_000  # three fit the 1 MiB budget with their overhead, four do not


class Origin(http.server.ThreadingHTTPServer):
    """Answers every path with its name as the body (``/e*``: BIG bytes), ``max-age=10`` and an
    ETag; a 304 to a matching If-None-Match; ``failing``: 500 to everything. Counts requests."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _OriginHandler)
        self.failing = False
        self.seen: Counter[str] = Counter()
        self.conditional: Counter[str] = Counter()


class _OriginHandler(http.server.BaseHTTPRequestHandler):
    server: Origin
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        origin = self.server
        origin.seen[self.path] += 1
        if origin.failing:
            self._answer(500, b"origin down\n", [])
            return
        if self.headers.get("If-None-Match") == '"v1"':
            origin.conditional[self.path] += 1
            self._answer(304, b"", [("ETag", '"v1"'), ("Cache-Control", "max-age=10")])
            return
        body = b"e" * BIG if self.path.startswith("/e") else self.path.encode()
        self._answer(200, body, [("ETag", '"v1"'), ("Cache-Control", "max-age=10")])

    def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    server = Origin()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory, origin: Origin) -> Iterator[Serve]:
    folder = tmp_path_factory.mktemp("shared-cache")
    port = origin.server_address[1]
    (folder / "edgesim.toml").write_text(CONFIG.replace("ORIGIN_PORT", str(port)))
    with workers_serve(folder) as running:
        assert "they share one cache" in running.log.read_text()
        yield running


def x_cache(answers: list[dict[str, str]]) -> set[str]:
    return {a["X-Cache"] for a in answers}


def test_a_miss_in_one_worker_is_a_hit_in_every_worker(serve: Serve, origin: Origin) -> None:
    entries = serve.admin_json("/status")["cache"]["entries"]
    status, headers, body = serve.get("/page")
    assert (status, headers["X-Cache"], body) == (200, "Miss from cloudfront", b"/page")
    answers, served = serve.spread("/page")
    assert x_cache(answers) == {"Hit from cloudfront"}
    assert all(n > 0 for n in served), served  # both workers answered from the one copy
    assert origin.seen["/page"] == 1
    assert serve.admin_json("/status")["cache"]["entries"] == entries + 1
    assert serve.admin_json("/status")["cache"]["pops"]["IAD"]["entries"] == entries + 1
    # The inspector's Cache view lists the shared cache's objects.
    view = serve.admin_json("/inspector/api/cache")
    listed = {o["path"] for pop in view["pops"] if pop["pop"] == "IAD" for o in pop["objects"]}
    assert "/page" in listed
    assert view["stats"]["shared"] is True


def test_an_invalidation_removes_the_object_once_for_every_worker(
    serve: Serve, origin: Origin
) -> None:
    serve.get("/inv")
    assert ControlPlaneClient(serve.admin).invalidate_cache(["/inv"]) == {"/inv": 1}
    assert serve.get("/inv")[1]["X-Cache"] == "Miss from cloudfront"
    answers, served = serve.spread("/inv")
    assert x_cache(answers) == {"Hit from cloudfront"}
    assert all(n > 0 for n in served), served
    assert origin.seen["/inv"] == 2


def test_age_revalidation_and_stale_on_5xx_as_in_one_process(serve: Serve, origin: Origin) -> None:
    assert serve.get("/rv")[1]["X-Cache"] == "Miss from cloudfront"
    serve.admin_json("/clock", {"advance_ms": 4_000})
    answers, served = serve.spread("/rv")
    assert {(a["X-Cache"], a["Age"]) for a in answers} == {("Hit from cloudfront", "4")}
    # Expired (max-age=10): the next request, in either worker, revalidates it once.
    serve.admin_json("/clock", {"advance_ms": 7_000})
    status, headers, body = serve.get("/rv")
    assert (status, headers["X-Cache"], body) == (200, "RefreshHit from cloudfront", b"/rv")
    assert origin.conditional["/rv"] == 1
    answers, served = serve.spread("/rv")
    assert {(a["X-Cache"], a["Age"]) for a in answers} == {("Hit from cloudfront", "0")}
    assert all(n > 0 for n in served), served
    assert origin.seen["/rv"] == 2
    # Expired again, and the origin fails: every worker serves the stale copy.
    serve.admin_json("/clock", {"advance_ms": 11_000})
    origin.failing = True
    try:
        answers, served = serve.spread("/rv")
    finally:
        origin.failing = False
    assert {(a["X-Cache"], a["Age"]) for a in answers} == {("RefreshHit from cloudfront", "11")}
    assert all(n > 0 for n in served), served


def test_lru_eviction_over_the_budget_counts_once_across_workers(
    serve: Serve, origin: Origin
) -> None:
    client = ControlPlaneClient(serve.admin)
    client.invalidate_cache(["/*"])  # an empty cache: the other tests' objects are not in play
    evictions = serve.admin_json("/status")["cache"]["evictions"]
    for path in ("/e1", "/e2", "/e3"):
        assert serve.get(path)[1]["X-Cache"] == "Miss from cloudfront"
    answers, served = serve.spread("/e1")  # /e1 used again, through both workers
    assert x_cache(answers) == {"Hit from cloudfront"}
    assert all(n > 0 for n in served), served
    assert serve.get("/e4")[1]["X-Cache"] == "Miss from cloudfront"  # over the 1 MiB budget
    cache = serve.admin_json("/status")["cache"]
    assert cache["evictions"] == evictions + 1
    assert cache["entries"] == 3
    assert cache["memory_used_bytes"] <= cache["memory_limit_bytes"] == 1_048_576
    # /e2 was the least recently used of all the workers' uses: it went, the others stay.
    assert serve.get("/e1")[1]["X-Cache"] == "Hit from cloudfront"
    assert serve.get("/e3")[1]["X-Cache"] == "Hit from cloudfront"
    assert serve.get("/e2")[1]["X-Cache"] == "Miss from cloudfront"


def test_stopping_serve_removes_the_shared_cache(serve: Serve) -> None:
    # An admin answer: serve's loop is past its start-up (its SIGTERM handler is set then;
    # under pytest-xdist this test may get a serve of its own, just started).
    serve.admin_json("/status")
    pid = serve.process.pid
    directories = _shared_directories(pid)
    assert len(directories) == 1, directories
    serve.process.terminate()
    assert serve.process.wait(30) == 0, serve.log.read_text()
    assert "Traceback" not in serve.log.read_text()
    assert not directories[0].exists()


def _shared_directories(pid: int) -> list[Path]:
    """The shared cache's directory, from the control process's open files (Linux)."""
    fds = Path(f"/proc/{pid}/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc")
    found = set()
    for fd in fds.iterdir():
        try:
            target = Path(fd.readlink())
        except OSError:
            continue
        if target.name.startswith("cache.sqlite3") and target.parent.name.startswith(
            "edgesim-shared-cache-"
        ):
            found.add(target.parent)
    return sorted(found)
