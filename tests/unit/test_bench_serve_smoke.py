"""benchmarks/serve.py runs end to end and prints issue 12's table (no timing is asserted).

The whole script runs once with tiny settings (our load generator, 100 requests a run, one round);
the pieces it relies on are checked on their own: the load generator's response framing (chunked,
Content-Length, connection close), the CPU count of a process tree that includes a child, and the
wrk report when wrk is installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"


def bench_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def rows(output: str) -> dict[str, list[str]]:
    """The markdown table's rows by target name (cells stripped)."""
    found = {}
    for line in output.splitlines():
        if line.startswith("| ") and not line.startswith("| target"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            found[cells[0]] = cells
    return found


# A stand-in for the miniflare module (the real one is never installed by the benchmark): it runs
# the Worker source it is given in Node with an in-memory KV namespace behind a plain HTTP server,
# so that the benchmark's Miniflare plumbing (detection, launcher, KV seeding, the row) is run.
MINIFLARE_STAND_IN = """
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

class Miniflare {
  constructor(options) {
    this.options = options;
    this.kv = new Map();
    this.ready = this.start();
  }
  async start() {
    const { host, port, script, bindings, kvNamespaces } = this.options;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mf-')), 'worker.mjs');
    fs.writeFileSync(file, script);
    const worker = (await import(pathToFileURL(file).href)).default;
    const env = { ...bindings };
    for (const name of kvNamespaces) {
      env[name] = { get: async (key, opts) => {
        const value = this.kv.get(key);
        return value === undefined ? null : opts && opts.type === 'json' ? JSON.parse(value) : value;
      } };
    }
    this.server = http.createServer(async (req, res) => {
      const headers = { ...req.headers };
      delete headers.host;
      const request = new Request(`http://${host}:${port}${req.url}`, { headers });
      const answer = await worker.fetch(request, env);
      const body = Buffer.from(await answer.arrayBuffer());
      const out = { 'content-length': body.length };
      answer.headers.forEach((value, name) => {
        if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(name)) {
          out[name] = value;
        }
      });
      res.writeHead(answer.status, out);
      res.end(body);
    });
    await new Promise((done) => this.server.listen(port, host, done));
    return new URL(`http://${host}:${port}/`);
  }
  async getKVNamespace(name) {
    return { put: async (key, value) => { this.kv.set(key, value); } };
  }
  async dispose() {
    this.server.close();
  }
}
module.exports = { Miniflare };
"""


def test_serve_benchmark_prints_the_table_with_every_row(tmp_path: Path) -> None:
    argv = [sys.executable, str(BENCH / "serve.py"), "--loadgen", "python", "--requests", "100",
            "--rounds", "1", "--connections", "4", "--reload-saves", "2", "--transfer-mb", "1",
            "--workers", "2"]  # fmt: skip
    env = dict(os.environ)
    if shutil.which("node"):  # the Miniflare row is measured with the stand-in
        stand_in = tmp_path / "node_modules" / "miniflare"
        stand_in.mkdir(parents=True)
        (stand_in / "index.js").write_text(MINIFLARE_STAND_IN)
        env["NODE_PATH"] = str(tmp_path / "node_modules")
    bench = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env
    )
    try:
        out, err = bench.communicate(timeout=600)
    finally:
        if bench.poll() is None:  # SIGTERM lets the script stop the servers it started
            bench.terminate()
            bench.communicate(timeout=60)
    assert bench.returncode == 0, out + err
    assert "load generator: ours" in out
    table = rows(out)
    names = list(table)
    bare = next(n for n in names if n.startswith("bare aiohttp reverse proxy"))
    assert names[0] == bare
    miniflare = next(n for n in names if n.startswith("miniflare 4 (workerd)"))
    measured = ["edgesim serve, no function", "edgesim serve, A/B function",
                "edgesim serve, cache hit"]  # fmt: skip
    if shutil.which("node"):
        measured.append(miniflare)
        assert "≥ 2× miniflare: " in table["edgesim serve, A/B function"][7]
        assert "≥ 2× miniflare: n/a" not in table["edgesim serve, A/B function"][7]
    for name in measured:
        assert name in table, out
        cells = table[name]
        assert re.fullmatch(r"[\d,]+", cells[1]), cells  # req/s
        assert re.fullmatch(r"[\d,]+", cells[2]), cells  # CPU µs/request
        assert re.fullmatch(r"-?[\d.]+ / -?[\d.]+ ms", cells[3]), cells  # added latency
    # The ratio columns are relative to the bare proxy, so its own row is exactly 1.
    assert table[bare][4:6] == ["1.00", "1.00"]
    assert "req/s ≥ 80%" in table["edgesim serve, no function"][7]
    # Optional rows: measured when serve has --workers, else marked (never missing).
    for name in (
        "edgesim serve --workers 2, no function",
        "edgesim serve --workers 2, A/B function",
    ):
        assert name in table, out
        assert "did not start" in table[name][1] or "vs one worker" in table[name][7], table[name]
    assert "req/s ≥ 50%" in table["edgesim serve, A/B function"][7]
    assert "errors!" not in out
    assert re.search(r"a function's cost in serve: -?\d+ µs .* invoked directly .*: \d+ µs", out)
    assert re.search(r"serve's resident memory: \d+ MB before the rounds, \d+ MB after", out)
    assert re.search(r"hot reload, save → new code serving: p50 \d+ ms, p95 \d+ ms \(2 saves", out)
    assert "upload, streamed to the origin" in out


