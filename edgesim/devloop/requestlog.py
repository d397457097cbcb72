"""One log line per viewer request, plus the functions' ``console.log`` lines: an observer of
finished flows.

Text format for people, ``--log-format json`` for tools. An optional access log writes
CloudFront's standard log fields (AWS Developer Guide, "Standard logging": tab-separated
``date time x-edge-location sc-bytes c-ip cs-method … x-edge-result-type …
x-edge-detailed-result-type``) plus ``viewer-request-log-data`` / ``viewer-response-log-data``,
where CloudFront writes what a function passed to ``cf.logCustomData`` (URL-encoded, at most
800 bytes, ``-`` when unset); only the fields edgesim knows are filled, others are ``-``.

A response that broke off after it started is logged with the result ``Error`` and the detailed
type CloudFront's logs document for it (``ClientCommError``: the viewer went away;
``OriginReadError``: the origin's body broke off), ``sc-status`` being the status that was being
sent, or ``000`` when the viewer left before the response. Requests refused before they could be
read (malformed, or over CloudFront's length limits) get one console line and no access log
entry, as CloudFront leaves them out of its standard logs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import orjson

if TYPE_CHECKING:
    from edgesim.edge.flow import Flow

ACCESS_LOG_FIELDS = (
    "date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)",
    "cs-uri-stem", "sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query", "cs(Cookie)",
    "x-edge-result-type", "x-edge-request-id", "x-host-header", "cs-protocol", "cs-bytes",
    "time-taken", "x-forwarded-for", "ssl-protocol", "ssl-cipher", "x-edge-response-result-type",
    "cs-protocol-version", "fle-status", "fle-encrypted-fields", "c-port", "time-to-first-byte",
    "x-edge-detailed-result-type", "sc-content-type", "sc-content-len", "sc-range-start",
    "sc-range-end", "viewer-request-log-data", "viewer-response-log-data",
)  # fmt: skip


@dataclass
class RequestRecord:
    method: str
    target: str
    pop: str
    behavior: str
    x_cache: str
    status: int
    bytes: int
    duration_ms: float
    client_ip: str
    origin_status: int | None = None
    functions: list[tuple[str, int, str | None]] = field(default_factory=list)
    # Lambda@Edge runs: (name, event type, milliseconds in the worker, error kind).
    lambdas: list[tuple[str, str, float, str | None]] = field(default_factory=list)
    time_ms: float | None = None  # edge-clock epoch milliseconds the request arrived
    request_log_data: str | None = None  # cf.logCustomData of the viewer-request function
    response_log_data: str | None = None  # … and of the viewer-response function
    error: str | None = None  # why CloudFront answered with an error of its own
    # A response that broke off after it started (the viewer went away, the origin's body broke
    # off): the result is then Error, named in detail as CloudFront's logs name it
    # (ClientCommError, OriginReadError), while x_cache is what the response was sent with.
    failure: str | None = None
    failure_detail: str | None = None
    # False for requests CloudFront leaves out of its standard logs (refused before they were
    # read: malformed, or over the length limits); they are not written to the access log.
    standard_log: bool = True

    @property
    def result_type(self) -> str:
        return "Error" if self.failure else self.x_cache


class RequestLog:
    def __init__(
        self,
        *,
        fmt: str = "text",
        stream: TextIO | None = None,
        access_log: Path | None = None,
    ) -> None:
        if fmt not in ("text", "json"):
            raise ValueError(f"log format {fmt!r}: expected 'text' or 'json'")
        self.fmt = fmt
        self.stream = stream or sys.stderr
        self._access = access_log.open("a", encoding="utf-8") if access_log else None
        if self._access is not None and self._access.tell() == 0:
            self._access.write("#Version: 1.0\n#Fields: " + " ".join(ACCESS_LOG_FIELDS) + "\n")

    def close(self) -> None:
        if self._access is not None:
            self._access.close()
            self._access = None

    def flow_finished(self, flow: Flow) -> None:
        """Log a finished request: its functions' lines first, then the request line."""
        for run in flow.function_runs:
            for warning in run.warnings:
                self.function_log(run.name, f"warning (lenient compatibility): {warning}")
            for line in run.logs:
                self.function_log(run.name, line)
            if run.error is not None:
                where = f" at {run.error_position}" if run.error_position else ""
                self.function_log(run.name, f"{run.error_kind} error{where}: {run.error}")
                for frame in run.error_stack:
                    self.function_log(run.name, f"    at {frame}")
        self.request(record_of(flow))

    def function_log(self, function: str, line: str) -> None:
        if self.fmt == "json":
            self._emit(orjson.dumps({"function": function, "log": line}).decode())
        else:
            self._emit(f"  [{function}] {line}")

    def request(self, record: RequestRecord) -> None:
        if self.fmt == "json":
            # orjson writes a dataclass as asdict() would, without copying it first.
            self._emit(orjson.dumps(record).decode())
        else:
            functions = " ".join(
                [
                    f"{name}={util}%" + (f"({err})" if err else "")
                    for name, util, err in record.functions
                ]
                + [
                    f"λ{name}={ms:.1f}ms" + (f"({err})" if err else "")
                    for name, _event, ms, err in record.lambdas
                ]
            )
            origin = "-" if record.origin_status is None else str(record.origin_status)
            result = record.x_cache
            if record.failure:
                result = f"Error/{record.failure}, sent as {record.x_cache}"
            notes = [note for note in (record.error, record.failure_detail) if note]
            self._emit(
                f"{record.pop} {record.method} {record.target} → {record.status:03d} "
                f"[{result}] behavior={record.behavior} origin={origin} "
                f"fn={functions or '-'} {record.bytes}B {record.duration_ms:.1f}ms"
                + "".join(f"\n  ! {note}" for note in notes)
            )
        if self._access is not None and record.standard_log:
            self._access.write(_access_line(record) + "\n")
            self._access.flush()

    def _emit(self, line: str) -> None:
        self.stream.write(line + "\n")  # one write, where print() makes two
        self.stream.flush()


