"""CloudFront standard access logs (legacy S3 format, plain or gzipped) as recorded traffic.

Facts used (AWS Developer Guide, "Standard logging reference", log file fields; field reports):

* ``#Version:`` and ``#Fields:`` header lines; ``#Fields:`` names the tab-separated fields of
  every following line, so fields may be missing or reordered. ``-`` marks an empty value.
* ``x-edge-location``: "a three-letter code and an arbitrarily assigned number", e.g.
  ``IAD89-C1``; the code is usually a nearby airport's IATA code (see :mod:`.airports`).
* ``x-host-header`` is the Host header the viewer sent; ``cs(Host)`` is the distribution's
  domain name. ``cs(Cookie)`` is filled only when cookie logging is on.
* "URL-encoded equivalents are used for spaces and certain other characters in field values"
  — and a ``%`` the viewer sent is itself encoded, so ``%2C`` in a URL appears as ``%252C``
  (mapbox/aws-log-replay#20; trezor/trezor-suite#22907). Fields are therefore decoded exactly
  once, which gives back the value as it was on the wire.
* ``date``/``time`` is when the response finished (UTC, to the second); ``time-taken`` its
  duration in seconds, so the arrival is estimated as time − time-taken.

What a log lacks is stated up front (:data:`MISSING_INPUTS`): any other request header, the
viewer's country, sub-second timing and the origin's headers. A rehearsal on a log is therefore
*partial*: a decision made on a missing input cannot be seen.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from edgesim.edge.message import Headers
from edgesim.errors import InputError
from edgesim.rehearse.airports import PopMapper
from edgesim.rehearse.traffic import OriginStub, TrafficRecord

ACCESS_LOG = "cloudfront-access-log"
# The request headers a rehearsal on a standard log can give a function.
LOG_HEADERS = frozenset({"host", "user-agent", "referer", "cookie", "x-forwarded-for"})
REQUIRED_FIELDS = ("date", "time", "x-edge-location", "cs-method", "cs-uri-stem")
# Request headers a standard log carries (besides Host): the only ones a rehearsal can replay.
LOGGED_HEADERS = {"cs(User-Agent)": "user-agent", "cs(Referer)": "referer", "cs(Cookie)": "cookie"}
MISSING_INPUTS = (
    "request headers other than Host, User-Agent, Referer and Cookie (a standard log has no "
    "others: Authorization, Accept-Language, custom headers … are absent)",
    "the viewer's country (CloudFront-Viewer-Country and the other geo headers are decided by "
    "[edges] default_country / country_cidrs / geoip_database, not by the viewer)",
    "arrival time below the second (the log has the second the response finished)",
    "the origin's response headers (only sc-status, on Hit/Miss lines)",
)
_FROM_ORIGIN = frozenset({"Hit", "RefreshHit", "Miss"})


@dataclass
class AccessLog:
    records: list[TrafficRecord]
    missing_inputs: list[str]
    warnings: list[str] = field(default_factory=list)


def is_access_log(path: Path) -> bool:
    try:
        head = _open_lines(path)
        first = next(head, "")
    except (OSError, EOFError, gzip.BadGzipFile):
        return False
    return first.startswith(("#Version:", "#Fields:"))


def read_access_log(path: Path, pops: tuple[str, ...]) -> AccessLog:
    """Every request line of ``path`` as a :class:`TrafficRecord`, its POP mapped onto ``pops``."""
    mapper = PopMapper(pops)
    records: list[TrafficRecord] = []
    fields: list[str] | None = None
    try:
        for number, line in enumerate(_open_lines(path), start=1):
            if not line.strip():
                continue
            if line.startswith("#"):
                if line.startswith("#Fields:"):
                    fields = line[len("#Fields:") :].split()
                    _check_fields(fields, f"{path}:{number}")
                continue
            where = f"{path}:{number}"
            if fields is None:
                raise InputError(f"{where}: a log line before the #Fields: header line")
            values = line.rstrip("\r\n").split("\t")
            if len(values) != len(fields):
                raise InputError(
                    f"{where}: {len(values)} tab-separated values where #Fields: names "
                    f"{len(fields)}"
                )
            records.append(_record(dict(zip(fields, values, strict=True)), mapper, where))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the access log: {exc.strerror}") from None
    except (EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: broken gzip file: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if fields is None:
        raise InputError(f"{path}: no #Fields: header line (not a CloudFront standard log?)")
    missing = list(MISSING_INPUTS)
    if "cs(Cookie)" not in fields or not any(_has_cookie(r) for r in records):
        missing.insert(1, "cookies (no cs(Cookie) values: cookie logging is off)")
    return AccessLog(records, missing, sorted(mapper.notes.values()))


def _open_lines(path: Path) -> Iterator[str]:
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as stream:
            yield from stream
    else:
        with path.open(encoding="utf-8", newline="\n") as stream:
            yield from stream


def _check_fields(fields: list[str], where: str) -> None:
    missing = [name for name in REQUIRED_FIELDS if name not in fields]
    if missing:
        raise InputError(f"{where}: #Fields: lacks {', '.join(missing)}")


def _has_cookie(record: TrafficRecord) -> bool:
    return any(name == "cookie" for name, _ in record.headers)


def _value(row: dict[str, str], name: str) -> str | None:
    raw = row.get(name)
    if raw is None or raw == "-":
        return None
    return unquote(raw)


def _record(row: dict[str, str], mapper: PopMapper, where: str) -> TrafficRecord:
    try:
        finished = datetime.strptime(f"{row['date']} {row['time']}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise InputError(
            f"{where}: date/time {row['date']!r} {row['time']!r} is not YYYY-MM-DD HH:MM:SS"
        ) from None
    time_ms = finished.replace(tzinfo=UTC).timestamp() * 1000
    taken = row.get("time-taken", "-")
    try:
        time_ms -= float(taken) * 1000 if taken != "-" else 0.0
    except ValueError:
        raise InputError(f"{where}: time-taken {taken!r} is not a number of seconds") from None
    headers: Headers = []
    host = _value(row, "x-host-header") or _value(row, "cs(Host)")
    if host:
        headers.append(("host", host))
    for name, header in LOGGED_HEADERS.items():
        value = _value(row, name)
        if value is not None:
            headers.append((header, value))
    forwarded = _value(row, "x-forwarded-for")
    if forwarded:
        headers.append(("x-forwarded-for", forwarded))
    stem = _value(row, "cs-uri-stem") or "/"
    if not stem.startswith("/"):
        raise InputError(f"{where}: cs-uri-stem {stem!r} is not a path")
    port = row.get("c-port", "-")
    version = row.get("cs-protocol-version", "-")
    scheme = row.get("cs-protocol", "-")
    return TrafficRecord(
        method=row["cs-method"],
        uri=stem,
        query=_value(row, "cs-uri-query"),
        headers=headers,
        ip=row.get("c-ip", "-") if row.get("c-ip", "-") != "-" else "127.0.0.1",
        port=int(port) if port.isdigit() else 0,
        scheme=scheme if scheme in ("http", "https") else "https",
        http_version=version.removeprefix("HTTP/") if version.startswith("HTTP/") else "1.1",
        country=None,
        pop=mapper.map(row["x-edge-location"]),
        time_ms=time_ms,
        origin=_origin(row),
    )


def _origin(row: dict[str, str]) -> OriginStub | None:
    """sc-status is the origin's status when the response came from the origin or the cache and
    no function made it (x-edge-detailed-result-type Hit, RefreshHit or Miss)."""
    result = row.get("x-edge-detailed-result-type") or row.get("x-edge-result-type")
    status = row.get("sc-status", "-")
    if result not in _FROM_ORIGIN or not status.isdigit() or not 100 <= int(status) <= 599:
        return None
    content_type = _value(row, "sc-content-type")
    return OriginStub(int(status), [("content-type", content_type)] if content_type else [])
