"""The inspector's memory of recent requests: a bounded ring of finished flows.

:class:`FlowCapture` is a flow observer (``flow_finished``). On the request path it keeps each
flow as one record in bytes (``edge/flow_record.py``: what serve --workers' workers send the
control process, kept as they sent it); the view of a flow (:class:`CapturedFlow`) and its JSON
are made when the API or the live stream asks for them. Bodies are not kept, except a response
body edgesim or a function generated, cut to ``body_limit`` bytes (origin bodies stream through
and are never held).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from edgesim.edge.flow import Failure, FlowFailure, FunctionRun, SentToOrigin, TraceEvent
from edgesim.edge.flow_record import decode_record, encode_record, record_of, request_of, run_of

if TYPE_CHECKING:
    from edgesim.edge.flow import Flow
    from edgesim.edge.message import EdgeRequest, Headers

DEFAULT_FLOWS = 1_000
DEFAULT_BODY_BYTES = 4_096
RunBrief = tuple[str, str | None, int]  # a function run's name, error kind and utilization


class CapturedFlow:
    """One finished request, as the inspector shows it: rebuilt from the ring's record when the
    API or the live stream asks for it; :meth:`summary` and :meth:`detail` make its JSON."""

    __slots__ = (
        "_record",
        "behavior",
        "body",
        "body_size",
        "bytes_sent",
        "cache_key",
        "detail_text",
        "duration_ms",
        "failure",
        "origin",
        "origin_requests",
        "origin_status",
        "received_ms",
        "request",
        "request_id",
        "response_headers",
        "runs",
        "seq",
        "status",
        "trace",
        "viewer_request",
        "x_cache",
    )

    def __init__(self, seq: int, record: dict[str, Any]) -> None:
        """``record``: a flow as :func:`~edgesim.edge.flow_record.record_of` makes it, decoded."""
        self.seq = seq
        self._record = record
        self.request_id: str = record["request_id"]
        self.received_ms: float = record["received_ms"]
        self.duration_ms: float = record["duration_ms"]
        self.request: EdgeRequest = request_of(record["request"])
        viewer = record["viewer_request"]
        self.viewer_request: EdgeRequest | None = (
            self.request if viewer is True else viewer and request_of(viewer)
        )
        self.behavior: str | None = record["behavior"]
        self.origin: str = record["origin"]
        self.runs: list[FunctionRun] = [run_of(run) for run in record["runs"]]
        self.cache_key: str | None = record["cache_key"]
        self.origin_status: int | None = record["origin_status"]
        self.origin_requests = [
            SentToOrigin(url, method, path, query, list(map(tuple, headers)))
            for url, method, path, query, headers in record["origin_requests"]
        ]
        self.trace: list[TraceEvent] = list(map(TraceEvent._make, record["trace"]))
        failure = record["failure"]
        self.failure = (
            None if failure is None else FlowFailure(Failure(failure["kind"]), failure["detail"])
        )
        self.bytes_sent: int = record["bytes_sent"]
        self.body: bytes | None = None
        self.body_size = 0
        self.status: int = 0
        self.x_cache: str = "Error"
        self.detail_text: str | None = None
        self.response_headers: Headers = []
        response = record["response"]
        if response is None:
            return
        status, headers, x_cache, _, detail, source, body, body_size, _ = response
        started = failure is None or record["response_started"]
        self.status = status if started else 0
        self.x_cache = x_cache
        self.detail_text = detail
        self.response_headers = list(map(tuple, headers))
        if source == "generated" and body is not None:
            self.body_size = body_size
            self.body = body.encode("latin-1")

    # -- JSON, built on demand ---------------------------------------------------------------
    @property
    def pop(self) -> str:
        return self.request.pop

    def summary(self) -> dict[str, Any]:
        """The row of the Requests list."""
        return summary_of(self.seq, self._record)

    def detail(self) -> dict[str, Any]:
        """Everything the One request view shows (docs/inspector.md lists the fields)."""
        doc = self.summary()
        viewer = self.viewer_request
        doc["viewer_request"] = request_json(viewer) if viewer is not None else None
        doc["request"] = request_json(self.request)
        doc["changes"] = request_changes(viewer, self.request) if viewer is not None else []
        doc["function_runs"] = [run_json(run) for run in self.runs]
        doc["trace"] = trace_json(self.trace)
        doc["cache"] = {"key": self.cache_key, "decision": _cache_decision(self.trace)}
        doc["origin"] = {
            "target": self.origin or None,  # the record holds its label (flow_record.py)
            "status": self.origin_status,
            "failure": _mark_value(self.trace, "origin", "failure"),
            # As sent, for each origin tried (a group's secondary after a failover).
            "requests": [
                {
                    "url": sent.url,
                    "method": sent.method,
                    "path": sent.path,
                    "query": sent.query,
                    "headers": [[n, v] for n, v in sent.headers],
                }
                for sent in self.origin_requests
            ],
        }
        doc["response"] = {
            "status": self.status,
            "x_cache": self.x_cache,
            "headers": [[n, v] for n, v in self.response_headers],
            "detail": self.detail_text,
            "body": None if self.body is None else self.body.decode("utf-8", "replace"),
            "body_size": self.body_size,
            "body_truncated": self.body is not None and len(self.body) < self.body_size,
        }
        doc["error"] = _first_error(self.runs, self.detail_text, self.failure)
        return doc


def summary_of(seq: int, record: dict[str, Any]) -> dict[str, Any]:
    """The row of the Requests list, read from a decoded record without rebuilding the request
    (the live stream makes one per request while a page is open)."""
    viewer = record["viewer_request"]
    req = record["request"] if viewer is None or viewer is True else viewer
    query = req["query"]
    response = record["response"]
    failure = record["failure"]
    if response is None:
        status, x_cache = 0, "Error"
    else:
        started = failure is None or record["response_started"]
        status, x_cache = (response[0] if started else 0), response[2]
    return {
        "seq": seq,
        "id": record["request_id"],
        "time_ms": record["received_ms"],
        "pop": req["pop"],
        "method": req["method"],
        "path": req["path"] if query is None else f"{req['path']}?{query}",
        "behavior": record["behavior"],
        "x_cache": x_cache,
        "status": status,
        "duration_ms": round(record["duration_ms"], 3),
        "bytes": record["bytes_sent"],
        "failure": failure["kind"] if failure is not None else None,
        "functions": [
            {
                "name": run["name"],
                "event_type": run["event_type"],
                "utilization": run["utilization"],
                "error_kind": run["error_kind"],
            }
            for run in record["runs"]
        ],
    }


def request_json(req: EdgeRequest) -> dict[str, Any]:
    return {
        "method": req.method,
        "uri": req.path,
        "query": req.query,
        "headers": [[n, v] for n, v in req.headers],
        "client_ip": req.client_ip,
        "country": req.country,
        "pop": req.pop,
    }


def request_changes(before: EdgeRequest, after: EdgeRequest) -> list[dict[str, Any]]:
    """What changed between the request as the viewer sent it and as it went on (a function's
    rewrite, a default root object): method, URI, query string, each header by name."""
    changes: list[dict[str, Any]] = []
    for part, old, new in (
        ("method", before.method, after.method),
        ("uri", before.path, after.path),
        ("querystring", before.query, after.query),
    ):
        if old != new:
            changes.append({"part": part, "name": None, "before": old, "after": new})
    old_headers, new_headers = _by_name(before.headers), _by_name(after.headers)
    for name in sorted(set(old_headers) | set(new_headers)):
        old_value, new_value = old_headers.get(name), new_headers.get(name)
        if old_value != new_value:
            changes.append(
                {"part": "header", "name": name, "before": old_value, "after": new_value}
            )
    return changes


def _by_name(headers: Headers) -> dict[str, str]:
    joined: dict[str, list[str]] = {}
    for name, value in headers:
        joined.setdefault(name, []).append(value)
    return {name: ", ".join(values) for name, values in joined.items()}


def _parsed(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def run_json(run: FunctionRun) -> dict[str, Any]:
    kvs = run.kvs
    return {
        "name": run.name,
        "event_type": run.event_type,
        "utilization": run.utilization,
        "lambda_edge": run.lambda_edge,
        "duration_ms": run.duration_ms,
        "error_kind": run.error_kind,
        "error": run.error,
        "error_position": run.error_position,
        "error_stack": list(run.error_stack),
        "logs": list(run.logs),
        "custom_log_data": run.custom_log_data,
        "warnings": list(run.warnings),
        "received": _parsed(run.received),
        "returned": _parsed(run.returned),
        "kvs": None
        if kvs is None
        else {
            "store": kvs.store,
            "version": kvs.version,
            "reads": [{"key": k, "value": v, "found": v is not None} for k, v in kvs.reads],
        },
    }


def trace_json(trace: list[TraceEvent]) -> list[dict[str, Any]]:
    """The stage marks with their time since the request arrived and the time since the
    previous mark (what that stage took)."""
    out, previous = [], 0.0
    for event in trace:
        detail = {k: v if isinstance(v, str | int | float | bool | None) else str(v)
                  for k, v in event.detail.items()}  # fmt: skip
        out.append(
            {
                "stage": event.stage,
                "at_ms": round(event.at * 1000, 3),
                "took_ms": round((event.at - previous) * 1000, 3),
                "detail": detail,
            }
        )
        previous = event.at
    return out


def _mark_value(trace: list[TraceEvent], stage: str, key: str) -> Any:
    for event in trace:
        if event.stage == stage and key in event.detail:
            return event.detail[key]
    return None


def _cache_decision(trace: list[TraceEvent]) -> str:
    """hit / miss / stale (revalidated or refetched) from the cache stage's mark; "not
    reached" when the request ended before the cache (a function answered, a refusal)."""
    result = _mark_value(trace, "cache", "result")
    return str(result) if result is not None else "not reached"


