"""The migration check's dry pipeline against ``serve``: traffic recorded through a real serve
whose default behaviour runs an origin-request lambda, then run through the dry pipeline's
current version, gives exactly the requests the origin received (and the responses the lambda
generated); and the lambda swapped for an equivalent function changes none of them. Skipped
where Node.js is missing."""

from __future__ import annotations

import asyncio
import random
import shutil
from pathlib import Path

import pytest

from edgesim.devloop.recorder import TrafficRecorder
from edgesim.distribution.config import load_config
from edgesim.edge.event_codec import function_host
from edgesim.rehearse.dry_pipeline import DryVersion, grouped
from edgesim.rehearse.swap import rehearse_swap
from edgesim.rehearse.traffic import OriginStub, read_traffic
from tests.e2e.conftest import StartEdge

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[lambdas]]
name = "rewrite"
file = "rewrite.js"

[[functions]]
name = "rewrite-fn"
file = "rewrite_fn.js"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"
origin_request = "rewrite"

[edges]
pops = ["IAD", "FRA"]
"""

REWRITE_JS = """
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri === '/gone') {
    return { status: '301', statusDescription: 'Moved Permanently',
             headers: { location: [{ key: 'Location', value: '/here' }] } };
  }
  if (request.uri.startsWith('/v1/')) request.uri = '/v2/' + request.uri.slice(4);
  request.headers['x-migrated'] = [{ key: 'X-Migrated', value: 'yes' }];
  return request;
};
"""
REWRITE_FN = """
function handler(event) {
  var request = event.request;
  if (request.uri === '/gone') {
    return { statusCode: 301, statusDescription: 'Moved Permanently',
             headers: { location: { value: '/here' } } };
  }
  if (request.uri.startsWith('/v1/')) request.uri = '/v2/' + request.uri.slice(4);
  request.headers['x-migrated'] = { value: 'yes' };
  return request;
}
"""
# What the HTTP client and server add or spell on the wire, not CloudFront's doing.
_TRANSPORT = frozenset({"content-length", "connection", "x-amz-cf-id"})


async def test_the_dry_pipeline_sends_what_serve_sent(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    edge = await start_edge(CONFIG, files={"rewrite.js": REWRITE_JS, "rewrite_fn.js": REWRITE_FN})
    recording = tmp_path / "traffic.jsonl"
    recorder = TrafficRecorder(recording)
    edge.server.proxy.observers.append(recorder)
    rng = random.Random(11)
    statuses = []
    for i in range(24):
        path = rng.choice(["/", "/v1/users", "/v2/x", "/gone", "/docs/a"])
        query = rng.choice(["", "?a=1&b=2", "?q=x%20y"])
        headers = {"X-Edgesim-Pop": rng.choice(["IAD", "FRA"]), "Accept-Language": "de"}
        if i % 3:
            headers["Cookie"] = f"uid=u{i}; theme=dark"
        status, _, _ = await edge.get(path + query, **headers)
        statuses.append(status)
    await recorder.aclose()
    records = read_traffic(recording)
    assert len(records) == 24

    dist = load_config(edge.config)
    version = DryVersion("current", dist, OriginStub(200, []))
    try:
        outcomes = [await version.run(r, f"check-{i}") for i, r in enumerate(records)]
    finally:
        await version.close()
    seen = iter(edge.origin.seen)
    for record, outcome, status in zip(records, outcomes, statuses, strict=True):
        assert outcome.status == status
        if record.uri == "/gone":
            assert outcome.kind == "generated"
            assert dict(outcome.headers)["location"] == ("/here",)
            continue
        call = outcome.origin_call
        assert call is not None
        got = next(seen)
        assert (call.method, call.target) == (got["method"], got["path_qs"])
        wire = [
            (n, function_host(v) if n == "host" else v)
            for n, v in got["headers"].items()
            if n not in _TRANSPORT | {"cookie"}
        ]
        assert call.headers == grouped(wire), record.target
        cookies = sorted(c.strip() for c in got["headers"].get("cookie", "").split(";") if c)
        assert list(call.cookies) == cookies
    assert next(seen, None) is None

    # The equivalent function in the lambda's place changes nothing (the function passes the
    # Host on without serve's port: compared without it).
    report = await asyncio.to_thread(
        rehearse_swap, edge.config, "lambda:rewrite=function:rewrite-fn", traffic=recording
    )
    assert report["total"] == 24
    assert report["changed"] == 0, report["by_kind"]
