"""The plugin's fixtures under pytest-xdist (issue 12): a user's small suite run with ``-n 2``.

Each run is a real ``pytest -n 2`` in a subprocess, in a project made here whose config asks for
everything that would clash between workers: fixed ports, a state directory, an access log, KVS
state on disk. The inner tests record what their servers used (JSON files outside the project),
and the project must come out of the run byte for byte as it went in.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

# The project's edgesim.toml: what a developer writes for `edgesim serve`, plus `{origin}`.
CONFIG = """
[server]
port = 8080
admin_port = 8081
https_port = 8443
state_dir = ".edgesim"
ephemeral = false
access_log = "access.log"

[[origins]]
id = "app"
url = "{origin}"

[[kvs]]
name = "flags"
data = "kvs/flags.json"

[[functions]]
name = "greet"
file = "functions/greet.js"
kvs = "flags"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "greet"

[edges]
pops = ["IAD", "FRA"]
propagation = { model = "fixed", lag_ms = 1000 }
"""

GREET_JS = """
import cf from 'cloudfront';

const kvs = cf.kvs();

async function handler(event) {
  if (!event.request.uri.startsWith('/hello')) {
    return event.request;
  }
  const greeting = await kvs.get('greeting').catch(() => 'nobody home');
  return { statusCode: 200, statusDescription: 'OK', body: greeting };
}
"""

CONFTEST = '''
import json
import os
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

RESULTS = Path(os.environ["EDGESIM_XDIST_RESULTS"])


@pytest.fixture
async def origin():
    async def echo(request):
        return web.Response(text="origin " + request.path)

    app = web.Application()
    app.router.add_get("/{tail:.*}", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture
def record(request):
    """Write down what a server used, for the outer test to compare across workers."""

    def write(edge):
        access = edge.access_log.read_text() if edge.access_log else ""
        facts = {
            "test": request.node.name,
            "worker": os.environ.get("PYTEST_XDIST_WORKER"),
            "ports": [edge.server.viewer_port, edge.server.admin_port, edge.server.https_port],
            "state_dir": str(edge.state_dir),
            "access_log": str(edge.access_log),
            "access": [line for line in access.splitlines() if not line.startswith("#")],
        }
        (RESULTS / f"{request.node.name}.json").write_text(json.dumps(facts))

    return write


async def get(url):
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()
'''

SUITE = """
from pathlib import Path

import pytest
from hypothesis import given, settings

from conftest import get
from edgesim import strategies as es

CONFIG = Path("edgesim.toml")  # relative to the rootdir


@pytest.mark.parametrize("n", range(4))
async def test_function_reads_the_kvs_through_serve(edgesim_server, origin, record, n):
    edge = await edgesim_server(CONFIG, origin=origin)
    assert await get(edge.url + "/hello") == (200, "hello")
    assert await get(edge.url + f"/page/{n}") == (200, f"origin /page/{n}")
    etag = edge.kvs.describe("flags").etag
    edge.kvs.put_key("flags", "greeting", f"hi {n}", if_match=etag)
    assert await get(edge.url + "/hello") == (200, "hello")  # not landed yet
    edge.settle()
    assert await get(edge.url + "/hello") == (200, f"hi {n}")
    record(edge)


def test_store_lands_as_the_clock_moves(edgesim_kvs):
    kvs = edgesim_kvs("kvs/flags.json", pops=("IAD", "FRA"), lag={"FRA": 1})
    kvs.put("greeting", "bonjour")
    kvs.advance(0.5)
    assert [kvs.replica(pop).get("greeting") for pop in kvs.pops] == ["bonjour", "hello"]
    kvs.settle()
    assert kvs.replica("FRA").get("greeting") == "bonjour"


def test_every_viewer_is_greeted(edgesim_load):
    fn = edgesim_load("functions/greet.js", kvs="kvs/flags.json")

    @settings(max_examples=20, database=None, deadline=None)
    @given(es.viewer_requests(uri="/hello"))
    def check(event):
        result = fn.run(event)
        assert result.response["statusCode"] == 200
        assert result.response["body"]["data"] == "hello"

    check()
"""

# Two tests on two workers at once, from the same config file: each waits for the other at two
# points, so both servers are up together and both wrote before either reads.
SAME_CONFIG = """
import asyncio
import os
from pathlib import Path

import pytest

from conftest import get

BARRIER = Path(os.environ["EDGESIM_XDIST_BARRIER"])


async def meet(me, other, step):
    (BARRIER / f"{step}-{me}").touch()
    for _ in range(1200):
        if (BARRIER / f"{step}-{other}").exists():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"{me}: {other} never reached {step!r}: the two tests did not run at once")


