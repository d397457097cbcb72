"""The recorded-traffic format: JSON Lines, one viewer request per line.

The first line is a header naming the format and its version::

    {"format": "edgesim-traffic", "version": 1, "created_ms": 1764700000000, "body_limit": 0}

Every other line is one request as the viewer sent it, holding everything a CloudFront Function
can read (method, URI, query, every header — cookies travel in ``cookie`` headers —, the viewer's
address, and where and when it arrived: country, POP, epoch milliseconds), plus what a rehearsal
needs to stub the origin (the origin's status and headers as observed; optional)::

    {"method": "GET", "uri": "/checkout", "query": "a=1", "headers": [["host", "x"], …],
     "ip": "203.0.113.9", "port": 50123, "scheme": "https", "http_version": "1.1",
     "country": "DE", "pop": "FRA", "time_ms": 1764700000123,
     "body": null, "has_body": false, "origin": {"status": 200, "headers": [[…]]}}

``query`` is the raw query string without ``?`` (``null``: the URL had no ``?``). ``body`` is
base64 (cut to the recorder's ``body_limit``; CloudFront Functions never see bodies, so a
rehearsal does not need them). Unknown keys are ignored, so later versions may add fields.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from edgesim.edge.message import EdgeRequest, Headers
from edgesim.errors import InputError

FORMAT = "edgesim-traffic"
VERSION = 1


@dataclass
class OriginStub:
    """The origin's answer as it was observed (what a viewer-response function would get)."""

    status: int
    headers: Headers = field(default_factory=list)


@dataclass
class TrafficRecord:
    method: str
    uri: str
    query: str | None
    headers: Headers
    ip: str = "127.0.0.1"
    port: int = 0
    scheme: str = "https"
    http_version: str = "1.1"
    country: str | None = None  # None: unknown (decided by the distribution's [edges] rules)
    pop: str | None = None  # None: unknown (the first configured POP)
    time_ms: float = 0.0
    body: bytes | None = None
    has_body: bool = False
    origin: OriginStub | None = None

    @property
    def target(self) -> str:
        return self.uri if self.query is None else f"{self.uri}?{self.query}"

    def edge_request(self) -> EdgeRequest:
        """A fresh :class:`EdgeRequest` (the pipeline's stages change the one they get)."""
        return EdgeRequest(
            method=self.method,
            path=self.uri,
            query=self.query,
            headers=list(self.headers),
            client_ip=self.ip,
            client_port=self.port,
            http_version=self.http_version,
            scheme=self.scheme,
            has_body=self.has_body,
            pop=self.pop or "",
            country=self.country or "",
        )


# A record as a tuple of plain values (what crosses to a worker process: see engine.py).
Row = tuple[Any, ...]


def to_row(r: TrafficRecord) -> Row:
    origin = None if r.origin is None else (r.origin.status, r.origin.headers)
    return (r.method, r.uri, r.query, r.headers, r.ip, r.port, r.scheme, r.http_version,
            r.country, r.pop, r.time_ms, r.body, r.has_body, origin)  # fmt: skip


def from_row(row: Row) -> TrafficRecord:
    origin = row[13]
    return TrafficRecord(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
        row[10], row[11], row[12], None if origin is None else OriginStub(origin[0], origin[1]),
    )  # fmt: skip


def header_line(*, created_ms: float, body_limit: int) -> bytes:
    doc = {"format": FORMAT, "version": VERSION, "created_ms": int(created_ms)}
    return orjson.dumps({**doc, "body_limit": body_limit}) + b"\n"


def record_line(record: TrafficRecord) -> bytes:
    doc: dict[str, Any] = {
        "method": record.method,
        "uri": record.uri,
        "query": record.query,
        "headers": record.headers,
        "ip": record.ip,
        "port": record.port,
        "scheme": record.scheme,
        "http_version": record.http_version,
        "country": record.country,
        "pop": record.pop,
        "time_ms": record.time_ms,
        "body": None if record.body is None else base64.b64encode(record.body).decode(),
        "has_body": record.has_body,
        "origin": None
        if record.origin is None
        else {"status": record.origin.status, "headers": record.origin.headers},
    }
    return orjson.dumps(doc) + b"\n"


