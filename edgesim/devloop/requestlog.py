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
from asyncio import AbstractEventLoop, get_running_loop
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
        # Lines not yet handed to the stream, and the loop whose next turn hands them over:
        # under load many requests finish in one turn of the event loop, and their lines then
        # share one write (a system call each before, on the console as on a file), while a
        # person watching still sees every line as soon as the loop turns.
        self._pending: list[str] = []
        self._flush_on: AbstractEventLoop | None = None
        self._stamp = _Stamp()

    def flush(self) -> None:
        """Hand the lines written so far to the stream (and the access log to its file)."""
        self._flush_on = None
        if self._pending:
            text = "\n".join(self._pending) + "\n"
            self._pending = []
            self.stream.write(text)
            self.stream.flush()
        if self._access is not None:
            self._access.flush()

    def close(self) -> None:
        self.flush()
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
        if self.fmt == "text" and self._access is None:
            # Only the console line is wanted: made from the flow, without the record
            # (tests/unit/devloop/test_requestlog_output.py holds it equal to the record's line).
            self._emit(_text_line_of(flow))
        else:
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
            self._emit(
                _text_line(
                    record.pop, record.method, record.target, record.status, record.x_cache,
                    record.failure, record.behavior, record.origin_status,
                    _functions_text(record.functions, record.lambdas), record.bytes,
                    record.duration_ms, record.error, record.failure_detail,
                )
            )  # fmt: skip
        if self._access is not None and record.standard_log:
            self._access.write(_access_line(record, self._stamp) + "\n")
            self._flush_soon()

    def _emit(self, line: str) -> None:
        self._pending.append(line)
        self._flush_soon()

    def _flush_soon(self) -> None:
        """Flush at the end of this turn of the running loop (at once without one). Asked of the
        running loop each time: a loop closed before it turned again must not hold lines back."""
        try:
            loop = get_running_loop()
        except RuntimeError:  # not in serve's loop (a tool, a test): out at once
            self.flush()
            return
        if loop is not self._flush_on:
            self._flush_on = loop
            loop.call_soon(self.flush)


def _text_line(
    pop: str,
    method: str,
    target: str,
    status: int,
    x_cache: str,
    failure: str | None,
    behavior: str,
    origin_status: int | None,
    functions: str,
    size: int,
    duration_ms: float,
    error: str | None,
    failure_detail: str | None,
) -> str:
    """The console line of a request (and the notes under it: why CloudFront answered with an
    error, how the response broke off)."""
    origin = "-" if origin_status is None else str(origin_status)
    result = f"Error/{failure}, sent as {x_cache}" if failure else x_cache
    line = (
        f"{pop} {method} {target} → {status:03d} [{result}] behavior={behavior} origin={origin} "
        f"fn={functions or '-'} {size}B {duration_ms:.1f}ms"
    )
    if error:
        line += f"\n  ! {error}"
    if failure_detail:
        line += f"\n  ! {failure_detail}"
    return line


def _functions_text(
    functions: list[tuple[str, int, str | None]], lambdas: list[tuple[str, str, float, str | None]]
) -> str:
    return " ".join(
        [f"{name}={util}%" + (f"({err})" if err else "") for name, util, err in functions]
        + [f"λ{name}={ms:.1f}ms" + (f"({err})" if err else "") for name, _, ms, err in lambdas]
    )


def _text_line_of(flow: Flow) -> str:
    """:func:`_text_line` of ``record_of(flow)``, read from the flow directly."""
    req, response, failure = flow.request, flow.response, flow.failure
    behavior = flow.behavior
    functions = _functions_text(*_runs_of(flow)) if flow.function_runs else ""
    return _text_line(
        req.pop, req.method, req.target, _status_of(flow),
        str(response.x_cache) if response else "Error",
        str(failure.kind) if failure is not None else None,
        behavior.path if behavior else "-", flow.origin_status, functions, flow.bytes_sent,
        flow.duration_ms, response.detail if response else None, _failure_note(flow),
    )  # fmt: skip


