"""``edgesim clock``: read and move a running serve's clock through its admin API (``/clock``).

``edgesim clock`` prints it; ``set ISO``, ``advance DURATION`` (``90s``, ``15m``, ``1d``),
``freeze`` and ``thaw`` move it. The admin endpoint is found as every admin client finds it
(:mod:`edgesim.controlplane.endpoint`). Exit codes: 0 done; 1 the endpoint is unreachable or
failed; 2 bad input (an argument, or a move serve refused: the clock never goes back).
Also the ``serve --now`` / ``--frozen`` overrides of ``[server] now`` / ``frozen``.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import replace
from typing import Any

import orjson

from edgesim.controlplane.client import ControlPlaneClient, ControlPlaneError, EndpointUnreachable
from edgesim.controlplane.endpoint import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    add_endpoint_arguments,
    endpoint_of,
)
from edgesim.distribution.model import ServerSettings
from edgesim.errors import InputError
from edgesim.kvs.clock import ClockError, parse_instant

CLOCK_PATH = "/clock"
TIMEOUT_S = 10.0
UNITS_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d)")

DESCRIPTION = """\
Read or move the clock of a running `edgesim serve`: what functions' Date.now()
returns, how old cached objects are, when KVS writes reach each POP, throttling
windows and access-log times. The clock only moves forward.

  edgesim clock                          print it
  edgesim clock set 2030-01-01T09:00:00Z move it to this time (not earlier)
  edgesim clock advance 15m              move it ahead: an integer and ms, s, m, h or d
  edgesim clock freeze | thaw            stop it, or let it run again from where it stands

Exit codes: 0 done, 1 serve unreachable or failed, 2 bad input (or a move serve
refused). See docs/clock.md."""


class ClockClient(ControlPlaneClient):
    """``GET`` / ``POST /clock`` on serve's admin port."""

    def read(self) -> dict[str, Any]:
        doc: dict[str, Any] = self._call("GET", CLOCK_PATH).body
        return doc

    def move(self, move: dict[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = self._call("POST", CLOCK_PATH, move).body
        return doc


def parse_duration(text: str) -> int:
    """``90s`` → 90000: milliseconds of an integer and one unit (ms, s, m, h, d)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise InputError(
            f"advance {text!r}: expected an integer and one unit (ms, s, m, h, d), "
            "e.g. 500ms, 90s, 15m, 2h, 1d"
        )
    return int(match[1]) * UNITS_MS[match[2]]


def clock_overrides(server: ServerSettings, args: argparse.Namespace) -> ServerSettings:
    """``serve --now ISO`` and ``--frozen`` over ``[server] now`` and ``frozen``."""
    now = getattr(args, "now", None)
    if now:
        try:
            server = replace(server, now=parse_instant(now, "--now"))
        except ClockError as exc:
            raise InputError(str(exc)) from None
    if getattr(args, "frozen", False):
        server = replace(server, frozen=True)
    return server


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    clock = sub.add_parser(
        "clock",
        help="read or move a running serve's clock",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_endpoint_arguments(clock)
    _json_flag(clock, False)
    clock.set_defaults(handler=cmd_clock)
    moves = clock.add_subparsers(dest="clock_command", metavar="COMMAND")
    set_ = moves.add_parser("set", help="move the clock to a time (not earlier than it)")
    set_.add_argument("time", metavar="ISO-8601", help="e.g. 2030-01-01T09:00:00Z")
    advance = moves.add_parser("advance", help="move the clock ahead by a duration")
    advance.add_argument("duration", metavar="DURATION", help="e.g. 500ms, 90s, 15m, 2h, 1d")
    freeze = moves.add_parser("freeze", help="stop the clock where it stands")
    thaw = moves.add_parser("thaw", help="let the clock run again from where it stands")
    for parser in (set_, advance, freeze, thaw):
        _leaf_endpoint_arguments(parser)
        _json_flag(parser, argparse.SUPPRESS)
        parser.set_defaults(handler=cmd_clock)


def _json_flag(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--json", action="store_true", default=default, help="print the clock as JSON"
    )


def _leaf_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """``--endpoint`` / ``--config`` after the subcommand too, without erasing the ones given
    before it (argparse would put a subcommand's default over them)."""
    parser.add_argument(
        "--endpoint", metavar="URL", default=argparse.SUPPRESS, help="admin endpoint"
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="read the admin endpoint from this edgesim.toml",
    )


def _move(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ``POST /clock`` body the subcommand asks for (None: just read), checked here first
    so a typo never reaches serve."""
    command = args.clock_command
    if command == "set":
        try:
            parse_instant(args.time, "set")
        except ClockError as exc:
            raise InputError(str(exc)) from None
        return {"now": args.time}
    if command == "advance":
        return {"advance_ms": parse_duration(args.duration)}
    if command in ("freeze", "thaw"):
        return {"frozen": command == "freeze"}
    return None


def cmd_clock(args: argparse.Namespace) -> int:
    try:
        move = _move(args)
        endpoint = endpoint_of(args)
    except InputError as exc:
        print(f"edgesim: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    client = ClockClient(endpoint, timeout=TIMEOUT_S)
    try:
        shown = client.read() if move is None else client.move(move)
    except EndpointUnreachable as exc:
        print(f"edgesim: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ControlPlaneError as exc:
        print(f"edgesim: {client.endpoint}{CLOCK_PATH}: {exc.message}", file=sys.stderr)
        if exc.status == 404:
            print(
                "edgesim: (no /clock there: is it `edgesim serve`, and recent enough?)",
                file=sys.stderr,
            )
        return EXIT_BAD_INPUT if exc.status == 400 else EXIT_FAILED
    if not isinstance(shown, dict) or "now" not in shown:
        print(f"edgesim: {client.endpoint}{CLOCK_PATH}: unexpected answer", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        sys.stdout.write(orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(describe(shown))
    sys.stdout.flush()
    return EXIT_OK


def describe(shown: dict[str, Any]) -> str:
    """``2030-01-01T09:00:00.000Z (frozen; 1491 d 3 h 12 min 5.25 s ahead of real time)``."""
    state = "frozen" if shown.get("frozen") else "running"
    offset = int(shown.get("offset_ms", 0))
    if abs(offset) < 1_000:
        where = "real time"
    else:
        where = f"{_span(abs(offset))} {'ahead of' if offset > 0 else 'behind'} real time"
    return f"{shown['now']} ({state}; {where})"


def _span(ms: int) -> str:
    days, rest = divmod(ms, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    if rest or not parts:
        parts.append(f"{rest / 1000:g} s")
    return " ".join(parts)