def _first_error(
    runs: list[FunctionRun], detail: str | None, failure: FlowFailure | None
) -> dict[str, Any] | None:
    for run in runs:
        if run.error_kind is not None:
            return {
                "source": f"function {run.name}",
                "kind": run.error_kind,
                "message": run.error,
                "position": run.error_position,
            }
    if failure is not None:
        return {"source": "delivery", "kind": str(failure.kind), "message": failure.detail,
                "position": None}  # fmt: skip
    if detail:
        return {"source": "edge", "kind": "error", "message": detail, "position": None}
    return None


class KeptFlow:
    """A ring entry: the flow's record as bytes, with what is read without decoding it."""

    __slots__ = ("record", "request_id", "runs", "seq", "summary_text")

    def __init__(
        self, seq: int, request_id: str, record: bytes, runs: tuple[RunBrief, ...]
    ) -> None:
        self.seq = seq
        self.request_id = request_id
        self.record = record
        self.runs = runs
        self.summary_text: bytes | None = None  # the row's JSON, once a stream client asked

    def captured(self) -> CapturedFlow:
        return CapturedFlow(self.seq, decode_record(self.record))

    def summary(self) -> dict[str, Any]:
        """The flow's row of the Requests list (:func:`summary_of`), without rebuilding it."""
        return summary_of(self.seq, decode_record(self.record))

    def summary_json(self, *, keep: bool = True) -> bytes:
        """:meth:`summary` as JSON, made once when ``keep`` (stream clients share it). One
        client does not keep it: rows kept while requests go on are scattered among short-lived
        objects, and the allocator's arenas cannot be given back (measured: serve's resident
        memory under load with one client connected 90 MB kept, 85 MB not, 81 MB before the
        stream rendered in slices)."""
        text = self.summary_text
        if text is None:
            text = orjson.dumps(self.summary())
            if keep:
                self.summary_text = text
        return text


