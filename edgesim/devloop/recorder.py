"""``serve --record traffic.jsonl``: every viewer request, as the viewer sent it, appended to a
file in the recorded-traffic format (:mod:`edgesim.rehearse.traffic`) for ``edgesim rehearse``.

A flow observer: it receives finished flows and never sits on the request path. Lines are
buffered and written in batches (every ``FLUSH_LINES`` lines or ``FLUSH_BYTES`` bytes, at least
every ``FLUSH_INTERVAL_S`` seconds while an event loop runs, and at close), so a request costs
one ``orjson.dumps`` and the event loop never waits on more than one batch write.

Bodies: CloudFront Functions never see a request body (the event has none), so a rehearsal does
not need them; the flow does not hold the viewer's body either (it is streamed to the origin), so
lines carry ``has_body`` and ``body`` stays null. ``body_limit`` is written in the header for
tools that fill bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from edgesim.edge.flow import CachedBody, OriginBody, XCache
from edgesim.edge.stages.viewer import is_cloudfront_generated
from edgesim.errors import InputError
from edgesim.rehearse.traffic import (
    OriginStub,
    TrafficRecord,
    header_line,
    is_traffic_file,
    record_line,
)

if TYPE_CHECKING:
    from edgesim.edge.flow import Flow

log = logging.getLogger("edgesim.record")

FLUSH_LINES = 512
FLUSH_BYTES = 256 * 1024
FLUSH_INTERVAL_S = 1.0
DEFAULT_BODY_LIMIT = 0
_ORIGIN_RESULTS = frozenset({XCache.MISS, XCache.HIT, XCache.REFRESH_HIT, XCache.ERROR})


class TrafficRecorder:
    """Appends each finished flow's viewer request to ``path`` (created with a header line when
    new or empty; an existing recording is appended to)."""

    def __init__(self, path: Path, *, body_limit: int = DEFAULT_BODY_LIMIT) -> None:
        if body_limit < 0:
            raise InputError(f"--record-body-limit {body_limit}: expected 0 or more bytes")
        self.path = Path(path)
        self.body_limit = body_limit
        self.recorded = 0
        if self.path.is_file() and self.path.stat().st_size and not is_traffic_file(self.path):
            raise InputError(
                f"--record {path}: the file exists and is not an edgesim recording (its first "
                "line is not the format's header); choose a new file"
            )
        try:
            self._file = self.path.open("ab")
            if self._file.tell() == 0:
                self._file.write(header_line(created_ms=time.time() * 1000, body_limit=body_limit))
                self._file.flush()
        except OSError as exc:
            raise InputError(f"--record {path}: cannot write: {exc.strerror}") from None
        self._buffer: list[bytes] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    # -- the observer --------------------------------------------------------------------------
    def flow_finished(self, flow: Flow) -> None:
        if self._closed:
            return
        record = record_of(flow)
        if record is None:
            return
        line = record_line(record)
        self._buffer.append(line)
        self._size += len(line)
        self.recorded += 1
        if len(self._buffer) >= FLUSH_LINES or self._size >= FLUSH_BYTES:
            self.flush()
        elif self._timer is None:
            self._schedule()

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a synchronous caller): lines go out by size or at close
        self._timer = loop.call_later(FLUSH_INTERVAL_S, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        chunk = b"".join(self._buffer)
        self._buffer.clear()
        self._size = 0
        try:
            self._file.write(chunk)
            self._file.flush()
        except OSError:  # a full disk must not break the viewer's responses
            log.exception("traffic recording to %s failed", self.path)

    def close(self) -> None:
        if self._closed:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.flush()
        self._closed = True
        with contextlib.suppress(OSError):
            self._file.close()

    async def aclose(self) -> None:
        self.close()


def record_of(flow: Flow) -> TrafficRecord | None:
    """The request as the viewer sent it (None for requests refused before they were read)."""
    req = flow.viewer_request
    if req is None:
        return None
    # The viewer stage adds CloudFront-Viewer-* headers to this same request when a policy names
    # them; the viewer cannot send them (they are dropped on arrival), so none is the viewer's.
    headers = [(n, v) for n, v in req.headers if not is_cloudfront_generated(n)]
    return TrafficRecord(
        method=req.method,
        uri=req.path,
        query=req.query,
        headers=headers,
        ip=req.client_ip,
        port=req.client_port,
        scheme=req.scheme,
        http_version=req.http_version,
        country=req.country or None,
        pop=req.pop or None,
        time_ms=flow.received_ms,
        has_body=req.has_body,
        origin=_origin_of(flow),
    )


def _origin_of(flow: Flow) -> OriginStub | None:
    """The origin's status and headers as observed: from the origin (a miss) or its cached copy
    (a hit). Headers only when no viewer-response function rewrote them on the way."""
    response = flow.response
    if response is None or response.x_cache not in _ORIGIN_RESULTS:
        return None
    if not isinstance(response.source, OriginBody | CachedBody) and flow.origin_status is None:
        return None
    status = flow.origin_status if flow.origin_status is not None else response.status
    rewritten = any(run.event_type == "viewer-response" for run in flow.function_runs)
    return OriginStub(status, [] if rewritten else list(response.headers))
