"""A finished request crosses from a worker to the control process (pickled, as the channel
sends it) and the control process's observers see what they would have seen in one process: the
same request log record, access-log line, metrics, recording and inspector capture."""

from __future__ import annotations

import asyncio
import pickle
import socket
import tomllib
import types
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from edgesim.devloop.metrics import Metrics
from edgesim.devloop.recorder import record_of as traffic_record
from edgesim.devloop.requestlog import record_of as log_record
from edgesim.distribution.config import parse_config
from edgesim.distribution.model import Distribution
from edgesim.edge.flow import (
    CachedBody,
    EdgeResponse,
    Failure,
    Flow,
    FlowFailure,
    FunctionRun,
    GeneratedBody,
    KvsReads,
    OriginBody,
    SentToOrigin,
    XCache,
    json_text,
)
from edgesim.edge.flow_record import FlowRebuilder, decode_record, encode_record, record_of
from edgesim.edge.message import EdgeRequest
from edgesim.errors import InputError
from edgesim.inspector.capture import FlowCapture
from edgesim.workers.channel import Channel, ChannelClosed
from edgesim.workers.messages import Flows
from edgesim.workers.supervisor import worker_count


def _dist() -> Distribution:
    text = """
[[origins]]
id = "app"
url = "http://127.0.0.1:9"

[default_behavior]
origin = "app"

[[behaviors]]
path = "/api/*"
origin = "app"
"""
    return parse_config(tomllib.loads(text), base_dir=Path.cwd(), source="edgesim.toml")


def _flow(dist: Distribution, source: str, *, failed: bool = False) -> Flow:
    req = EdgeRequest(
        "GET", "/api/x", "a=1", [("host", "d.example"), ("cookie", "uid=7")],
        client_ip="10.0.0.1", client_port=5123, pop="IAD", country="US",
    )  # fmt: skip
    flow = Flow(req, dist, "req-id-1", 1_893_488_400_000.0)
    # A viewer-request function that replaced the request leaves the viewer's as it was.
    flow.viewer_request = req if source == "cached" else replace(req)
    flow.behavior = dist.behaviors[0]
    flow.origin = "app"
    run = FunctionRun("fn", "viewer-request", utilization=12, logs=["hello"])
    run.kvs = KvsReads("flags", 3, [("k", "v"), ("gone", None)])
    run.received = json_text({"uri": "/api/x"})
    flow.function_runs.append(run)
    flow.cache_key = "key"
    flow.mark("cache", result="miss")
    flow.origin_requests.append(SentToOrigin("http://127.0.0.1:9", "GET", "/api/x", "a=1", []))
    body: GeneratedBody | CachedBody | OriginBody
    if source == "generated":
        body = GeneratedBody(b"made by a function", made_by_edge=False)
    elif source == "cached":
        body = CachedBody(None)  # type: ignore[arg-type]
    else:
        body = OriginBody(None)  # type: ignore[arg-type]
        flow.origin_status = 200
    x_cache = {"generated": XCache.FUNCTION_GENERATED, "cached": XCache.HIT}.get(
        source, XCache.MISS
    )
    flow.response = EdgeResponse(200, [("content-type", "text/plain")], x_cache, body)
    flow.response.detail = "a detail"
    flow.bytes_sent = 18
    flow.response_started = True
    if failed:
        flow.failure = FlowFailure(Failure.CLIENT_COMM, "the viewer went away")
    return flow


@pytest.mark.parametrize("source", ["generated", "cached", "origin"])
@pytest.mark.parametrize("failed", [False, True])
def test_the_observers_see_the_same_flow_in_the_control_process(source: str, failed: bool) -> None:
    dist = _dist()
    flow = _flow(dist, source, failed=failed)
    sent = pickle.loads(pickle.dumps(Flows([encode_record(record_of(flow, body_limit=4096))])))
    (record,) = sent.records
    rebuilt = FlowRebuilder(dist).flow_of(decode_record(record))
    rebuilt.record = record  # as the control process hands it on

    ours, theirs = asdict(log_record(flow)), asdict(log_record(rebuilt))
    assert abs(ours.pop("duration_ms") - theirs.pop("duration_ms")) < 50
    assert theirs == ours
    assert traffic_record(rebuilt) == traffic_record(flow)
    one, other = Metrics(), Metrics()
    one.flow_finished(flow)
    other.flow_finished(rebuilt)
    assert other == one
    here, there = FlowCapture(), FlowCapture()
    here.flow_finished(flow)
    there.flow_finished(rebuilt)
    mine, yours = here.flows[0].captured().detail(), there.flows[0].captured().detail()
    for doc in (mine, yours):
        doc.pop("duration_ms", None)
    assert yours == mine
    assert rebuilt.behavior is dist.behaviors[0]


def test_channel_frames_arrive_whole_and_in_order_and_eof_is_reported() -> None:
    async def scenario() -> None:
        left, right = socket.socketpair()
        a, b = await Channel.open(left), await Channel.open(right)
        proxy = types.MappingProxyType({"IAD": 5})  # the distribution model has such tables
        big = "x" * 300_000
        for message in ({"n": 1, "table": proxy}, big, [3]):
            a.send(message)
        await a.drain()
        first = await b.recv()
        assert first == {"n": 1, "table": {"IAD": 5}}
        assert isinstance(first["table"], types.MappingProxyType)
        assert await b.recv() == big
        assert await b.recv() == [3]
        await a.close()
        with pytest.raises(ChannelClosed):
            await b.recv()
        await b.close()

    asyncio.run(scenario())


def test_workers_count_is_a_positive_number_or_auto() -> None:
    assert worker_count("3") == 3
    assert worker_count("auto") >= 1
    for bad in ("0", "-2", "many", ""):
        with pytest.raises(InputError, match=f"--workers {bad}: expected a number"):
            worker_count(bad)
