"""What serve's functions stage costs per request around the invocation itself (issue 12).

``serve`` runs benchmarks/functions/ab_router.js (its JSON configuration read from a KVS) as a
viewer-request function; ``benchmarks/invoke_cost.py`` measures the invocation alone. This
script drives the stages of serve's pipeline in one loop, without sockets, on a running asyncio
loop, on the request ``wrk`` sends in benchmarks/serve.py, and measures each layer:

* ``admit``: the flow, POP and behaviour (``viewer.place`` and ``viewer.admit``);
* ``stage``: that plus the functions stage (``run_viewer_request``: the event built from the
  flow, the KVS snapshot, the invocation, the result applied back to the request);
* ``invoke``: the invocation alone on the event the stage builds (what invoke_cost measures);
* ``observe``: ``stage`` plus the observers of the finished flow (metrics, request log,
  the inspector's capture), the response being a small generated one.

    python benchmarks/stage_cost.py [--count N]
        CPU µs per request of each layer (median of 5 rounds of N).
    python benchmarks/stage_cost.py --callgrind [--count N] [--layers admit,stage,invoke]
        Instructions per request of each layer, under valgrind: (Ir(5N) - Ir(N)) / 4N.
    python benchmarks/stage_cost.py --opcodes [--count N] [--layers stage]
        Python bytecode instructions per request of each layer, and the 25 Python functions
        that execute the most of them (their own, not their callees'); exact, and quick.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from edgesim.app import EdgeServer  # noqa: E402
from edgesim.distribution.config import load_config  # noqa: E402
from edgesim.edge.event_codec import request_event  # noqa: E402
from edgesim.edge.flow import Flow, XCache, generated  # noqa: E402
from edgesim.edge.message import EdgeRequest  # noqa: E402
from edgesim.edge.proxy import _context_ready  # noqa: E402
from edgesim.edge.response_headers import new_request_id  # noqa: E402
from edgesim.edge.stages import functions as function_stage  # noqa: E402
from edgesim.edge.stages import viewer as viewer_stage  # noqa: E402
from edgesim.edge.viewer import edge_location_info  # noqa: E402
from edgesim.runtime.engine import JsSession  # noqa: E402
from edgesim.runtime.function import BudgetPolicy  # noqa: E402

AB_ROUTER = HERE / "functions" / "ab_router.js"
AB_CONFIG = {
    "prefix": "/shop",
    "salt": "2026-q4",
    "variants": [
        {"name": "blue", "weight": 60, "path": "/b"},
        {"name": "green", "weight": 40, "path": "/g"},
    ],
    "stripParams": "utm_",
}
PATH = "/shop/item/42"
QUERY = "id=42&utm_source=newsletter&utm_medium=email&utm_campaign=q4"
# What wrk sends in benchmarks/serve.py (Host first, as wrk writes it).
HEADERS = [
    ("host", "127.0.0.1:8080"),
    ("cookie", "uid=u-7f3a9c21; theme=dark"),
    ("accept", "text/html"),
    ("user-agent", "bench/1"),
]
CONFIG = """
[server]
port = 0
admin_port = 0
https = false
ephemeral = true

[[origins]]
id = "app"
url = "http://127.0.0.1:9"

[[kvs]]
name = "ab"
data = "ab.json"

[[functions]]
name = "ab_router"
file = "ab_router.js"
kvs = "ab"

