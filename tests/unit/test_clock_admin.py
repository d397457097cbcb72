"""``POST /clock`` on any body: a move of exactly one known field either applies (200, the clock
as ``GET`` shows it, never earlier than before) or is refused (400 naming the field) with the
clock untouched."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from edgesim.clock_admin import add_clock_routes
from edgesim.kvs.clock import SettableClock

LAUNCH = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
MOVES = ("now", "advance_ms", "frozen")

zones = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=14))])
instants = st.one_of(
    st.datetimes(min_value=datetime(1969, 1, 1), max_value=datetime(2100, 1, 1), timezones=zones),
    st.datetimes(min_value=datetime(9999, 12, 31), timezones=zones),  # at the end of datetime
).map(lambda moment: moment.isoformat().replace("+00:00", "Z"))
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    instants,
    st.lists(st.integers(), max_size=2),
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from([*MOVES, "speed", "Now"]), values, max_size=3),
    st.fixed_dictionaries({}, optional={"now": instants}),
    st.fixed_dictionaries({"advance_ms": st.integers(-5, 10**12)}),
    values,
)


class Admin:
    """One admin app on one loop for every example; each example starts from the same clock."""

    def __init__(self) -> None:
        self.clock = SettableClock(LAUNCH, frozen=True)
        self.start = self.clock.state
        self.loop = asyncio.new_event_loop()
        app = web.Application()
        add_clock_routes(app, self.clock)
        self.client = TestClient(TestServer(app), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())

    def post(self, body: Any) -> tuple[int, dict[str, Any]]:
        self.clock._state = self.start  # the launch instant, frozen, before every example

        async def send() -> tuple[int, dict[str, Any]]:
            reply = await self.client.post("/clock", data=json.dumps(body))
            return reply.status, await reply.json()

        return self.loop.run_until_complete(send())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


@pytest.fixture(scope="module")
def admin() -> Iterator[Admin]:
    served = Admin()
    yield served
    served.close()


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
@example(body={"now": "9999-12-31T23:00:00-05:00"})  # past what a datetime holds, in UTC
@example(body={"advance_ms": 10**20})  # past the year 9999
def test_a_move_applies_whole_or_not_at_all(admin: Admin, body: Any) -> None:
    status, answer = admin.post(body)
    clock, before = admin.clock, admin.start
    one_known = isinstance(body, dict) and len(body) == 1 and next(iter(body)) in MOVES
    if status == 400:
        assert clock.state == before
        field = answer["field"]
        assert answer["message"].startswith(f"{field}: " if field else "")
        if isinstance(body, dict) and field is not None:
            assert all(name in body for name in field.split(", "))
        return
    assert status == 200
    assert one_known
    assert clock.wall_ns() >= before.frozen_wall_ns  # type: ignore[operator]
    assert {**answer, "offset_ms": 0} == {**clock.describe(), "offset_ms": 0}
    ((field, value),) = body.items()
    if field == "advance_ms":
        assert answer["now_ms"] == 1_893_488_400_000 + value
    elif field == "frozen":
        assert answer["frozen"] is value
