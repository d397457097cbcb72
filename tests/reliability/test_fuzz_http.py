"""Fuzzing the raw HTTP edge (issue 11, "Fuzzing"): hypothesis writes bytes to the viewer
listener's socket — request lines, header blocks, bodies and their framing, pipelined requests,
connections closed early or reset mid-response — and serve must:

- never print a traceback (no log record with ``exc_info``, no error record, nothing from the
  event loop's exception handler, no "Traceback" on serve's console);
- never hang: a request that is complete on the wire is answered, or its connection closed,
  within ``HANG_S``;
- answer what it refuses with a 4xx from the edge (``X-Cache: Error from cloudfront``) whose body
  says what was wrong, never a 5xx (nothing here is the function's or the origin's fault: the
  function passes the request through and the origin answers everything), and log it;
- serve well-formed requests as usual (200; 413 exactly when the request line plus headers are
  over 20,480 bytes or the URL is 8,192 characters or more: docs/serve.md, "Limits and failures";
  403 for a GET with a body);
- stay healthy: after every example a plain GET on a new connection gets the origin's 200.

One serve (HTTP and HTTPS listeners) and one origin for the whole module, on an event loop of
the module's own, so every example also checks that earlier ones left nothing broken behind.
Example budgets come from the hypothesis profile (``ci`` in make test, ``soak`` in make soak).
The cases and their strategies are in ``http_wire.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import ssl
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from edgesim.app import EdgeServer
from edgesim.distribution.config import load_config
from tests.reliability.conftest import budget
from tests.reliability.http_wire import (
    URL_LIMIT,
    Case,
    Reply,
    garbage,
    incomplete,
    left_mid_response,
    odd_request,
    pipelined,
    read_reply,
)

T = TypeVar("T")

HANG_S = 5.0  # a complete request is answered (or its connection closed) within this
QUIET_S = 0.2  # how long an incomplete request is left waiting before the client gives up
BIG = 4 * 1024 * 1024  # the origin's large object

PASS_JS = "function handler(event) { return event.request; }\n"
ALL_METHODS = '["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]'
CONFIG = f"""
[server]
port = 0
admin_port = 0
https_port = 0
ephemeral = true
keepalive_timeout_s = 5

[[origins]]
id = "app"
url = "{{origin}}"

[[functions]]
name = "pass"
file = "pass.js"

[[behaviors]]
path = "/c/*"
origin = "app"
cache_policy = "CachingOptimized"
allowed_methods = {ALL_METHODS}

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"
viewer_request = "pass"
allowed_methods = {ALL_METHODS}
"""


# --- serve, its origin and what they log ------------------------------------------------------


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Console(io.StringIO):
    """serve's console (its ``stream``), kept as lines."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.lines.extend(line for line in text.splitlines() if line)
        return len(text)


@dataclass
class Edge:
    loop: asyncio.AbstractEventLoop
    server: EdgeServer
    console: Console
    records: Records
    loop_errors: list[dict[str, Any]]
    tls: ssl.SSLContext

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def port(self, *, https: bool) -> int:
        port = self.server.https_port if https else self.server.viewer_port
        assert port
        return port

    def mark(self) -> tuple[int, int, int]:
        return len(self.console.lines), len(self.records.records), len(self.loop_errors)

    def assert_no_traceback(self, since: tuple[int, int, int]) -> None:
        lines = self.console.lines[since[0] :]
        records = self.records.records[since[1] :]
        assert not [line for line in lines if "Traceback" in line], lines
        bad = [r for r in records if r.exc_info or r.levelno >= logging.ERROR]
        assert not bad, [(r.name, r.getMessage(), r.exc_info) for r in bad]
        assert not self.loop_errors[since[2] :], self.loop_errors[since[2] :]