class FlowCapture:
    """The ring buffer of the last ``size`` finished flows (a flow observer), and the wake-up
    of live-stream clients."""

    def __init__(self, size: int = DEFAULT_FLOWS, *, body_limit: int = DEFAULT_BODY_BYTES) -> None:
        if size < 1:
            raise ValueError(f"the inspector keeps at least 1 flow (got {size})")
        self.size = size
        self.body_limit = body_limit
        self.enabled = True
        self.flows: deque[KeptFlow] = deque(maxlen=size)
        self.last_seq = 0
        self._waiters: set[asyncio.Event] = set()

    def flow_finished(self, flow: Flow) -> None:
        if not self.enabled:
            return
        self.last_seq += 1
        # One bytes object per flow, not the flow's objects: kept objects are freed a thousand
        # requests later, cold in the CPU's caches, and new requests' objects then land in
        # that cold memory instead of the memory just freed (measured: docs/inspector.md).
        record = flow.record  # what a worker sent, as it sent it
        if record is None:
            record = encode_record(record_of(flow, self.body_limit))
        runs = tuple([(r.name, r.error_kind, r.utilization) for r in flow.function_runs])
        self.flows.append(KeptFlow(self.last_seq, flow.request_id, record, runs))
        if self._waiters:
            for waiter in self._waiters:
                waiter.set()

    # -- reading ------------------------------------------------------------------------------
    def kept_since(self, seq: int) -> Iterator[KeptFlow]:
        """The ring's entries after ``seq``, oldest first (those still in the ring)."""
        flows = self.flows
        if not flows or flows[-1].seq <= seq:
            return iter(())
        start = max(0, len(flows) - (flows[-1].seq - seq))
        return (flows[i] for i in range(start, len(flows)))

    def since(self, seq: int) -> Iterator[CapturedFlow]:
        """The flows after ``seq``, oldest first (those still in the ring)."""
        return (kept.captured() for kept in self.kept_since(seq))

    def find(self, ref: str) -> CapturedFlow | None:
        """A flow by request id (``x-amz-cf-id``) or sequence number."""
        if ref.isdigit():
            seq = int(ref)
            flows = self.flows
            if flows and flows[0].seq <= seq <= flows[-1].seq:
                return flows[seq - flows[0].seq].captured()
            return None
        for kept in reversed(self.flows):
            if kept.request_id == ref:
                return kept.captured()
        return None

    def recent_runs(self) -> Iterator[RunBrief]:
        """(function, error kind, utilization) of every function run of the kept flows."""
        for kept in self.flows:
            yield from kept.runs

    def clear(self) -> None:
        self.flows.clear()

    # -- live-stream clients --------------------------------------------------------------------
    def subscribe(self) -> asyncio.Event:
        """An event set whenever a flow is captured; :meth:`unsubscribe` it when done."""
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        return waiter

    def unsubscribe(self, waiter: asyncio.Event) -> None:
        self._waiters.discard(waiter)

    def wake(self) -> None:
        """Wake every live-stream client (e.g. to let them see the server is closing)."""
        for waiter in self._waiters:
            waiter.set()

    @property
    def clients(self) -> int:
        return len(self._waiters)
