"""When serve restarts a dead worker (edgesim.workers.restart) and what it says when it stops
trying (edgesim.workers.supervisor)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from edgesim.workers.restart import MAX_DELAY_S, RestartPolicy
from edgesim.workers.supervisor import Supervisor, WorkerHandle


def test_a_worker_killed_once_comes_back_at_once_then_later_and_later() -> None:
    policy = RestartPolicy(limit=5, window_s=60)
    delays = [policy.died(0, t) for t in (0.0, 1.0, 2.0, 3.0, 4.0)]
    assert delays == [0.0, 0.5, 1.0, 2.0, 4.0]
    assert policy.died(0, 5.0) is None  # the sixth death within 60 s: not restarted
    assert policy.died(1, 5.0) == 0.0  # each worker counts its own deaths


def test_deaths_older_than_the_window_are_forgotten() -> None:
    policy = RestartPolicy(limit=2, window_s=60)
    assert policy.died(0, 0.0) == 0.0
    assert policy.died(0, 30.0) == 0.5
    assert policy.died(0, 61.0) == 0.5  # the one at 0 s left the window
    assert policy.deaths(0) == 2


@given(st.lists(st.floats(0, 1_000, allow_nan=False), max_size=40))
def test_never_more_than_limit_restarts_in_any_window(gaps: list[float]) -> None:
    policy = RestartPolicy(limit=5, window_s=60)
    now, restarts = 0.0, []
    for gap in gaps:
        now += gap
        delay = policy.died(0, now)
        if delay is not None:
            assert 0 <= delay <= MAX_DELAY_S
            restarts.append(now)
    for start in restarts:
        assert sum(1 for t in restarts if start <= t < start + 60) <= 5


class FakeServer:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def say_error(self, line: str) -> None:
        self.errors.append(line)


def test_a_worker_that_keeps_dying_is_not_restarted_and_serve_says_so() -> None:
    server = FakeServer()
    supervisor = Supervisor(cast(Any, server), 3, "asyncio")
    supervisor.policy = RestartPolicy(limit=0)
    handles = [WorkerHandle(i, cast(Any, None), cast(Any, None)) for i in range(3)]
    handles[0].alive = False
    supervisor.workers = handles
    asyncio.run(supervisor._restart(handles[0]))
    assert server.errors == [
        "worker 0 died 1 times within 60 s: not restarting it; 2 other workers keep serving"
    ]
    handles[1].alive = handles[2].alive = False
    asyncio.run(supervisor._restart(handles[1]))
    assert server.errors[-1].endswith("no worker is left to serve viewers: restart serve")