def test_the_load_generator_reads_every_framing() -> None:
    load = bench_module("_load")
    answers = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n1\r\nc\r\n0\r\n\r\n"
        b"HTTP/1.1 204 No Content\r\n\r\n"
        b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        b"HTTP/1.1 200 OK\r\n\r\nuntil the end"
    )

    async def read_all() -> list[tuple[int, bool]]:
        reader = asyncio.StreamReader()
        reader.feed_data(answers)
        reader.feed_eof()
        return [await load._answer(reader) for _ in range(5)]

    assert asyncio.run(read_all()) == [
        (200, False),
        (200, False),
        (204, False),
        (503, True),
        (200, True),
    ]


def test_cpu_of_a_process_tree_counts_its_children(tmp_path: Path) -> None:
    procs = bench_module("_procs")
    # A parent that idles while its child spends about 0.5 s of CPU, then both wait.
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import time\\nstart = time.process_time()\\n"
        'while time.process_time() - start < 0.5: pass\\nprint("burnt", flush=True)\\n'
        "time.sleep(60)'])\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    server = procs.Server("burner", [sys.executable, "-c", script], tmp_path / "log")
    try:
        server.wait_for("burnt")
        assert len(procs.descendants(server.proc.pid)) == 2
        assert server.cpu_seconds() >= 0.45  # the child's CPU, not only the idle parent's
    finally:
        server.stop()
    assert server.proc.poll() is not None


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_report_is_read(tmp_path: Path) -> None:
    procs, load = bench_module("_procs"), bench_module("_load")
    origin = procs.Server("origin", [sys.executable, str(BENCH / "_origin.py")], tmp_path / "log")
    try:
        url = origin.wait_for(r"origin: (\S+)").group(1)
        result = load.run(url + "/x", loadgen="wrk", connections=2, duration=1)
    finally:
        origin.stop()
    assert result.requests > 0
    assert result.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms


NODE_WORKER_RUN = """
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const [cjs, dir, config, uids] = process.argv.slice(1);
const file = path.join(dir, 'worker.mjs');
fs.writeFileSync(file, require(cjs).WORKER);
import(pathToFileURL(file).href).then(async (worker) => {
  const env = {
    ORIGIN: 'http://origin.test',
    CONFIG: { get: async (key, opts) => (key === 'ab:config' && opts.type === 'json'
                                         ? JSON.parse(config) : null) },
  };
  globalThis.fetch = async (url, init) => ({
    url, variant: init.headers.get('x-ab-variant'), bucket: init.headers.get('x-ab-bucket'),
    stripped: init.headers.get('x-ab-stripped'),
  });
  const out = [];
  for (const uid of JSON.parse(uids)) {
    const request = new Request('http://edge.test/shop/item/42?id=42&utm_source=n&UTM_x=1',
                                { headers: { cookie: 'theme=dark; uid=' + uid } });
    out.push(await worker.default.fetch(request, env));
  }
  console.log(JSON.stringify(out));
});
"""


@pytest.mark.node
def test_the_miniflare_worker_routes_as_the_ab_router_function(tmp_path: Path) -> None:
    """The Miniflare row runs "the same logic": for each uid, the same variant, bucket, path and
    stripped query as benchmarks/functions/ab_router.js run by edgesim's runtime."""
    from edgesim.kvs.reader import StaticKvs
    from edgesim.runtime.event import build_event
    from edgesim.runtime.function import LoadedFunction
    from edgesim.runtime.source import read_function

    sys.path.insert(0, str(BENCH))
    serve = bench_module("serve")
    config = json.dumps(serve.AB_CONFIG)
    uids = [f"u-{n:04x}" for n in range(0, 4000, 97)] + ["", "x" * 64]
    node = subprocess.run(
        ["node", "-e", NODE_WORKER_RUN, "--", str(BENCH / "_miniflare.cjs"), str(tmp_path),
         config, json.dumps(uids)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    worker = json.loads(node.stdout)
    function = LoadedFunction(read_function(serve.AB_ROUTER), kvs=StaticKvs({"ab:config": config}))
    variants = set()
    for uid, routed in zip(uids, worker, strict=True):
        raw = {"context": {"eventType": "viewer-request"}, "request": {
            "method": "GET", "uri": "/shop/item/42", "headers": {},
            "querystring": {"id": {"value": "42"}, "utm_source": {"value": "n"},
                            "UTM_x": {"value": "1"}},
            "cookies": {"theme": {"value": "dark"}, "uid": {"value": uid}}}}  # fmt: skip
        request = function.invoke(build_event(raw)).request
        assert request is not None
        headers = request["headers"]
        if not uid:  # no uid: both pass the request through untouched
            assert routed == {"url": "http://origin.test/shop/item/42?id=42&utm_source=n&UTM_x=1",
                              "variant": None, "bucket": None, "stripped": None}  # fmt: skip
            assert "x-ab-variant" not in headers
            continue
        assert routed["url"] == f"http://origin.test{request['uri']}?id=42"
        assert list(request["querystring"]) == ["id"]
        assert routed["variant"] == headers["x-ab-variant"]["value"]
        assert routed["bucket"] == headers["x-ab-bucket"]["value"]
        assert routed["stripped"] == headers["x-ab-stripped"]["value"] == "2"
        variants.add(routed["variant"])
    assert variants == {"blue", "green"}
