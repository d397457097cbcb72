"""``edgesim serve --workers 2`` as users run it (a subprocess): both workers answer viewers and
behave as one server — KVS writes land at a POP after their lag in every worker, ``POST /clock``
moves every worker's functions, a function edit reloads everywhere, the request log and metrics
count every worker's requests, each worker's cache gives Miss then Hit and is invalidated from
the admin API, a worker that dies is started again with the current state, and SIGTERM stops
everything with exit code 0 (issue 12)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import time
import urllib.request
from collections.abc import Iterator

import pytest

from edgesim.controlplane.client import ControlPlaneClient
from tests.e2e.workers_serve import SERVER_TOML, SPREAD, Serve, workers_serve

FUNCTION = """
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  let greeting;
  try { greeting = await kvs.get('greeting'); } catch (err) { greeting = 'missing'; }
  return {
    statusCode: 200,
    headers: {
      'x-now': { value: String(Date.now()) },
      'x-greeting': { value: greeting },
      'x-version': { value: 'VERSION' },
    },
  };
}
"""

CONFIG = (
    SERVER_TOML
    + """now = "2030-01-01T09:00:00Z"
frozen = true

[[origins]]
id = "app"
url = "http://app.example"

[origins_local]
app = "site"

[[kvs]]
name = "flags"
data = "flags.json"

[[functions]]
name = "fn"
file = "fn.js"
kvs = "flags"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"

[[behaviors]]
path = "/fn*"
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "fn"