def write_traffic(path: Path, records: list[TrafficRecord], *, created_ms: float = 0) -> None:
    """Write a whole recording (tests, benchmarks, converted access logs)."""
    with path.open("wb") as out:
        out.write(header_line(created_ms=created_ms, body_limit=0))
        for record in records:
            out.write(record_line(record))


def is_traffic_file(path: Path) -> bool:
    """Whether ``path`` starts with this format's header line."""
    try:
        with path.open("rb") as stream:
            first = stream.readline(4096)
    except OSError:
        return False
    return first.lstrip().startswith(b"{") and FORMAT.encode() in first


def read_traffic(path: Path) -> list[TrafficRecord]:
    try:
        with path.open("rb") as stream:
            return list(iter_traffic(stream, source=str(path)))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the traffic file: {exc.strerror}") from None


def iter_traffic(stream: IO[bytes], *, source: str) -> Iterator[TrafficRecord]:
    header_seen = False
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        where = f"{source}:{number}"
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(doc).__name__}")
        if not header_seen:
            _check_header(doc, where)
            header_seen = True
            continue
        yield parse_record(doc, where)
    if not header_seen:
        raise InputError(f"{source}: empty file (expected a {FORMAT!r} header line)")


def _check_header(doc: dict[str, Any], where: str) -> None:
    if doc.get("format") != FORMAT:
        raise InputError(
            f"{where}: the first line must be the header "
            f'{{"format": "{FORMAT}", "version": {VERSION}}}, got {_clip(doc)}'
        )
    version = doc.get("version")
    if version != VERSION:
        raise InputError(
            f"{where}: {FORMAT} version {version!r} is not supported (this edgesim reads "
            f"version {VERSION})"
        )


def parse_record(doc: dict[str, Any], where: str) -> TrafficRecord:
    def text(key: str, default: str | None = None, *, optional: bool = False) -> str | None:
        value = doc.get(key, default)
        if value is None and (optional or default is not None):
            return None if optional else default
        if value is None:
            raise InputError(f"{where}: {key!r} is missing")
        if not isinstance(value, str):
            raise InputError(f"{where}: {key!r} must be a string, got {_clip(value)}")
        return value

    method, uri = text("method") or "", text("uri") or ""
    if not uri.startswith("/"):
        raise InputError(f"{where}: 'uri' must be a path starting with '/', got {uri!r}")
    time_ms = doc.get("time_ms", 0)
    if isinstance(time_ms, bool) or not isinstance(time_ms, int | float):
        raise InputError(f"{where}: 'time_ms' must be epoch milliseconds, got {_clip(time_ms)}")
    port = doc.get("port", 0)
    if isinstance(port, bool) or not isinstance(port, int):
        raise InputError(f"{where}: 'port' must be an integer, got {_clip(port)}")
    body = doc.get("body")
    if body is not None:
        if not isinstance(body, str):
            raise InputError(f"{where}: 'body' must be base64 text or null")
        try:
            body = base64.b64decode(body, validate=True)
        except ValueError:
            raise InputError(f"{where}: 'body' is not valid base64") from None
    return TrafficRecord(
        method=method,
        uri=uri,
        query=text("query", optional=True),
        headers=_headers(doc.get("headers", []), f"{where}: 'headers'"),
        ip=text("ip", "127.0.0.1") or "127.0.0.1",
        port=port,
        scheme=text("scheme", "https") or "https",
        http_version=text("http_version", "1.1") or "1.1",
        country=text("country", optional=True),
        pop=text("pop", optional=True),
        time_ms=float(time_ms),
        body=body,
        has_body=bool(doc.get("has_body", body is not None)),
        origin=_origin(doc.get("origin"), where),
    )


def _headers(value: Any, where: str) -> Headers:
    if not isinstance(value, list):
        raise InputError(f"{where} must be a list of [name, value] pairs")
    pairs: Headers = []
    for index, pair in enumerate(value):
        ok = isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        if not ok:
            raise InputError(f"{where}[{index}]: expected [name, value] strings, got {pair!r}")
        pairs.append((pair[0].lower(), pair[1]))
    return pairs


def _origin(value: Any, where: str) -> OriginStub | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError(f"{where}: 'origin' must be an object or null")
    status = value.get("status")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise InputError(f"{where}: 'origin.status' must be an HTTP status, got {status!r}")
    return OriginStub(status, _headers(value.get("headers", []), f"{where}: 'origin.headers'"))


def _clip(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"
