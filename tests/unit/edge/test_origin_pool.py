"""edgesim.edge.origin_pool: kept-alive GETs to plain-HTTP origins, against raw loopback origins.

What users rely on: the origin receives the same bytes as through aiohttp's session (the path the
pool replaced for speed), connections are reused as keep-alive ones are, and an origin that
drops an idle connection, answers with interim 1xx responses, closes to end a body, or answers
something that is not HTTP is handled as the session handled it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
import yarl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgesim.distribution.model import Origin
from edgesim.edge import origin_pool
from edgesim.edge.origin import OriginClient, OriginFailure, OriginRequest, origin_session
from edgesim.edge.origin_pool import request_head

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@dataclass
class RawOrigin:
    """A loopback origin speaking raw HTTP/1.1: ``answer(head)`` gives the bytes to send back
    for each request head read, and whether to close the connection after them."""

    answer: Callable[[bytes], tuple[bytes, bool]]
    heads: list[bytes] = field(default_factory=list)
    connections: int = 0
    closed_by_client: int = 0
    url: str = ""
    delay_s: float = 0.0  # before each answer
    open_now: int = 0
    open_most: int = 0


@contextlib.asynccontextmanager
async def raw_origin(answer: Callable[[bytes], tuple[bytes, bool]]) -> AsyncIterator[RawOrigin]:
    state = RawOrigin(answer)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        state.open_now += 1
        state.open_most = max(state.open_most, state.open_now)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    state.closed_by_client += 1
                    return
                state.heads.append(head)
                if state.delay_s:
                    await asyncio.sleep(state.delay_s)
                data, close = state.answer(head)
                writer.write(data)
                await writer.drain()
                if close:
                    return
        except ConnectionError:
            return
        finally:
            state.open_now -= 1
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


async def closed_by_client(origin: RawOrigin) -> int:
    """How many connections the client closed, once it has closed one (or after 0.2 s)."""
    for _ in range(20):
        if origin.closed_by_client:
            break
        await asyncio.sleep(0.01)
    return origin.closed_by_client


@pytest.fixture
async def client() -> AsyncIterator[OriginClient]:
    origin_client = OriginClient()
    yield origin_client
    await origin_client.close()


def origin_at(url: str, **kw: float) -> Origin:
    return Origin(id="app", url=url, **kw)  # type: ignore[arg-type]


async def fetch(client: OriginClient, origin: Origin, path: str = "/") -> tuple[int, bytes]:
    response = await client.send(origin, OriginRequest("GET", path, None, [("Host", "h")]))
    body = b"".join([chunk async for chunk in response.content.iter_chunked(1024)])
    response.release()
    return response.status, body


# --- the bytes on the wire: the same as through the session ---------------------------------------
HEADER_NAMES = st.sampled_from(["Host", "host", "HOST", "X-A", "x-a", "Cookie", "Via", "X y", ""])
TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from("\t\r\n\x00\x7f:"),
    max_size=12,
)
PATHS = st.builds(lambda p: "/" + p, TEXT)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=PATHS,
    query=st.none() | TEXT,
    headers=st.lists(st.tuples(HEADER_NAMES | TEXT, TEXT), max_size=6),
)
async def test_the_request_head_is_what_the_session_sends(
    path: str, query: str | None, headers: list[tuple[str, str]]
) -> None:
    async with raw_origin(lambda _: (OK, False)) as origin:
        target = origin.url + path + ("" if query is None else f"?{query}")
        try:
            url = yarl.URL(target, encoded=True)
        except ValueError:
            return  # a URL yarl refuses never reaches either path
        session = origin_session()
        try:
            async with session.get(url, headers=headers) as response:
                await response.read()
            sent: bytes | None = origin.heads[-1]
        except ValueError:
            sent = None
        finally:
            await session.close()
        try:
            ours: bytes | None = request_head("GET", url, headers)
        except ValueError:
            ours = None
        assert ours == sent


# --- connections ----------------------------------------------------------------------------------
async def test_one_connection_serves_requests_one_after_another(client: OriginClient) -> None:
    async with raw_origin(lambda _: (OK, False)) as origin:
        for _ in range(5):
            assert await fetch(client, origin_at(origin.url)) == (200, b"ok")
        assert origin.connections == 1


async def test_an_idle_connection_the_origin_dropped_is_replaced_without_an_error(
    client: OriginClient,
) -> None:
    # Keep-alive answers, but the origin hangs up after each one (as an origin whose idle
    # timeout is shorter than ours does): the next request must not be a 502.
    async with raw_origin(lambda _: (OK, True)) as origin:
        for _ in range(3):
            assert await fetch(client, origin_at(origin.url, connection_attempts=1)) == (
                200,
                b"ok",
            )
            await asyncio.sleep(0.01)  # the FIN arrives while the connection is idle
        assert origin.connections == 3


async def test_a_connection_close_answer_is_not_reused(client: OriginClient) -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    async with raw_origin(lambda _: (closing, False)) as origin:
        for _ in range(2):
            assert await fetch(client, origin_at(origin.url)) == (200, b"ok")
        assert origin.connections == 2


async def test_a_response_released_before_its_body_ended_closes_its_connection(
    client: OriginClient,
) -> None:
    long = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 10
    async with raw_origin(lambda _: (long, False)) as origin:
        response = await client.send(
            origin_at(origin.url), OriginRequest("GET", "/", None, [("Host", "h")])
        )
        response.release()  # 99,990 bytes still to come on that connection
        assert await closed_by_client(origin) == 1


async def test_a_body_without_length_ends_when_the_origin_closes(client: OriginClient) -> None:
    until_eof = b"HTTP/1.1 200 OK\r\n\r\nall of it"
    async with raw_origin(lambda _: (until_eof, True)) as origin:
        assert await fetch(client, origin_at(origin.url)) == (200, b"all of it")
        assert await fetch(client, origin_at(origin.url)) == (200, b"all of it")


async def test_interim_answers_are_skipped(client: OriginClient) -> None:
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
    async with raw_origin(lambda _: (hints + OK, False)) as origin:
        assert await fetch(client, origin_at(origin.url)) == (200, b"ok")


async def test_an_answer_that_is_not_http_is_a_502(client: OriginClient) -> None:
    async with raw_origin(lambda _: (b"SSH-2.0-OpenSSH\r\n\r\n", True)) as origin:
        with pytest.raises(OriginFailure) as caught:
            await fetch(client, origin_at(origin.url))
        assert caught.value.status == 502
        assert caught.value.reason.startswith("origin app: ")


async def test_closing_the_client_closes_idle_connections() -> None:
    origin_client = OriginClient()
    async with raw_origin(lambda _: (OK, False)) as origin:
        assert await fetch(origin_client, origin_at(origin.url)) == (200, b"ok")
        await origin_client.close()
        assert await closed_by_client(origin) == 1


async def test_idle_connections_are_closed_after_the_keep_alive_time(
    monkeypatch: pytest.MonkeyPatch, client: OriginClient
) -> None:
    monkeypatch.setattr(origin_pool, "KEEPALIVE_S", 0.05)
    async with raw_origin(lambda _: (OK, False)) as origin:
        origin.delay_s = 0.02  # three requests at once: three connections, then all idle
        answers = await asyncio.gather(*(fetch(client, origin_at(origin.url)) for _ in range(3)))
        assert answers == [(200, b"ok")] * 3
        assert origin.connections == 3
        for _ in range(50):
            if origin.closed_by_client == 3:
                break
            await asyncio.sleep(0.01)
        assert origin.closed_by_client == 3  # none left open until the origin drops it


async def test_connections_in_use_are_limited_and_the_rest_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(origin_pool, "MAX_IN_USE", 2)
    limited = OriginClient()
    try:
        async with raw_origin(lambda _: (OK, False)) as origin:
            origin.delay_s = 0.3  # two at a time: the second pair waits 0.3 s for a slot
            answers = await asyncio.gather(
                *(fetch(limited, origin_at(origin.url, connect_timeout_s=0.25)) for _ in range(4))
            )
            assert answers == [(200, b"ok")] * 4  # waiting for a slot is not a connect timeout
            assert origin.open_most == 2
    finally:
        await limited.close()


@pytest.mark.parametrize("answer", [None, b"SPAM\r\n\r\n"], ids=["refused", "not-http"])
async def test_failures_read_the_same_through_the_pool_and_the_session(
    client: OriginClient, answer: bytes | None
) -> None:
    async def reason(method: str, url: str) -> tuple[int, str]:
        with pytest.raises(OriginFailure) as caught:
            await client.send(origin_at(url), OriginRequest(method, "/x", None, [("Host", "h")]))
        return caught.value.status, caught.value.reason

    if answer is None:
        with socket.socket() as sock:  # a loopback port nothing listens on
            sock.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        # GET goes through the pool, OPTIONS through the session.
        assert await reason("GET", url) == await reason("OPTIONS", url)
    else:
        async with raw_origin(lambda _: (answer, True)) as origin:
            assert await reason("GET", origin.url) == await reason("OPTIONS", origin.url)
