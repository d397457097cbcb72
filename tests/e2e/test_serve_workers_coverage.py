"""``EDGESIM_COVERAGE=lcov:… edgesim serve --workers 2``: the function code the workers ran is in
the report the control process writes when serve stops — every request counted once, whichever
worker served it (issue 12; docs/workers.md)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.test_serve_workers import SPREAD, Serve

FUNCTION = """function handler(event) {
  var side = event.request.querystring.side;
  if (side && side.value === 'left') {
    return { statusCode: 200, statusDescription: 'OK', headers: { 'x-side': { value: 'left' } } };
  }
  return { statusCode: 200, statusDescription: 'OK', headers: { 'x-side': { value: 'right' } } };
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
url = "http://app.example"

[[functions]]
name = "sides"
file = "sides.js"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "sides"

[edges]
pops = ["IAD"]
"""


def test_the_workers_function_coverage_reaches_the_report(tmp_path: Path) -> None:
    (tmp_path / "edgesim.toml").write_text(CONFIG)
    (tmp_path / "sides.js").write_text(FUNCTION)
    argv = [sys.executable, "-m", "edgesim", "serve", "--workers", "2", "--log-format", "text"]
    env = {**os.environ, "EDGESIM_COVERAGE": "lcov:serve.lcov"}
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=out, stderr=out)
    try:
        text = ""
        deadline = time.monotonic() + 90  # two workers start on a shared, busy machine
        while "event loop:" not in text:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, text
            time.sleep(0.1)
            text = log.read_text()
        viewer = re.search(r"viewers: (http://127\.0\.0\.1:\d+)", text)
        admin = re.search(r"admin \(KVS API, /status, /metrics\): (http://127\.0\.0\.1:\d+)", text)
        assert viewer is not None, text
        assert admin is not None, text
        serve = Serve(process, log, tmp_path, viewer.group(1), admin.group(1))
        left, served_left = serve.spread("/?side=left")
        right, served_right = serve.spread("/?side=right")
        assert {a["X-Side"] for a in left} == {"left"}
        assert {a["X-Side"] for a in right} == {"right"}
        served = [a + b for a, b in zip(served_left, served_right, strict=True)]
        assert all(n > 0 for n in served), served  # both workers ran the function
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    report = (tmp_path / "serve.lcov").read_text()
    hits = {int(n): int(c) for n, c in re.findall(r"^DA:(\d+),(\d+)$", report, re.M)}
    assert hits[2] == 2 * SPREAD  # every request, from both workers
    assert hits[4] == SPREAD  # the left branch
    assert hits[6] == SPREAD  # the right one
    assert "Traceback" not in log.read_text()