def record_of(flow: Flow) -> RequestRecord:
    req, response, failure = flow.request, flow.response, flow.failure
    custom = {run.event_type: run.custom_log_data for run in flow.function_runs}
    functions, lambdas = _runs_of(flow)
    return RequestRecord(
        method=req.method,
        target=req.target,
        pop=req.pop,
        behavior=flow.behavior.path if flow.behavior else "-",
        functions=functions,
        lambdas=lambdas,
        x_cache=str(response.x_cache) if response else "Error",
        status=_status_of(flow),
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


def _status_of(flow: Flow) -> int:
    response = flow.response
    if response is None or (flow.failure is not None and not flow.response_started):
        return 0  # "000": the viewer closed the connection before the server could respond
    return response.status


def _runs_of(
    flow: Flow,
) -> tuple[list[tuple[str, int, str | None]], list[tuple[str, str, float, str | None]]]:
    """The functions' runs (name, utilization, error kind) and the lambdas' (name, event type,
    milliseconds, error kind)."""
    runs = flow.function_runs
    return (
        [(run.name, run.utilization, run.error_kind) for run in runs if not run.lambda_edge],
        [
            (run.name, run.event_type, run.duration_ms or 0.0, run.error_kind)
            for run in runs
            if run.lambda_edge
        ],
    )


def _failure_note(flow: Flow) -> str | None:
    if flow.failure is None:
        return None
    return f"{flow.failure.kind}: {flow.failure.detail}; the viewer's connection was closed"


class _Stamp:
    """The access log's ``date`` and ``time`` (UTC, to the second) of an epoch-milliseconds time,
    remembered for the second last asked: formatting a datetime costs more than the rest of
    the line, and requests come many to a second."""

    def __init__(self) -> None:
        self._low = self._high = 0.0
        self._date_time = ("", "")

    def __call__(self, time_ms: float | None) -> tuple[str, str]:
        if time_ms is None:
            now = datetime.now(UTC)
            return now.strftime("%Y-%m-%d"), now.strftime("%H:%M:%S")
        if self._low <= time_ms < self._high:
            return self._date_time
        now = datetime.fromtimestamp(time_ms / 1000, UTC)
        self._date_time = now.strftime("%Y-%m-%d"), now.strftime("%H:%M:%S")
        # The times that certainly fall in that second: fromtimestamp rounds to the microsecond,
        # so a time within a microsecond of either end is formatted afresh.
        second = now.replace(microsecond=0).timestamp() * 1000
        self._low, self._high = second + 0.001, second + 999.999
        return self._date_time


def _access_line(record: RequestRecord, stamp: _Stamp | None = None) -> str:
    """The record as a line of ACCESS_LOG_FIELDS, in their order (``-``: not known to edgesim)."""
    date, time = (stamp or _Stamp())(record.time_ms)
    stem, _, query = record.target.partition("?")
    x_cache = record.x_cache
    return "\t".join(
        (
            date,
            time,
            record.pop,  # x-edge-location
            str(record.bytes),  # sc-bytes
            record.client_ip,  # c-ip
            record.method,  # cs-method
            "-",  # cs(Host)
            stem,  # cs-uri-stem
            f"{record.status:03d}",  # sc-status
            "-",  # cs(Referer)
            "-",  # cs(User-Agent)
            query or "-",  # cs-uri-query
            "-",  # cs(Cookie)
            # x-edge-result-type is the result after the last byte (Error when the response
            # broke off); x-edge-response-result-type is how it was classified when it was sent.
            "Error" if record.failure else _result_type(x_cache),  # x-edge-result-type
            "-",  # x-edge-request-id
            "-",  # x-host-header
            "http",  # cs-protocol
            "-",  # cs-bytes
            f"{record.duration_ms / 1000:.3f}",  # time-taken
            "-",  # x-forwarded-for
            "-",  # ssl-protocol
            "-",  # ssl-cipher
            _result_type(x_cache),  # x-edge-response-result-type
            "-",  # cs-protocol-version
            "-",  # fle-status
            "-",  # fle-encrypted-fields
            "-",  # c-port
            "-",  # time-to-first-byte
            record.failure or x_cache,  # x-edge-detailed-result-type
            "-",  # sc-content-type
            "-",  # sc-content-len
            "-",  # sc-range-start
            "-",  # sc-range-end
            record.request_log_data or "-",  # viewer-request-log-data
            record.response_log_data or "-",  # viewer-response-log-data
        )
    )


def _result_type(x_cache: str) -> str:
    # The detailed type (e.g. FunctionGeneratedResponse) maps to a documented result type.
    if x_cache in ("Hit", "RefreshHit", "Miss", "Redirect", "LimitExceeded", "CapacityExceeded"):
        return x_cache
    return "Error" if "Error" in x_cache else "Miss"
