"""Lambda@Edge through ``serve``: when each of the four events runs (Developer Guide, "CloudFront
events that can trigger a Lambda@Edge function"), what CloudFront does with each kind of result,
its answers to failures, and hot reload. Skipped where Node.js is missing."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from pathlib import Path

import pytest

from edgesim.app import EdgeServer
from edgesim.distribution.config import load_config
from edgesim.errors import InputError
from tests.e2e.conftest import StartEdge

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

CONFIG = """
[lambda]
max_workers = 8  # one per lambda: module state stays in one worker (a full budget evicts idle ones)

[[origins]]
id = "app"
url = "{origin}"

[[lambdas]]
name = "gate"
file = "gate.js"

[[lambdas]]
name = "sign"
file = "sign.js"

[[lambdas]]
name = "stamp"
file = "stamp.js"

[[lambdas]]
name = "finish"
file = "finish.js"

[[behaviors]]
path = "/gen/*"
origin = "app"
origin_request = "sign"
origin_response = "stamp"

[[behaviors]]
path = "/upload*"
origin = "app"
allowed_methods = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
cache_policy = "CachingDisabled"
origin_request = { lambda = "sign", include_body = true }

[[lambdas]]
name = "shout"
file = "shout.js"

[[lambdas]]
name = "fragile"
file = "fragile.js"

[[behaviors]]
path = "/post*"
origin = "app"
allowed_methods = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"
viewer_request = { lambda = "shout", include_body = true }

[[behaviors]]
path = "/fragile/*"
origin = "app"
origin_response = "stamp"
viewer_response = "fragile"