async def same_config(edgesim_server, origin, record, me, other):
    edge = await edgesim_server(Path("edgesim.toml"), origin=origin)
    await meet(me, other, "started")
    edge.kvs.put_key("flags", "greeting", f"from {me}", if_match=edge.kvs.describe("flags").etag)
    edge.settle()
    await meet(me, other, "written")
    assert await get(edge.url + f"/hello?who={me}") == (200, f"from {me}")
    record(edge)
    await meet(me, other, "recorded")  # both servers stay up until both have looked


async def test_a(edgesim_server, origin, record):
    await same_config(edgesim_server, origin, record, "a", "b")


async def test_b(edgesim_server, origin, record):
    await same_config(edgesim_server, origin, record, "b", "a")
"""

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


# Where pytester.run itself keeps the run's output, in the project directory.
PYTESTER_FILES = {"stdout", "stderr"}


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` but pytester's own: a file's bytes, None for a directory."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
        if path.relative_to(root).as_posix() not in PYTESTER_FILES
    }


@pytest.fixture
def project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST)
    (pytester.path / "edgesim.toml").write_text(CONFIG)
    (pytester.path / "functions").mkdir()
    (pytester.path / "functions" / "greet.js").write_text(GREET_JS)
    (pytester.path / "kvs").mkdir()
    (pytester.path / "kvs" / "flags.json").write_text(
        json.dumps({"data": [{"key": "greeting", "value": "hello"}]})
    )
    # What Python and pytest themselves would write into a project is turned off, so that
    # anything new in it after a run was written by the fixtures.
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(tmp_path / "hypothesis"))
    # The outer run may itself be an xdist worker: the inner run must not inherit that.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    return pytester


def run_parallel(
    project: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[pytest.RunResult, dict[str, dict[str, Any]]]:
    """``pytest -n 2`` in the project; the results the inner tests recorded, by test name."""
    results = tmp_path / "results"
    barrier = tmp_path / "barrier"
    results.mkdir()
    barrier.mkdir()
    monkeypatch.setenv("EDGESIM_XDIST_RESULTS", str(results))
    monkeypatch.setenv("EDGESIM_XDIST_BARRIER", str(barrier))
    before = snapshot(project.path)
    # pytester.run rather than runpytest_subprocess, which makes its basetemp inside the project.
    result = project.run(
        sys.executable,
        "-m",
        "pytest",
        "-n",
        "2",
        "-p",
        "no:cacheprovider",
        f"--basetemp={tmp_path / 'basetemp'}",
        timeout=300,
    )
    assert snapshot(project.path) == before, "the run wrote into the project directory"
    recorded = {p.stem: json.loads(p.read_text()) for p in results.glob("*.json")}
    return result, recorded


def under_worker_basetemp(facts: dict[str, Any], tmp_path: Path) -> bool:
    """The server's state (and access log) are in its own worker's temporary directory."""
    worker_dir = tmp_path / "basetemp" / f"popen-{facts['worker']}"
    state = Path(facts["state_dir"])
    return state.is_relative_to(worker_dir) and Path(facts["access_log"]).parent == state


def test_a_suite_runs_under_xdist(
    project: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(test_suite=SUITE)
    result, recorded = run_parallel(project, tmp_path, monkeypatch)
    result.assert_outcomes(passed=6)
    assert set(recorded) == {f"test_function_reads_the_kvs_through_serve[{n}]" for n in range(4)}
    assert {facts["worker"] for facts in recorded.values()} == {"gw0", "gw1"}
    for facts in recorded.values():
        assert not {8080, 8081, 8443} & set(facts["ports"])
        assert under_worker_basetemp(facts, tmp_path), facts
    # One state directory per server, never reused by another test.
    assert len({facts["state_dir"] for facts in recorded.values()}) == 4


def test_two_workers_serve_the_same_config_file_at_once(
    project: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two tests, two workers: xdist hands them out one each (fewer tests than twice the workers
    # go round-robin); if it did not, the barrier in the tests says so.
    project.makepyfile(test_same_config=SAME_CONFIG)
    result, recorded = run_parallel(project, tmp_path, monkeypatch)
    result.assert_outcomes(passed=2)
    a, b = recorded["test_a"], recorded["test_b"]
    assert {a["worker"], b["worker"]} == {"gw0", "gw1"}
    # Both servers were up at once, so their ports are necessarily different.
    assert not set(a["ports"]) & set(b["ports"])
    for me, facts in (("a", a), ("b", b)):
        assert under_worker_basetemp(facts, tmp_path), facts
        # Each server's access log holds its own request and nothing of the other's.
        requests = facts["access"]
        assert len(requests) == 1, requests
        assert f"who={me}" in requests[0]
