"""A finished request as plain data (a record) and back: what serve --workers' workers send to
the control process's observers, and what the inspector's ring keeps of each flow (one
``bytes`` object instead of the flow's few hundred objects: docs/inspector.md, "What capture
costs")."""

from __future__ import annotations

import json
import time
from dataclasses import fields, is_dataclass
from typing import Any, cast

import orjson

from edgesim.distribution.model import Behavior, Distribution
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
    ResponseSource,
    SentToOrigin,
    TraceEvent,
    XCache,
)
from edgesim.edge.message import EdgeRequest


def record_of(flow: Flow, body_limit: int) -> dict[str, Any]:
    """A finished flow without what stays in the worker (the distribution, the aiohttp and
    origin objects): what the request log, metrics, the inspector and the recorder read. Plain
    data for orjson (several times faster than pickle for these: measured 39 → 9 µs to encode a
    flow of the A/B benchmark function with the inspector on)."""
    response = flow.response
    doc: dict[str, Any] = {
        "request_id": flow.request_id,
        "received_ms": flow.received_ms,
        "duration_ms": flow.duration_ms,
        "request": flow.request,
        # The same object unless a function replaced the request: sent once.
        "viewer_request": (
            None
            if flow.viewer_request is None
            else True
            if flow.viewer_request is flow.request
            else flow.viewer_request
        ),
        "behavior": flow.behavior.path if flow.behavior is not None else None,
        "origin": origin_label(flow.origin),
        "runs": flow.function_runs,
        "cache_key": flow.cache_key,
        "origin_status": flow.origin_status,
        "bytes_sent": flow.bytes_sent,
        "response_started": flow.response_started,
        "failure": flow.failure,
        "standard_log": flow.standard_log,
        "trace": [tuple(event) for event in flow.trace],
        "origin_requests": [tuple(sent) for sent in flow.origin_requests],
        "response": None,
    }
    if response is not None:
        source, body, body_size, made_by_edge = "generated", None, 0, True
        kind = response.source
        if isinstance(kind, GeneratedBody):
            # Latin-1 maps every byte to one character: the body crosses JSON unchanged.
            body = kind.data[:body_limit].decode("latin-1") if body_limit > 0 else None
            body_size = len(kind.data)
            made_by_edge = kind.made_by_edge
        else:
            source = "cached" if isinstance(kind, CachedBody) else "origin"
        doc["response"] = (
            response.status,
            response.headers,
            str(response.x_cache),
            response.reason,
            response.detail,
            source,
            body,
            body_size,
            made_by_edge,
        )
    return doc


def encode_record(record: dict[str, Any]) -> bytes:
    """:func:`record_of`'s record as JSON. What orjson cannot hold (an integer over 64 bits in a
    stage's mark) takes the standard library's slower path rather than losing the flow."""
    try:
        return orjson.dumps(record, default=_jsonable, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(record, default=_plain).encode()


def decode_record(data: bytes) -> dict[str, Any]:
    """The record :func:`encode_record` made (:meth:`FlowRebuilder.flow_of` turns it into a
    flow, :class:`~edgesim.inspector.capture.CapturedFlow` into the inspector's view)."""
    record: dict[str, Any] = orjson.loads(data)
    return record


def _jsonable(value: object) -> object:
    """What orjson does not know (a value a stage put in a trace mark): its text."""
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _plain(value: object) -> object:
    """:func:`_jsonable` for the standard library's encoder, which knows no dataclasses."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return _jsonable(value)


def origin_label(origin: object) -> str:
    """An origin, origin group or helper-made route as the inspector names it."""
    if isinstance(origin, str):
        return origin
    for attr in ("id", "origin_id", "url", "domain_name"):
        value = getattr(origin, attr, None)
        if isinstance(value, str) and value:
            return value
    return str(origin)


class FlowRebuilder:
    """Turns records back into :class:`Flow` objects for the control process's observers."""

    def __init__(self, dist: Distribution) -> None:
        self.dist = dist
        self._behaviors: dict[str, Behavior] = {b.path: b for b in dist.all_behaviors()}

    def flow_of(self, doc: dict[str, Any]) -> Flow:
        request = request_of(doc["request"])
        flow = Flow(
            request,
            self.dist,
            doc["request_id"],
            doc["received_ms"],
            # Observers time the flow from ``started``: as long as it took in the worker.
            started=time.perf_counter() - doc["duration_ms"] / 1000,
        )
        viewer = doc["viewer_request"]
        flow.viewer_request = request if viewer is True else viewer and request_of(viewer)
        behavior = doc["behavior"]
        flow.behavior = self._behaviors.get(behavior) if behavior else None
        flow.origin = doc["origin"]
        flow.function_runs = [run_of(run) for run in doc["runs"]]
        flow.cache_key = doc["cache_key"]
        flow.origin_status = doc["origin_status"]
        flow.bytes_sent = doc["bytes_sent"]
        flow.response_started = doc["response_started"]
        failure = doc["failure"]
        if failure is not None:
            flow.failure = FlowFailure(Failure(failure["kind"]), failure["detail"])
        flow.standard_log = doc["standard_log"]
        flow.trace = list(map(TraceEvent._make, doc["trace"]))
        flow.origin_requests = [
            SentToOrigin(url, method, path, query, list(map(tuple, headers)))
            for url, method, path, query, headers in doc["origin_requests"]
        ]
        response = doc["response"]
        if response is not None:
            status, headers, x_cache, reason, detail, source, body, _, made_by_edge = response
            flow.response = EdgeResponse(
                status,
                list(map(tuple, headers)),
                XCache(x_cache),
                source_of(source, body, made_by_edge),
                reason=reason,
                detail=detail,
            )
        return flow


def request_of(doc: dict[str, Any]) -> EdgeRequest:
    doc["headers"] = list(map(tuple, doc["headers"]))  # each [name, value] as a pair again
    return EdgeRequest(**doc)


def run_of(doc: dict[str, Any]) -> FunctionRun:
    kvs = doc["kvs"]
    if kvs is not None:
        doc["kvs"] = KvsReads(kvs["store"], kvs["version"], [(k, v) for k, v in kvs["reads"]])
    doc["error_stack"] = tuple(doc["error_stack"])
    return FunctionRun(**doc)


def source_of(source: str, body: str | None, made_by_edge: bool) -> ResponseSource:
    """Where the body came from; an origin or cached body is a marker only (its object stays in
    the worker, and observers only ask which kind it was)."""
    if source == "cached":
        return CachedBody(cast(Any, None))
    if source == "origin":
        return OriginBody(cast(Any, None))
    return GeneratedBody((body or "").encode("latin-1"), made_by_edge=made_by_edge)