[[behaviors]]
path = "/shop/*"
origin = "app"
viewer_request = "ab_router"
cache_policy = "CachingDisabled"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
"""
LAYERS = ("admit", "stage", "invoke", "observe")
WARMUP = 300


def build_server(folder: Path, *, slow: bool) -> EdgeServer:
    (folder / "ab_router.js").write_text(AB_ROUTER.read_text())
    seed = {"data": [{"key": "ab:config", "value": json.dumps(AB_CONFIG)}]}
    (folder / "ab.json").write_text(json.dumps(seed))
    config = CONFIG + ("\n[throttling]\nenabled = false\n" if slow else "")
    (folder / "edgesim.toml").write_text(config)
    sink = open(os.devnull, "w")  # noqa: SIM115 - closed with the process
    budget = BudgetPolicy(ceiling_factor=10_000) if slow else None
    return EdgeServer(load_config(folder / "edgesim.toml"), stream=sink, budget=budget)


def new_request() -> EdgeRequest:
    return EdgeRequest("GET", PATH, QUERY, list(HEADERS), client_ip="127.0.0.1", head_bytes=160)


async def drive(server: EdgeServer, layer: str, count: int) -> None:
    proxy = server.proxy
    state = proxy.state
    functions = state.functions
    fn = functions.slots["ab_router"].function
    assert fn is not None
    event: dict[str, Any] | None = None
    if layer == "invoke":
        # The event the stage builds for this request (see run_viewer_request).
        flow = _admitted(proxy, state)
        req = flow.request
        context = {
            "distributionDomainName": flow.dist.server.domain_name,
            "distributionId": function_stage.DISTRIBUTION_ID,
            "requestId": flow.request_id,
        }
        event = request_event(req, event_type="viewer-request", context=context)
        replica = functions.replica("ab_router", req.pop)
        edge = edge_location_info(req.pop, req.client_ip)
    for _ in range(count):
        if layer == "invoke":
            assert event is not None
            await fn.until_ready()
            result = fn.invoke(
                event, now=proxy.now_ms(), edge=edge, raw_query=QUERY, replica=replica
            )
            assert result.error is None, result.error
            continue
        flow = _admitted(proxy, state)
        if layer == "admit":
            continue
        assert flow.behavior is not None
        await _context_ready(functions, flow.behavior.viewer_request)
        answered = function_stage.run_viewer_request(flow, functions, flow.received_ms)
        assert answered is None, answered
        assert flow.request.path.startswith(("/b/", "/g/")), flow.request.path
        if layer == "observe":
            flow.response = generated(200, "ok", XCache.MISS)
            flow.response_started = True
            flow.mark("sent", bytes=2, failure=None)
            proxy._finished(flow)


def _flow(proxy: Any, state: Any, req: EdgeRequest) -> Flow:
    return Flow(req, state.dist, new_request_id(), proxy.now_ms())


def _admitted(proxy: Any, state: Any) -> Flow:
    flow = _flow(proxy, state, new_request())
    assert viewer_stage.place(flow, proxy.viewer) is None
    assert viewer_stage.admit(flow, https_port=None) is None
    return flow


async def rounds(layer: str, count: int, *, slow: bool, bare: bool) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        server = build_server(Path(folder), slow=slow)
        import edgesim.serve_cli

        settle = getattr(edgesim.serve_cli, "settle_heap", None)
        if settle is not None:
            settle()
        await drive(server, layer, WARMUP)
        if bare:
            await drive(server, layer, count)
            return []
        out = []
        for _ in range(5):
            start = time.thread_time_ns()
            await drive(server, layer, count)
            out.append((time.thread_time_ns() - start) / count / 1000)
        return out


def cpu(layers: list[str], count: int) -> None:
    for layer in layers:
        figures = asyncio.run(rounds(layer, count, slow=False, bare=False))
        print(
            f"{layer:<8} {statistics.median(figures):7.1f} µs CPU per request "
            f"(median of 5 rounds of {count}; min {min(figures):.1f}, max {max(figures):.1f})"
        )


def opcodes(layers: list[str], count: int) -> None:
    for layer in layers:
        counts = count_opcodes(layer, count)
        print(f"{layer}: {sum(counts.values()) / count:,.0f} bytecode instructions per request")
        for key, n in counts.most_common(25):
            print(f"  {n / count:8,.0f}  {key}")


def count_opcodes(layer: str, count: int) -> collections.Counter[str]:
    """Bytecode instructions executed by each Python function (its own) over ``count``
    requests of ``layer``, after the warm-up."""
    root = str(HERE.parent) + os.sep
    counts: collections.Counter[str] = collections.Counter()

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes, frame.f_trace_lines = True, False
        code = frame.f_code
        key = f"{code.co_filename.replace(root, '')}:{code.co_firstlineno} {code.co_name}"

        def local(frame: Any, event: str, arg: Any) -> Any:
            if event == "opcode":
                counts[key] += 1
            return local

        return local

    async def traced() -> None:
        with tempfile.TemporaryDirectory() as folder:
            server = build_server(Path(folder), slow=True)
            await drive(server, layer, WARMUP)
            sys.settrace(tracer)
            try:
                await drive(server, layer, count)
            finally:
                sys.settrace(None)

    asyncio.run(traced())
    return counts


def callgrind(layers: list[str], count: int) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    print(f"instructions per request = (Ir({5 * count}) - Ir({count})) / {4 * count}")
    for layer in layers:
        totals = []
        for n in (count, 5 * count):
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "callgrind.out"
                subprocess.run(
                    [
                        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        sys.executable, __file__, "--bare", str(n), "--layers", layer,
                    ],
                    check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"},
                )  # fmt: skip
                match = re.search(r"^summary:\s*(\d+)", out.read_text(), re.MULTILINE)
                if match is None:
                    raise SystemExit("no summary line in callgrind's output")
                totals.append(int(match[1]))
        per = (totals[1] - totals[0]) / (4 * count)
        print(f"{layer:<8} {per:>12,.0f} Ir/request", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--opcodes", action="store_true")
    parser.add_argument("--bare", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    layers = args.layers.split(",")
    for layer in layers:
        if layer not in LAYERS:
            parser.error(f"unknown layer {layer!r}: expected some of {', '.join(LAYERS)}")
    if args.bare is not None:
        # As in invoke_cost.py: under valgrind the memory check would run after every call.
        JsSession.GC_CHECK_AFTER_NS = 1 << 62
        asyncio.run(rounds(layers[0], args.bare, slow=True, bare=True))
    elif args.opcodes:
        opcodes(layers, args.count)
    elif args.callgrind:
        callgrind(layers, args.count)
    else:
        cpu(layers, args.count)


if __name__ == "__main__":
    main()
