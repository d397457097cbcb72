"""EDGESIM_COVERAGE: a real `edgesim serve` records the coverage of the functions it runs and
writes the reports when it is stopped (SIGTERM, as docker stop sends it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CONFIG = """
[server]
port = 0
admin_port = 0
https = false
ephemeral = true

[[origins]]
id = "app"
url = "http://127.0.0.1:9"

[[functions]]
name = "hello"
file = "hello.js"

[default_behavior]
origin = "app"
viewer_request = "hello"
"""
FUNCTION = """\
function handler(event) {
  if (event.request.uri === '/secret') {
    return { statusCode: 403, statusDescription: 'Forbidden' };
  }
  return { statusCode: 200, statusDescription: 'OK', body: 'hello' };
}
"""


def test_serve_writes_the_reports_when_it_stops(tmp_path: Path) -> None:
    (tmp_path / "edgesim.toml").write_text(CONFIG)
    (tmp_path / "hello.js").write_text(FUNCTION)
    env = {**os.environ, "EDGESIM_COVERAGE": "term-missing,lcov:out/serve.lcov"}
    argv = [sys.executable, "-m", "edgesim", "serve", "--no-reload"]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        text = ""
        deadline = time.monotonic() + 60
        while (port := re.search(r"viewers: http://127\.0\.0\.1:(\d+)", text)) is None:
            assert serve.poll() is None, log.read_text()
            assert time.monotonic() < deadline, text
            time.sleep(0.1)
            text = log.read_text()
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for _ in range(3):
            with direct.open(f"http://127.0.0.1:{port.group(1)}/x", timeout=10) as answer:
                assert answer.read() == b"hello"
        serve.terminate()
        assert serve.wait(20) == 0, log.read_text()
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait(10)
    trace = (tmp_path / "out" / "serve.lcov").read_text()
    assert "SF:hello.js" in trace
    assert "DA:2,3" in trace  # the `if` ran for every request
    assert "DA:3,0" in trace  # and never took the /secret path
    assert "BRDA:2,0,0,0" in trace
    assert "BRDA:2,0,1,3" in trace
    assert re.search(r"hello\.js +3 +1 +2 +1 +60% +3, 2:if then", log.read_text())
