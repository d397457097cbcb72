"""``/clock`` on the admin port: read and move serve's clock (docs/clock.md).

``GET /clock`` answers ``{"now", "now_ms", "frozen", "offset_ms"}``; ``POST /clock`` takes exactly
one of ``{"now": ISO-8601}``, ``{"advance_ms": N}`` (an integer, 0 or more) or ``{"frozen":
true|false}`` and answers the same object after the move. Time never goes back: a refused move
answers 400 with a message naming the field, and the clock is unchanged. The admin guard (Host
allow-list, and the inspector's token for a browser) applies as to every state-changing route.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edgesim.kvs.clock import ClockError, SettableClock, parse_instant, to_iso

CLOCK_PATH = "/clock"
CLOCK_KEY: web.AppKey[SettableClock] = web.AppKey("edge_clock")
_MOVES = ("now", "advance_ms", "frozen")
_USAGE = (
    'send exactly one of {"now": "2030-01-01T09:00:00Z"}, {"advance_ms": 60000}, {"frozen": true}'
)


def add_clock_routes(admin: web.Application, clock: SettableClock) -> None:
    admin[CLOCK_KEY] = clock
    admin.router.add_get(CLOCK_PATH, _read)
    admin.router.add_post(CLOCK_PATH, _move)


def _refused(field: str | None, message: str) -> web.Response:
    text = f"{field}: {message}" if field else message
    return web.json_response(
        {"message": text, "field": field, "error": {"code": "InvalidClockMove", "message": text}},
        status=400,
    )


async def _read(request: web.Request) -> web.Response:
    return web.json_response(request.app[CLOCK_KEY].describe())


async def _move(request: web.Request) -> web.Response:
    clock = request.app[CLOCK_KEY]
    try:
        doc = await request.json()
    except ValueError:
        return _refused(None, f"the body is not JSON: {_USAGE}")
    problem = _problem(doc)
    if problem is not None:
        return _refused(*problem)
    ((field, value),) = doc.items()
    try:
        if field == "now":
            clock.set(parse_instant(value, "now"), field="now")
        elif field == "advance_ms":
            clock.advance_ns(value * 1_000_000, field="advance_ms")
        elif value:
            clock.freeze()
        else:
            clock.thaw()
    except ClockError as exc:
        return _refused(exc.field, exc.reason)
    return web.json_response(clock.describe())


def _problem(doc: Any) -> tuple[str | None, str] | None:
    """What is wrong with a move's shape (before the clock is touched), naming the field."""
    if not isinstance(doc, dict):
        return None, f"expected a JSON object: {_USAGE}"
    unknown = [key for key in doc if key not in _MOVES]
    if unknown:
        return str(unknown[0]), f"unknown field; {_USAGE}"
    if len(doc) != 1:
        fields = ", ".join(doc) or "none"
        return (None if not doc else ", ".join(doc)), f"{_USAGE} (got {fields})"
    ((field, value),) = doc.items()
    if field == "now" and not isinstance(value, str):
        return field, f"expected an ISO-8601 string such as 2030-01-01T09:00:00Z, got {value!r}"
    if field == "advance_ms":
        if isinstance(value, bool) or not isinstance(value, int):
            return field, f"expected an integer number of milliseconds, 0 or more, got {value!r}"
        if value < 0:
            return field, f"must be 0 or more: the clock never goes back (got {value})"
    if field == "frozen" and not isinstance(value, bool):
        return field, f"expected true or false, got {value!r}"
    return None


def clock_banner(clock: object) -> list[str]:
    """serve's start-up line about its clock, when it is not simply the real time."""
    if not isinstance(clock, SettableClock):
        return []
    if not clock.frozen and abs(clock.offset_ms()) < 1_000:
        return []
    state = "frozen" if clock.frozen else "running"
    return [f"clock: {to_iso(clock.now())}, {state} (move it with `edgesim clock` or POST /clock)"]
