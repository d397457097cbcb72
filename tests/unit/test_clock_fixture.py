"""The ``edgesim_server`` fixture's clock: ``server.advance(seconds)`` as before, and
``server.clock`` with serve's moves (now, set, advance, freeze, thaw), the same clock ``/clock``
moves on the fixture's admin port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from edgesim.kvs.clock import ClockError

StartServer = Callable[..., Awaitable[Any]]

LAUNCH = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
CONFIG = {
    "server": {"now": "2030-01-01T09:00:00Z"},
    "functions": [{"name": "now", "file": "now.js"}],
    "default_behavior": {"viewer_request": "now"},
    "edges": {"pops": ["IAD"]},
}
NOW_JS = "function handler(e) { return { statusCode: 200, body: String(Date.now()) }; }"


async def _seen(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(url + "/") as response:
        return int(await response.text())


async def test_server_clock_starts_frozen_at_the_configured_instant_and_moves(
    edgesim_server: StartServer, tmp_path: Any
) -> None:
    (tmp_path / "now.js").write_text(NOW_JS)
    server = await edgesim_server(CONFIG, origin="http://127.0.0.1:9", base_dir=tmp_path)
    launch_ms = int(LAUNCH.timestamp() * 1000)
    assert server.clock.now() == LAUNCH
    assert server.clock.frozen
    assert await _seen(server.url) == launch_ms
    server.advance(1.5)  # the fixture's own move, in seconds, as before
    server.clock.advance(60)
    assert await _seen(server.url) == launch_ms + 61_500
    server.clock.set(LAUNCH + timedelta(days=1))
    assert await _seen(server.url) == launch_ms + 86_400_000
    with pytest.raises(ClockError, match="never goes back"):
        server.clock.set(LAUNCH)
    server.clock.thaw()
    assert not server.clock.frozen
    assert server.clock.now() >= LAUNCH + timedelta(days=1)
    server.clock.freeze()
    stopped = server.clock.now()
    assert await _seen(server.url) == int(stopped.timestamp() * 1000)
    # The admin port's /clock moves the same clock.
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.admin + "/clock", json={"advance_ms": 1_000}) as reply,
    ):
        assert reply.status == 200
    assert server.clock.now() == stopped + timedelta(seconds=1)