def record_of(flow: Flow) -> RequestRecord:
    req, response, failure = flow.request, flow.response, flow.failure
    custom = {run.event_type: run.custom_log_data for run in flow.function_runs}
    status = response.status if response else 0
    if failure is not None and not flow.response_started:
        status = 0  # "000": the viewer closed the connection before the server could respond
    return RequestRecord(
        method=req.method,
        target=req.target,
        pop=req.pop,
        behavior=flow.behavior.path if flow.behavior else "-",
        functions=[
            (run.name, run.utilization, run.error_kind)
            for run in flow.function_runs
            if not run.lambda_edge
        ],
        lambdas=[
            (run.name, run.event_type, run.duration_ms or 0.0, run.error_kind)
            for run in flow.function_runs
            if run.lambda_edge
        ],
        x_cache=str(response.x_cache) if response else "Error",
        status=status,
        origin_status=flow.origin_status,
        bytes=flow.bytes_sent,
        duration_ms=flow.duration_ms,
        client_ip=req.client_ip,
        time_ms=flow.received_ms,
        request_log_data=custom.get("viewer-request"),
        response_log_data=custom.get("viewer-response"),
        error=response.detail if response else None,
        failure=str(failure.kind) if failure is not None else None,
        failure_detail=_failure_note(flow),
        standard_log=flow.standard_log,
    )


def _failure_note(flow: Flow) -> str | None:
    if flow.failure is None:
        return None
    return f"{flow.failure.kind}: {flow.failure.detail}; the viewer's connection was closed"


def _access_line(record: RequestRecord) -> str:
    if record.time_ms is not None:
        now = datetime.fromtimestamp(record.time_ms / 1000, UTC)
    else:
        now = datetime.now(UTC)
    stem, _, query = record.target.partition("?")
    values = {
        "date": now.strftime("%Y-%m-%d"),
        "time": now.strftime("%H:%M:%S"),
        "x-edge-location": record.pop,
        "sc-bytes": str(record.bytes),
        "c-ip": record.client_ip,
        "cs-method": record.method,
        "cs-uri-stem": stem,
        "sc-status": f"{record.status:03d}",
        "cs-uri-query": query or "-",
        # x-edge-result-type is the result after the last byte (Error when the response broke
        # off); x-edge-response-result-type is how it was classified when it was sent.
        "x-edge-result-type": _result_type(record.result_type),
        "x-edge-response-result-type": _result_type(record.x_cache),
        "x-edge-detailed-result-type": record.failure or record.x_cache,
        "time-taken": f"{record.duration_ms / 1000:.3f}",
        "cs-protocol": "http",
        "viewer-request-log-data": record.request_log_data or "-",
        "viewer-response-log-data": record.response_log_data or "-",
    }
    return "\t".join(values.get(name, "-") for name in ACCESS_LOG_FIELDS)


def _result_type(x_cache: str) -> str:
    # The detailed type (e.g. FunctionGeneratedResponse) maps to a documented result type.
    if x_cache in ("Hit", "RefreshHit", "Miss", "Redirect", "LimitExceeded", "CapacityExceeded"):
        return x_cache
    return "Error" if "Error" in x_cache else "Miss"