async def _origin() -> tuple[web.AppRunner, str]:
    """An origin that reads every body and answers everything 200 (so any 4xx or 5xx the
    viewer sees is the edge's)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.path.endswith("/big"):  # for viewers that leave mid-response
            response = web.StreamResponse()
            response.content_length = BIG
            await response.prepare(request)
            for _ in range(BIG // 65_536):
                await response.write(b"b" * 65_536)
            await response.write_eof()
            return response
        return web.Response(body=b"origin ok %d" % len(body))

    app = web.Application(client_max_size=1 << 24)
    app.router.add_route("*", "/{tail:.*}", handle)
    # Wider limits than aiohttp's defaults: everything the edge forwards must be readable.
    runner = web.AppRunner(
        app, access_log=None, max_line_size=65_536, max_field_size=65_536, max_headers=20_000
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    base: Path = tmp_path_factory.mktemp("fuzz-http")
    loop = asyncio.new_event_loop()
    loop_errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    records = Records()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    origin_runner, origin_url = loop.run_until_complete(_origin())
    (base / "pass.js").write_text(PASS_JS)
    (base / "edgesim.toml").write_text(CONFIG.replace("{origin}", origin_url))
    console = Console()
    server = EdgeServer(load_config(base / "edgesim.toml"), stream=console)
    loop.run_until_complete(server.start())
    assert server.tls is not None
    tls = ssl.create_default_context(cafile=str(server.tls.ca_cert))
    tls.check_hostname = False
    try:
        yield Edge(loop, server, console, records, loop_errors, tls)
    finally:
        loop.run_until_complete(server.stop())
        loop.run_until_complete(origin_runner.cleanup())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        root.removeHandler(records)
        root.setLevel(old_level)


# --- a case on the wire -------------------------------------------------------------------


@dataclass
class Outcome:
    replies: list[Reply]
    closed: bool  # the edge closed the connection
    waited_out: bool  # an incomplete request left waiting, then given up by the client


async def exchange(edge: Edge, case: Case, *, https: bool = False) -> Outcome:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1",
        edge.port(https=https),
        ssl=edge.tls if https else None,
        server_hostname="localhost" if https else None,
    )
    replies: list[Reply] = []
    closed = waited_out = False
    try:
        for piece in case.splits():
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0)
        if case.abort:
            return Outcome([], False, False)
        if case.read_then_drop is not None:
            await asyncio.wait_for(reader.readexactly(case.read_then_drop), HANG_S)
            writer.transport.abort()  # a reset, as a browser tab closed mid-download
            return Outcome([], False, False)
        for method in case.methods:
            try:
                reply = await asyncio.wait_for(
                    read_reply(reader, method), HANG_S if case.complete else QUIET_S
                )
            except TimeoutError:
                assert not case.complete, f"no answer within {HANG_S} s (replies: {replies})"
                waited_out = True
                break
            except ConnectionResetError:
                closed = True
                break
            if reply is None:
                closed = True
                break
            replies.append(reply)
            if reply.headers.get("connection", "").lower() == "close":
                # The edge closes after saying so (once it has read what the request announced:
                # for a request cut short, aiohttp lingers for the rest of its body).
                try:
                    wait = HANG_S if case.complete else QUIET_S
                    closed = await asyncio.wait_for(reader.read(), wait) == b""
                except TimeoutError:
                    assert not case.complete, f"{reply} said close; the connection stayed open"
                    waited_out = True
                break
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await writer.wait_closed()
    return Outcome(replies, closed, waited_out)


async def healthy(edge: Edge, *, https: bool = False) -> None:
    case = Case(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", ["GET"])
    outcome = await exchange(edge, case, https=https)
    assert [r.status for r in outcome.replies] == [200], outcome
    assert outcome.replies[0].body == b"origin ok 0"


def bump(figures: dict[str, object], key: str) -> None:
    count = figures.get(key, 0)
    assert isinstance(count, int)
    figures[key] = count + 1


def check(edge: Edge, case: Case, figures: dict[str, object], *, https: bool = False) -> Outcome:
    """Send ``case``, then check the invariants and record the figures."""
    since = edge.mark()
    outcome = edge.run(exchange(edge, case, https=https))
    if currently_in_test_context():  # the plain regression tests below use check() too
        note(f"replies: {[(r.status, r.body[:120]) for r in outcome.replies]}")
    edge.run(healthy(edge, https=https))
    edge.assert_no_traceback(since)
    bump(figures, "examples")
    for _ in case.methods:
        bump(figures, "requests sent")
    for reply, method in zip(outcome.replies, case.methods, strict=False):
        bump(figures, f"responses {reply.status}")
        assert reply.status < 500, f"a 5xx for the viewer's bytes: {reply}"
        if reply.status >= 400:
            # Refused by the edge itself (the origin answers everything 200), and said why.
            assert reply.from_edge, reply
            if reply.body or method != "HEAD":
                assert reply.headers.get("content-type", "").startswith("text/"), reply
                assert len(reply.body.strip()) >= 20, reply
    if case.read_then_drop is not None:
        bump(figures, "dropped by the client mid-response")
    elif case.abort:
        bump(figures, "dropped by the client at once")
    elif outcome.waited_out:
        bump(figures, "incomplete, given up by the client")
    elif not outcome.replies:
        bump(figures, "closed without a response")
    if case.expected is not None and not case.abort:
        assert [r.status for r in outcome.replies] == case.expected, outcome
    # Every refusal is on serve's console: one line naming its status.
    console = edge.console.lines[since[0] :]
    for reply in outcome.replies:
        if reply.status >= 400:
            assert any(f"→ {reply.status} " in line for line in console), console
    return outcome


FUZZ = settings(
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # figures add up across examples on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    deadline=None,
)


# --- the tests -------------------------------------------------------------------------------


@FUZZ
@given(case=pipelined())
def test_well_formed_requests_get_their_answer(
    edge: Edge, figures: dict[str, object], case: Case
) -> None:
    """Well-formed requests, pipelined and split at random: 200, or 413 over CloudFront's
    lengths, or 403 for a GET/HEAD with a body; in order, nothing after a 413."""
    check(edge, case, figures)


@FUZZ
@given(case=odd_request())
def test_odd_requests_are_refused_with_a_4xx_or_served(
    edge: Edge, figures: dict[str, object], case: Case
) -> None:
    check(edge, case, figures)


@FUZZ
@given(case=garbage())
def test_garbage_is_refused_at_once(edge: Edge, figures: dict[str, object], case: Case) -> None:
    outcome = check(edge, case, figures)
    # Whatever the bytes were, the edge said something or closed the connection.
    assert outcome.replies or outcome.closed


@FUZZ
@given(case=incomplete())
def test_requests_cut_short_or_dropped(edge: Edge, figures: dict[str, object], case: Case) -> None:
    check(edge, case, figures)


@settings(FUZZ, max_examples=int(budget(30, 300)))
@given(case=left_mid_response())
def test_viewers_leaving_mid_response(edge: Edge, figures: dict[str, object], case: Case) -> None:
    check(edge, case, figures)


@settings(FUZZ, max_examples=int(budget(15, 200)))
@given(case=st.one_of(pipelined(), odd_request(), garbage(), incomplete(), left_mid_response()))
def test_the_https_listener_too(edge: Edge, figures: dict[str, object], case: Case) -> None:
    check(edge, case, figures, https=True)


def test_a_head_with_a_body_is_answered_promptly(edge: Edge, figures: dict[str, object]) -> None:
    data = b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"
    check(edge, Case(data, ["HEAD"]), figures)


def test_a_url_just_under_the_limit_passes_an_unchanging_function(
    edge: Edge, figures: dict[str, object]
) -> None:
    target = b"/?" + b"u" * (URL_LIMIT - 3)  # 8,191 characters
    data = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    check(edge, Case(data, ["GET"], expected=[200]), figures)
