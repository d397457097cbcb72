"""What the control process and its workers tell each other, and a finished request as a worker
sends it (:class:`FlowRecord`) to the control process's observers."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import Any, cast

from edgesim.distribution.model import Behavior, Distribution
from edgesim.edge.flow import (
    CachedBody,
    EdgeResponse,
    Flow,
    FlowFailure,
    FunctionRun,
    GeneratedBody,
    OriginBody,
    ResponseSource,
    SentToOrigin,
    TraceEvent,
    XCache,
)
from edgesim.edge.message import EdgeRequest, Headers
from edgesim.kvs.clock import ClockState
from edgesim.kvs.replicas import ReplicaSetState
from edgesim.kvs.store import Change
from edgesim.runtime.function import BudgetPolicy


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
    op: str  # sync | reload_functions | reload_config | invalidate | stats | stop
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
class Ack:
    seq: int
    result: Any = None


@dataclass(frozen=True)
class Flows:
    records: list[FlowRecord]


@dataclass
class FlowRecord:
    """A finished flow without what stays in the worker (the distribution, the aiohttp and
    origin objects): what the request log, metrics, the inspector and the recorder read."""

    request_id: str
    received_ms: float
    duration_ms: float
    request: EdgeRequest
    viewer_request: EdgeRequest | None
    behavior: str | None  # the behaviour's path pattern
    origin: object
    function_runs: list[FunctionRun]
    cache_key: str | None
    origin_status: int | None
    bytes_sent: int
    response_started: bool
    failure: FlowFailure | None
    standard_log: bool
    trace: list[TraceEvent]
    origin_requests: list[SentToOrigin]
    # The response: status, headers, X-Cache, reason, detail, where its body came from
    # ("generated", "cached", "origin") and a generated body up to the capture's limit.
    status: int | None
    headers: Headers
    x_cache: str
    reason: str | None
    detail: str | None
    source: str
    body: bytes | None
    made_by_edge: bool


def record_of(flow: Flow, body_limit: int) -> FlowRecord:
    response = flow.response
    source, body, made_by_edge = "generated", None, True
    if response is not None:
        kind = response.source
        if isinstance(kind, GeneratedBody):
            body = kind.data[:body_limit] if body_limit > 0 else None
            made_by_edge = kind.made_by_edge
        else:
            source = "cached" if isinstance(kind, CachedBody) else "origin"
    origin = flow.origin if isinstance(flow.origin, str) else _origin_label(flow.origin)
    return FlowRecord(
        request_id=flow.request_id,
        received_ms=flow.received_ms,
        duration_ms=flow.duration_ms,
        request=flow.request,
        viewer_request=flow.viewer_request,
        behavior=flow.behavior.path if flow.behavior is not None else None,
        origin=origin,
        function_runs=flow.function_runs,
        cache_key=flow.cache_key,
        origin_status=flow.origin_status,
        bytes_sent=flow.bytes_sent,
        response_started=flow.response_started,
        failure=flow.failure,
        standard_log=flow.standard_log,
        trace=flow.trace,
        origin_requests=flow.origin_requests,
        status=None if response is None else response.status,
        headers=[] if response is None else response.headers,
        x_cache="Error" if response is None else str(response.x_cache),
        reason=None if response is None else response.reason,
        detail=None if response is None else response.detail,
        source=source,
        body=body,
        made_by_edge=made_by_edge,
    )


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

    def flow_of(self, record: FlowRecord) -> Flow:
        flow = Flow(
            record.request,
            self.dist,
            record.request_id,
            record.received_ms,
            # Observers time the flow from ``started``: as long as it took in the worker.
            started=time.perf_counter() - record.duration_ms / 1000,
        )
        flow.viewer_request = record.viewer_request
        flow.behavior = self._behaviors.get(record.behavior) if record.behavior else None
        flow.origin = cast(str, record.origin)
        flow.function_runs = record.function_runs
        flow.cache_key = record.cache_key
        flow.origin_status = record.origin_status
        flow.bytes_sent = record.bytes_sent
        flow.response_started = record.response_started
        flow.failure = record.failure
        flow.standard_log = record.standard_log
        flow.trace = record.trace
        flow.origin_requests = record.origin_requests
        if record.status is not None:
            flow.response = EdgeResponse(
                record.status,
                record.headers,
                XCache(record.x_cache),
                _source(record),
                reason=record.reason,
                detail=record.detail,
            )
        return flow


def _source(record: FlowRecord) -> ResponseSource:
    """Where the body came from; an origin or cached body is a marker only (its object stays in
    the worker, and observers only ask which kind it was)."""
    if record.source == "cached":
        return CachedBody(cast(Any, None))
    if record.source == "origin":
        return OriginBody(cast(Any, None))
    return GeneratedBody(record.body or b"", made_by_edge=record.made_by_edge)
