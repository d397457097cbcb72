"""What the control process and its workers tell each other, and a finished request as a worker
sends it (:class:`FlowRecord`) to the control process's observers."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
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
from edgesim.kvs.clock import ClockState
from edgesim.kvs.replicas import ReplicaSetState
from edgesim.kvs.store import Change
from edgesim.runtime.function import BudgetPolicy
from edgesim.runtime.source import FunctionSource


# -- starting a worker -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Listen:
    """One viewer listener: a port every worker binds with SO_REUSEPORT (the kernel spreads
    connections over them), or ``fd``, a socket the control process bound and every worker
    accepts on (``sock``, where SO_REUSEPORT does not exist). ``tls``: (certificate, key) files."""

    host: str
    port: int
    reuse_port: bool
    tls: tuple[str, str] | None = None
    sock: socket.socket | None = None


@dataclass(frozen=True)
class WorkerConfig:
    index: int
    dist: Distribution  # resolved: [origins_local] directories as the URLs serving them
    clock: ClockState
    stores: list[tuple[str, ReplicaSetState]]  # (name, state) of every store
    pops: tuple[str, ...]
    budget: BudgetPolicy
    capture: bool  # the inspector records function events and KVS reads
    body_limit: int  # generated bodies kept for the inspector, in bytes
    keepalive_timeout_s: float
    https_port: int | None
    loop: str  # "uvloop" or "asyncio"
    listeners: list[Listen] = field(default_factory=list)
    shared_cache: Path | None = None  # the directory of the cache every worker shares
    # A restarted worker: it applies the commands sent since its snapshot (KVS writes, the
    # clock, reloads) before it listens, up to a "listen" command.
    wait_for_listen: bool = False
    # A restarted worker: each function's code as the control process accepted it (the file
    # may hold a version it refused since).
    sources: dict[str, FunctionSource] = field(default_factory=dict)
    # EDGESIM_COVERAGE in the control process: the collector's ``include`` (None: off). The
    # worker records the same way and sends its counts when it stops (CoverageData).
    coverage: tuple[str, ...] | None = None


# -- control process → worker (each carries a sequence number the worker acknowledges) ------------
@dataclass(frozen=True)
class StoreAdded:
    name: str
    state: ReplicaSetState


@dataclass(frozen=True)
class StoreChanged:
    store_id: str
    change: Change
    lands: dict[str, float]  # POP -> clock reading (monotonic seconds) it lands at


@dataclass(frozen=True)
class StoreDeleted:
    store_id: str


KvsEvent = StoreAdded | StoreChanged | StoreDeleted


@dataclass(frozen=True)
class Command:
    seq: int
    op: str  # sync | reload_functions | reload_config | invalidate | stats | listen | stop
    clock: ClockState | None = None
    kvs: tuple[KvsEvent, ...] = ()
    names: tuple[str, ...] = ()
    dist: Distribution | None = None
    paths: tuple[str, ...] = ()


# -- worker → control process ---------------------------------------------------------------------
@dataclass(frozen=True)
class Ready:
    index: int
    pid: int


@dataclass(frozen=True)
class Loaded:
    """A restarted worker loaded its functions and waits for the commands sent meanwhile."""

    index: int
    pid: int


@dataclass(frozen=True)
class Ack:
    seq: int
    result: Any = None


@dataclass(frozen=True)
class CoverageData:
    """A stopping worker's function coverage (``Collector.to_dict``), for the control
    process's collector to merge before it writes the reports."""

    data: dict[str, Any]


@dataclass(frozen=True)
class Flows:
    """Finished requests, as :func:`encode_flows` makes them."""

    data: bytes


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
        "origin": flow.origin if isinstance(flow.origin, str) else _origin_label(flow.origin),
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
        source, body, made_by_edge = "generated", None, True
        kind = response.source
        if isinstance(kind, GeneratedBody):
            # Latin-1 maps every byte to one character: the body crosses JSON unchanged.
            body = kind.data[:body_limit].decode("latin-1") if body_limit > 0 else None
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
            made_by_edge,
        )
    return doc


def encode_flows(records: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(records, default=_jsonable, option=orjson.OPT_NON_STR_KEYS)


def decode_flows(data: bytes) -> list[dict[str, Any]]:
    """The records :func:`encode_flows` made (:meth:`FlowRebuilder.flow_of` turns each into a
    flow)."""
    records: list[dict[str, Any]] = orjson.loads(data)
    return records


def _jsonable(value: object) -> object:
    """What orjson does not know (a value a stage put in a trace mark): its text."""
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _origin_label(origin: object) -> str:
    """An origin group or helper-made route as the inspector names it."""
    for attr in ("id", "origin_id", "url"):
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
        request = _request(doc["request"])
        flow = Flow(
            request,
            self.dist,
            doc["request_id"],
            doc["received_ms"],
            # Observers time the flow from ``started``: as long as it took in the worker.
            started=time.perf_counter() - doc["duration_ms"] / 1000,
        )
        viewer = doc["viewer_request"]
        flow.viewer_request = request if viewer is True else viewer and _request(viewer)
        behavior = doc["behavior"]
        flow.behavior = self._behaviors.get(behavior) if behavior else None
        flow.origin = doc["origin"]
        flow.function_runs = [_run(run) for run in doc["runs"]]
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
            status, headers, x_cache, reason, detail, source, body, made_by_edge = response
            flow.response = EdgeResponse(
                status,
                list(map(tuple, headers)),
                XCache(x_cache),
                _source(source, body, made_by_edge),
                reason=reason,
                detail=detail,
            )
        return flow


def _request(doc: dict[str, Any]) -> EdgeRequest:
    doc["headers"] = list(map(tuple, doc["headers"]))  # each [name, value] as a pair again
    return EdgeRequest(**doc)


def _run(doc: dict[str, Any]) -> FunctionRun:
    kvs = doc["kvs"]
    if kvs is not None:
        doc["kvs"] = KvsReads(kvs["store"], kvs["version"], [(k, v) for k, v in kvs["reads"]])
    doc["error_stack"] = tuple(doc["error_stack"])
    return FunctionRun(**doc)


def _source(source: str, body: str | None, made_by_edge: bool) -> ResponseSource:
    """Where the body came from; an origin or cached body is a marker only (its object stays in
    the worker, and observers only ask which kind it was)."""
    if source == "cached":
        return CachedBody(cast(Any, None))
    if source == "origin":
        return OriginBody(cast(Any, None))
    return GeneratedBody((body or "").encode("latin-1"), made_by_edge=made_by_edge)


# -- Lambda@Edge: the workers' invocations run in the control process's one pool -----------------
@dataclass(frozen=True)
class LambdaCall:
    """worker → control process: run lambda ``name`` for a request served at ``pop``."""

    id: int
    name: str
    pop: str
    event_type: str
    request: dict[str, Any]
    response: dict[str, Any] | None
    config: dict[str, Any] | None
    now: float | None


@dataclass(frozen=True)
class LambdaReply:
    """control process → worker: the outcome of call ``id`` (``error``: it could not run)."""

    id: int
    outcome: Any = None  # a LambdaOutcome
    error: str | None = None