[default_behavior]
origin = "app"
origin_request_policy = "AllViewer"
viewer_request = "gate"
origin_request = "sign"
origin_response = "stamp"
viewer_response = "finish"
"""

GATE_JS = """
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri === '/blocked') {
    return { status: '403', statusDescription: 'Forbidden', body: 'no entry',
             headers: { 'content-type': [{ value: 'text/plain' }] } };
  }
  if (request.uri === '/throw') throw new Error('gate broke');
  if (request.uri === '/bad-header') {
    request.headers['x-cache'] = [{ value: 'forged' }];
    return request;
  }
  if (request.uri.startsWith('/old/')) request.uri = '/new/' + request.uri.slice(5);
  request.headers['x-gate'] = [{ key: 'X-Gate', value: 'passed' }];
  return request;
};
"""

SIGN_JS = """
let calls = 0;
exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  calls += 1;
  if (request.uri === '/gen/made') {
    callback(null, { status: '200', body: 'made at origin request',
                     headers: { 'cache-control': [{ value: 'max-age=60' }] } });
    return;
  }
  if (request.uri === '/away') {
    request.origin = { custom: { domainName: 'elsewhere.example.com', port: 443,
      protocol: 'https', path: '', sslProtocols: ['TLSv1.2'], readTimeout: 30,
      keepaliveTimeout: 5, customHeaders: {} } };
    request.headers['host'] = [{ key: 'Host', value: 'elsewhere.example.com' }];
  }
  if (request.body && request.body.data) {
    const text = Buffer.from(request.body.data, 'base64').toString();
    request.body = { action: 'replace', encoding: 'text', data: text.toUpperCase() };
  }
  request.headers['x-call'] = [{ key: 'X-Call', value: String(calls) }];
  request.headers['x-now'] = [{ key: 'X-Now', value: String(Date.now()) }];
  request.headers['x-origin-kind'] = [{ key: 'X-Origin-Kind',
    value: Object.keys(request.origin)[0] }];
  callback(null, request);
};
"""

STAMP_JS = """
exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  if (response.status === '404') {
    return { status: '200', statusDescription: 'OK', body: 'replaced a 404',
             headers: { 'cache-control': [{ value: 'max-age=60' }],
                        'x-stamp': [{ value: 'replaced' }] } };
  }
  response.headers['x-stamp'] = [{ key: 'X-Stamp', value: 'origin-response' }];
  return response;
};
"""

FINISH_JS = """
exports.handler = async (event) => {
  const { request, response } = event.Records[0].cf;
  if (request.uri === '/new/status') { response.status = '201'; return response; }
  response.headers['x-finish'] = [{ key: 'X-Finish', value: request.uri }];
  return response;
};
"""

SHOUT_JS = """
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const text = Buffer.from(request.body.data, 'base64').toString();
  request.headers['x-seen'] = [{ value: String(text.length) + (request.body.inputTruncated ? '+' : '') }];
  if (request.uri === '/post/replace') {
    request.body = { action: 'replace', encoding: 'text', data: text.toUpperCase().repeat(3) };
  }
  return request;
};
"""

FRAGILE_JS = """
exports.handler = async () => { throw new Error('viewer response broke'); };
"""

STAMP_JS_WITH_LENGTH = STAMP_JS.replace(
    "response.headers['x-stamp']",
    "response.headers['content-length'] = [{ value: '5' }];\n  response.headers['x-stamp']",
)

FILES = {
    "gate.js": GATE_JS,
    "sign.js": SIGN_JS,
    "stamp.js": STAMP_JS_WITH_LENGTH,
    "finish.js": FINISH_JS,
    "shout.js": SHOUT_JS,
    "fragile.js": FRAGILE_JS,
}


async def test_the_four_events_run_where_cloudfront_runs_them(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files=FILES)
    status, headers, body = await edge.get("/old/page")
    assert (status, body) == (200, b"hello from origin")
    seen = edge.origin.seen[-1]
    assert seen["path_qs"] == "/new/page"  # viewer request rewrote the URI
    assert seen["headers"]["x-gate"] == "passed"
    assert seen["headers"]["x-call"] == "1"  # origin request ran on the miss
    assert seen["headers"]["x-origin-kind"] == "custom"
    assert seen["headers"]["x-amz-cf-id"]  # CloudFront's own header is still sent
    # The lambda's Date is the edge clock (a virtual one here), advancing in real time.
    edge_ms = edge.clock.wall().timestamp() * 1000
    assert abs(int(seen["headers"]["x-now"]) - edge_ms) < 60_000
    assert headers["X-Stamp"] == "origin-response"
    assert headers["X-Finish"] == "/new/page"  # viewer response saw the rewritten request
    assert headers["X-Cache"] == "Miss from cloudfront"

    status, headers, _ = await edge.get("/old/page")
    assert headers["X-Cache"] == "Hit from cloudfront"
    assert len(edge.origin.seen) == 1  # the hit ran no origin-request lambda
    assert headers["X-Stamp"] == "origin-response"  # cached as origin response left it
    assert headers["X-Finish"] == "/new/page"  # viewer response runs on hits too

    await edge.get("/old/other")
    assert edge.origin.seen[-1]["headers"]["x-call"] == "2"  # not 3: the hit did not run it

    async with edge.session.get(edge.admin + "/status") as reply:
        lambdas = (await reply.json())["lambdas"]
    assert lambdas["sign"]["version"] == 1
    assert lambdas["sign"]["last_error"] is None
    assert lambdas["sign"]["workers"]["us-east-1"] >= 1  # IAD's region
    async with edge.session.get(edge.admin + "/metrics") as reply:
        metrics = await reply.text()
    assert 'edgesim_lambda_invocations{lambda="sign",error=""} 2' in metrics


async def test_responses_generated_at_request_events(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files=FILES)
    status, headers, body = await edge.get("/blocked")
    assert (status, body) == (403, b"no entry")
    assert headers["X-Cache"] == "LambdaGeneratedResponse from cloudfront"
    assert "X-Finish" not in headers  # no viewer response for a viewer-request answer
    assert edge.origin.seen == []

    status, headers, body = await edge.get("/gen/made")
    assert (status, body) == (200, b"made at origin request")
    assert headers["X-Cache"] == "LambdaGeneratedResponse from cloudfront"
    assert "X-Stamp" not in headers  # origin response does not run for it
    status, headers, body = await edge.get("/gen/made")
    assert headers["X-Cache"] == "Hit from cloudfront"  # cached per the behaviour
    assert body == b"made at origin request"
    assert edge.origin.seen == []


async def test_origin_response_may_replace_an_error_before_caching(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(CONFIG, files=FILES)
    status, headers, body = await edge.get("/status/404")
    assert (status, body) == (200, b"replaced a 404")
    assert headers["X-Stamp"] == "replaced"
    assert headers["X-Finish"] == "/status/404"  # the status viewer response sees is 200
    status, headers, body = await edge.get("/status/404")
    assert headers["X-Cache"] == "Hit from cloudfront"
    assert body == b"replaced a 404"
    assert len(edge.origin.seen) == 1

    status, headers, _ = await edge.get("/status/500")
    assert status == 500
    assert headers["X-Stamp"] == "origin-response"  # runs on origin errors too
    assert "X-Finish" not in headers  # viewer response does not run for status >= 400


async def test_failures_get_cloudfronts_answers(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files=FILES, server="debug_headers = true\n")
    status, headers, body = await edge.get("/throw")
    assert status == 503
    assert headers["X-Cache"] == "LambdaExecutionError from cloudfront"
    assert b"The Lambda function associated with the CloudFront distribution" in body
    assert "lambda gate (viewer-request)" in headers["x-edgesim-error"]
    assert "gate broke" in headers["x-edgesim-error"]

    status, headers, _ = await edge.get("/bad-header")
    assert status == 502
    assert headers["X-Cache"] == "LambdaValidationError from cloudfront"
    assert "disallowed-header" in headers["x-edgesim-error"]

    status, headers, _ = await edge.get("/old/status")
    assert status == 502  # a viewer-response lambda may not change the status
    assert "status-changed" in headers["x-edgesim-error"]

    status, headers, _ = await edge.get("/away")
    assert status == 502  # an origin nothing maps is never reached
    assert "elsewhere.example.com" in headers["x-edgesim-error"]
    assert edge.origin.seen == [] or all(s["path_qs"] != "/away" for s in edge.origin.seen)


async def test_include_body_shows_and_replaces_the_body(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files=FILES)
    status, _, _ = await edge.get("/upload", method="POST", data=b"quiet words")
    assert status == 200
    seen = edge.origin.seen[-1]
    assert seen["body_len"] == len(b"QUIET WORDS")
    assert seen["headers"]["content-length"] == str(len(b"QUIET WORDS"))


async def test_a_body_read_or_replaced_at_viewer_request_reaches_the_origin_whole(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(CONFIG, files=FILES)
    status, _, _ = await edge.get("/post/replace", method="POST", data=b"ab")
    assert status == 200
    seen = edge.origin.seen[-1]
    assert seen["headers"]["x-seen"] == "2"
    assert seen["body_len"] == 6  # "ABABAB", not the viewer's two bytes
    assert seen["headers"]["content-length"] == "6"
    big = bytes(range(256)) * 8_192  # 2 MiB: over aiohttp's own limit, under CloudFront's
    status, _, _ = await edge.get("/post/read", method="POST", data=io.BytesIO(big))
    assert status == 200
    seen = edge.origin.seen[-1]
    assert seen["headers"]["x-seen"].endswith("+")  # the function saw 40 KB, truncated
    assert seen["body_len"] == len(big)  # the origin got all of it


async def test_a_failing_viewer_response_still_lets_the_miss_be_cached(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(CONFIG, files=FILES)
    for _ in range(3):
        status, headers, _ = await edge.get("/fragile/a")
        assert status == 503
        assert headers["X-Cache"] == "LambdaExecutionError from cloudfront"
    assert len(edge.origin.seen) == 1  # cached after origin response, before viewer response


async def test_a_content_length_from_the_function_never_cuts_the_body(
    start_edge: StartEdge,
) -> None:
    edge = await start_edge(CONFIG, files=FILES)
    status, headers, body = await edge.get("/gen/whole")
    assert (status, body) == (200, b"hello from origin")
    assert headers.getall("Content-Length") == [str(len(b"hello from origin"))]


async def test_a_module_that_does_not_load_stops_serve(tmp_path: Path) -> None:
    files = dict(FILES, **{"sign.js": "exports.other = async () => null;\n"})
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    config = tmp_path / "edgesim.toml"
    config.write_text(
        "[server]\nport = 0\nadmin_port = 0\nhttps = false\nephemeral = true\n"
        + CONFIG.replace("{origin}", "http://127.0.0.1:9")
    )
    server = EdgeServer(load_config(config), stream=io.StringIO())
    try:
        with pytest.raises(InputError, match=r"lambda sign .*Runtime.HandlerNotFound"):
            await server.start()
    finally:
        await server.stop()


async def test_hot_reload_keeps_the_last_good_version(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files=FILES)
    gate = edge.config.parent / "gate.js"
    gate.write_text(GATE_JS.replace("'passed'", "'passed v2'"))
    assert edge.server.reload_lambda_file(gate)
    await _until(lambda: edge.server.lambdas.slots["gate"].version == 2)
    await edge.get("/old/v2")
    assert edge.origin.seen[-1]["headers"]["x-gate"] == "passed v2"

    gate.write_text("exports.handler = async (event) => { syntax error here };\n")
    assert edge.server.reload_lambda_file(gate)
    await asyncio.sleep(1.0)
    await edge.get("/old/v3")
    assert edge.origin.seen[-1]["headers"]["x-gate"] == "passed v2"
    console = "\n".join(edge.server.stream.lines)  # type: ignore[attr-defined]
    assert "not reloaded: still serving the last good version" in console


async def _until(condition: object, timeout_s: float = 10.0) -> None:
    assert callable(condition)
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_stop_ends_the_workers_of_replaced_versions_too(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files=FILES)
    await edge.get("/old/first")  # the gate's first version has a worker now
    old_pids = _worker_pids(edge)
    gate = edge.config.parent / "gate.js"
    gate.write_text(GATE_JS.replace("'passed'", "'passed v2'"))
    assert edge.server.reload_lambda_file(gate)
    await _until(lambda: edge.server.lambdas.slots["gate"].version == 2)
    await edge.get("/old/second")
    pids = old_pids | _worker_pids(edge)
    assert len(pids) > len(old_pids)  # the new version runs in a new worker
    await edge.server.stop()  # well before the replaced version's retirement
    for pid in pids:
        await _until(lambda pid=pid: not _alive(pid))


def _worker_pids(edge: object) -> set[int]:
    registries = [edge.server.lambdas, *edge.server._retired]  # type: ignore[attr-defined]
    return {
        worker.pid
        for registry in registries
        for slot in registry.slots.values()
        for fn in slot.pools.values()
        for worker in fn.pool._idle
        if worker.pid is not None
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