[edges]
pops = ["IAD"]
propagation = { model = "fixed", lag_ms = 2000 }
"""
)
LAUNCH_MS = 1_893_488_400_000  # 2030-01-01T09:00:00Z


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    folder = tmp_path_factory.mktemp("workers")
    (folder / "site").mkdir()
    (folder / "site" / "page.html").write_text("a cached page\n")
    (folder / "edgesim.toml").write_text(CONFIG)
    (folder / "fn.js").write_text(FUNCTION.replace("VERSION", "v1"))
    (folder / "flags.json").write_text('{"data": [{"key": "greeting", "value": "hello"}]}')
    with workers_serve(folder) as running:
        yield running


def test_both_workers_answer_and_the_log_and_metrics_count_every_request(serve: Serve) -> None:
    logged_before = serve.log.read_text().count("GET /fn?count")
    status = serve.admin_json("/status")
    assert [w["alive"] for w in status["workers"]] == [True, True]
    pids = {w["pid"] for w in status["workers"]}
    assert len(pids) == 2
    assert serve.process.pid not in pids
    before = _requests_metric(serve)
    answers, served = serve.spread("/fn?count")
    assert all(a["X-Version"] == "v1" for a in answers)
    assert all(n > 0 for n in served), served
    assert sum(served) == SPREAD
    # The request log (the control process's console) and /metrics hold every worker's requests.
    assert _requests_metric(serve) - before == SPREAD
    logged = serve.log.read_text().count("GET /fn?count") - logged_before
    assert logged == SPREAD


def test_a_kvs_write_lands_after_its_lag_in_every_worker(serve: Serve) -> None:
    client = ControlPlaneClient(serve.admin)
    arn = client.store("flags")["arn"]
    value = f"written-{time.monotonic_ns()}"
    client.put_key(arn, "greeting", value, if_match=client.etag(arn))
    # The clock is frozen: the write waits for its 2 s lag in every worker.
    answers, served = serve.spread("/fn?kvs")
    assert {a["X-Greeting"] for a in answers} != {value}
    assert all(n > 0 for n in served), served
    serve.admin_json("/clock", {"advance_ms": 1999})
    answers, served = serve.spread("/fn?kvs")
    assert value not in {a["X-Greeting"] for a in answers}
    serve.admin_json("/clock", {"advance_ms": 1})
    answers, served = serve.spread("/fn?kvs")
    assert {a["X-Greeting"] for a in answers} == {value}
    assert all(n > 0 for n in served), served


def test_post_clock_moves_date_now_in_every_worker(serve: Serve) -> None:
    now = serve.admin_json("/clock", {"advance_ms": 3_600_000})["now_ms"]
    assert now >= LAUNCH_MS + 3_600_000
    answers, served = serve.spread("/fn?clock")
    assert {int(a["X-Now"]) for a in answers} == {now}
    assert all(n > 0 for n in served), served


def test_a_function_edit_reloads_in_every_worker(serve: Serve) -> None:
    (serve.folder / "fn.js").write_text(FUNCTION.replace("VERSION", "v2"))
    deadline = time.monotonic() + 30
    while serve.get("/fn?reload")[1]["X-Version"] != "v2":
        assert time.monotonic() < deadline, serve.log.read_text()
        time.sleep(0.1)
    while {w["function_versions"]["fn"] for w in serve.admin_json("/status")["workers"]} != {2}:
        assert time.monotonic() < deadline, serve.admin_json("/status")["workers"]
        time.sleep(0.05)
    answers, served = serve.spread("/fn?reload")
    assert {a["X-Version"] for a in answers} == {"v2"}
    assert all(n > 0 for n in served), served
    # A version that does not load is refused everywhere: the last good one keeps serving.
    (serve.folder / "fn.js").write_text("function handler(event) { return {")
    deadline = time.monotonic() + 30
    while "still serving the last good version" not in serve.log.read_text():
        assert time.monotonic() < deadline, serve.log.read_text()
        time.sleep(0.1)
    answers, served = serve.spread("/fn?reload")
    assert {a["X-Version"] for a in answers} == {"v2"}


def test_each_worker_caches_miss_then_hit_and_invalidation_reaches_every_worker(
    serve: Serve,
) -> None:
    host, port = serve.viewer.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)  # one worker's
    try:

        def x_cache() -> str:
            connection.request("GET", "/page.html")
            answer = connection.getresponse()
            assert answer.read() == b"a cached page\n"
            return answer.headers["X-Cache"]

        assert x_cache() == "Miss from cloudfront"
        assert x_cache() == "Hit from cloudfront"
        # The inspector's Cache view lists the workers' objects: this one, in one worker.
        view = serve.admin_json("/inspector/api/cache")
        listed = [o["path"] for pop in view["pops"] for o in pop["objects"]]
        assert listed.count("/page.html") == 1
        assert view["stats"]["per_worker"] is True
        removed = ControlPlaneClient(serve.admin).invalidate_cache(["/page.html"])
        assert removed == {"/page.html": 1}  # cached in the one worker that served it
        assert x_cache() == "Miss from cloudfront"
    finally:
        connection.close()
    assert serve.admin_json("/status")["cache"]["entries"] == 1
    assert serve.admin_json("/status")["cache"]["per_worker"] is True


def test_a_seed_file_edit_reaches_every_worker_with_its_lag(serve: Serve) -> None:
    seeded = serve.log.read_text().count("kvs flags: seeded from")
    (serve.folder / "flags.json").write_text('{"data": [{"key": "greeting", "value": "seeded"}]}')
    deadline = time.monotonic() + 30
    while serve.log.read_text().count("kvs flags: seeded from") == seeded:
        assert time.monotonic() < deadline, serve.log.read_text()
        time.sleep(0.05)
    serve.admin_json("/clock", {"advance_ms": 2000})  # after the write: it lands by then
    answers, served = serve.spread("/fn?seed")
    assert {a["X-Greeting"] for a in answers} == {"seeded"}
    assert all(n > 0 for n in served), served


def test_a_worker_that_dies_is_restarted_with_the_current_state(serve: Serve) -> None:
    # The function version serving now; then an edit the control process refuses: the worker
    # started again must load the version served, not the file.
    version = serve.get("/fn?version")[1]["X-Version"]
    refused = serve.log.read_text().count("still serving the last good version")
    (serve.folder / "fn.js").write_text(f"function handler(event) {{ return {{ // {version}")
    deadline = time.monotonic() + 30
    while serve.log.read_text().count("still serving the last good version") == refused:
        assert time.monotonic() < deadline, serve.log.read_text()
        time.sleep(0.05)
    client = ControlPlaneClient(serve.admin)
    arn = client.store("flags")["arn"]
    pending = f"pending-{time.monotonic_ns()}"
    client.put_key(arn, "greeting", pending, if_match=client.etag(arn))  # lands in 2 s
    before = serve.admin_json("/status")["workers"]
    os.kill(before[0]["pid"], signal.SIGKILL)
    # Written while worker 0 is dead or starting again: it must get this one too.
    latest = f"latest-{time.monotonic_ns()}"
    client.put_key(arn, "greeting", latest, if_match=client.etag(arn))
    # Killed again while it starts (before it listens): started once more.
    deadline = time.monotonic() + 60
    while True:
        first = serve.admin_json("/status")["workers"][0]
        if first["pid"] != before[0]["pid"] and first["starting"]:
            os.kill(first["pid"], signal.SIGKILL)
            break
        assert "worker 0 restarted" not in serve.log.read_text(), "restarted too fast to kill"
        assert time.monotonic() < deadline, serve.log.read_text()
        time.sleep(0.01)
    while "worker 0 restarted" not in serve.log.read_text():
        assert time.monotonic() < deadline, serve.log.read_text()
        time.sleep(0.05)
    text = serve.log.read_text()
    assert "exited unexpectedly" in text
    # (Killed while it starts, as a rule; if it became ready in the instant before the kill, it
    # died as a running worker does.)
    assert "did not start again" in text or text.count("exited unexpectedly") == 2
    after = serve.admin_json("/status")["workers"]
    assert [w["alive"] for w in after] == [True, True]
    assert [w["restarts"] for w in after] == [2, 0]
    assert after[0]["pid"] not in (before[0]["pid"], first["pid"])
    assert after[1]["pid"] == before[1]["pid"]
    # It serves what the other serves: the function version, the clock, the KVS (neither
    # write has landed: the clock is frozen), and both writes land at the same moment in both.
    now = serve.admin_json("/clock")["now_ms"]
    answers, served = serve.spread("/fn?restarted")
    assert all(n > 0 for n in served), served
    assert {a["X-Version"] for a in answers} == {version}  # 200s: not the refused edit
    assert {int(a["X-Now"]) for a in answers} == {now}
    assert not {a["X-Greeting"] for a in answers} & {pending, latest}
    serve.admin_json("/clock", {"advance_ms": 2000})
    answers, served = serve.spread("/fn?restarted")
    assert {a["X-Greeting"] for a in answers} == {latest}
    assert all(n > 0 for n in served), served


def test_a_reload_that_adds_a_lambda_runs_it_through_every_worker(serve: Serve) -> None:
    # The workers' invocations run in the control process's pool (workers/remote_lambdas.py):
    # a lambda a reload adds (here an auth gate) applies through every worker at once.
    config = serve.folder / "edgesim.toml"
    original = config.read_text()
    function = serve.folder / "fn.js"  # an earlier test may have left it broken: a reload with
    function_before = function.read_text()  # a function that does not load is refused
    function.write_text(FUNCTION.replace("VERSION", "v3"))
    (serve.folder / "gate.js").write_text(
        "exports.handler = async () => ({ status: '200', body: 'gated' });\n"
    )
    gated = original.replace(
        "[default_behavior]",
        '[[lambdas]]\nname = "gate"\nfile = "gate.js"\n\n[default_behavior]',
    ).replace('origin = "app"\n', 'origin = "app"\nviewer_request = "gate"\n', 1)
    try:
        deadline = time.monotonic() + 30
        while serve.get("/page.html")[2] != b"gated":
            assert time.monotonic() < deadline, serve.log.read_text()
            # Written again until applied: run first, this test may write before the file
            # watcher watches.
            config.write_text(gated)
            time.sleep(0.5)
        answers, served = serve.spread("/page.html")
        assert all(n > 0 for n in served), served
        assert {a["X-Cache"] for a in answers} == {"LambdaGeneratedResponse from cloudfront"}
    finally:
        config.write_text(original)
        deadline = time.monotonic() + 30
        while serve.get("/page.html")[2] == b"gated":  # the gate goes with its config
            assert time.monotonic() < deadline, serve.log.read_text()
            time.sleep(0.1)
        function.write_text(function_before)


def test_sigterm_stops_the_workers_then_serve_with_exit_code_0(serve: Serve) -> None:
    pids = [w["pid"] for w in serve.admin_json("/status")["workers"]]
    serve.process.send_signal(signal.SIGTERM)
    assert serve.process.wait(30) == 0, serve.log.read_text()
    assert "Traceback" not in serve.log.read_text()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _requests_metric(serve: Serve) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(serve.admin + "/metrics", timeout=20) as answer:
        text = answer.read().decode()
    return sum(int(n) for n in re.findall(r"^edgesim_requests\{[^}]*\} (\d+)$", text, re.M))
