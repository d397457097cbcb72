"""``EDGESIM_COVERAGE=lcov:… edgesim serve --workers 2``: the function code the workers ran is in
the report the control process writes when serve stops — every request counted once, whichever
worker served it (issue 12; docs/workers.md)."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

from tests.e2e.workers_serve import SERVER_TOML, SPREAD, workers_serve

FUNCTION = """function handler(event) {
  var side = event.request.querystring.side;
  if (side && side.value === 'left') {
    return { statusCode: 200, statusDescription: 'OK', headers: { 'x-side': { value: 'left' } } };
  }
  return { statusCode: 200, statusDescription: 'OK', headers: { 'x-side': { value: 'right' } } };
}
"""

CONFIG = (
    SERVER_TOML
    + """
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
)


def test_the_workers_function_coverage_reaches_the_report(tmp_path: Path) -> None:
    (tmp_path / "edgesim.toml").write_text(CONFIG)
    (tmp_path / "sides.js").write_text(FUNCTION)
    env = {**os.environ, "EDGESIM_COVERAGE": "lcov:serve.lcov"}
    with workers_serve(tmp_path, env=env) as serve:
        left, served_left = serve.spread("/?side=left")
        right, served_right = serve.spread("/?side=right")
        assert {a["X-Side"] for a in left} == {"left"}
        assert {a["X-Side"] for a in right} == {"right"}
        served = [a + b for a, b in zip(served_left, served_right, strict=True)]
        assert all(n > 0 for n in served), served  # both workers ran the function
        serve.process.send_signal(signal.SIGTERM)
        assert serve.process.wait(30) == 0, serve.log.read_text()
    report = (tmp_path / "serve.lcov").read_text()
    hits = {int(n): int(c) for n, c in re.findall(r"^DA:(\d+),(\d+)$", report, re.M)}
    assert hits[2] == 2 * SPREAD  # every request, from both workers
    assert hits[4] == SPREAD  # the left branch
    assert hits[6] == SPREAD  # the right one
    assert "Traceback" not in serve.log.read_text()
