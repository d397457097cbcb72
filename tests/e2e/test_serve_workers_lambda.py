"""Lambda@Edge with ``serve --workers 2``: every serve worker's invocations run in the control
process's one pool of Node.js workers (issue 18), so module state, the worker budget and reloads
are the same as with one process. Skipped where Node.js is missing."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.e2e.workers_serve import SERVER_TOML, workers_serve

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

CONFIG = (
    SERVER_TOML
    + """
[lambda]
max_workers = 1  # one Node.js worker for everything: its counter numbers every invocation

[[origins]]
id = "app"
url = "http://app.example"

[origins_local]
app = "site"

[[lambdas]]
name = "count"
file = "count.js"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "count"
"""
)

COUNT_JS = """
let calls = 0;
exports.handler = async () => {
  calls += 1;
  return { status: '200', body: 'VERSION', headers: { 'x-call': [{ value: String(calls) }] } };
};
"""


def test_every_worker_runs_lambdas_in_the_control_processs_one_pool(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "count.js").write_text(COUNT_JS.replace("VERSION", "v1"))
    (tmp_path / "edgesim.toml").write_text(CONFIG)
    with workers_serve(tmp_path) as serve:
        answers, served = serve.spread("/a")
        assert all(n > 0 for n in served), served  # both serve workers answered …
        calls = [int(a["X-Call"]) for a in answers]
        assert calls == sorted(calls)  # … and one module instance counted every invocation
        assert len(set(calls)) == len(calls)
        assert {a["X-Cache"] for a in answers} == {"LambdaGeneratedResponse from cloudfront"}
        # A lambda edit is loaded once, by the control process, and serves through every worker.
        (tmp_path / "count.js").write_text(COUNT_JS.replace("VERSION", "v2"))
        deadline = time.monotonic() + 30
        while serve.get("/b")[2] != b"v2":
            assert time.monotonic() < deadline, serve.log.read_text()
            time.sleep(0.1)
        answers, served = serve.spread("/c")
        assert all(n > 0 for n in served), served
        assert {serve.get("/d")[2] for _ in range(4)} == {b"v2"}
