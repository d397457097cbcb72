"""Function stages of requests arriving together run back to back (edgesim/edge/batch.py)."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.edge.batch import StageBatch


class Refused(Exception):
    pass


async def _callers(batch: StageBatch, fails: list[bool]) -> tuple[list[object], list[str]]:
    """One caller per entry, all reaching the batch in the same loop turn; what each got back
    and the order of events (calls run, callers resumed)."""
    events: list[str] = []

    def stage(i: int) -> int:
        events.append(f"run {i}")
        if fails[i]:
            raise Refused(i)
        return i * 10

    async def caller(i: int) -> object:
        try:
            result: object = await batch.run(lambda: stage(i))
        except Refused as exc:
            result = exc
        events.append(f"resumed {i}")
        return result

    results = await asyncio.gather(*(caller(i) for i in range(len(fails))))
    return results, events


@given(fails=st.lists(st.booleans(), min_size=1, max_size=12))
def test_each_caller_gets_its_own_result_and_the_batch_runs_before_anyone_resumes(
    fails: list[bool],
) -> None:
    # A clock that stands still: the whole batch runs within its budget however loaded the
    # machine is (the budget has its own property below).
    results, events = asyncio.run(_callers(StageBatch(clock=lambda: 0.0), fails))
    for i, (failed, result) in enumerate(zip(fails, results, strict=True)):
        if failed:
            assert isinstance(result, Refused)
            assert result.args == (i,)
        else:
            assert result == i * 10
    n = len(fails)
    # In arrival order, back to back: no caller goes on between two calls of its batch.
    assert events[:n] == [f"run {i}" for i in range(n)]
    assert sorted(events[n:]) == sorted(f"resumed {i}" for i in range(n))


async def test_a_cancelled_caller_s_stage_does_not_run() -> None:
    batch = StageBatch()
    ran: list[str] = []

    def stage(name: str) -> str:
        ran.append(name)
        return name

    gone = asyncio.ensure_future(batch.run(lambda: stage("gone")))
    kept = batch.run(lambda: stage("kept"))
    gone.cancel()
    assert await kept == "kept"
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert ran == ["kept"]


async def test_a_stage_that_raises_does_not_stop_the_rest_of_its_batch() -> None:
    batch = StageBatch()

    def broken() -> None:
        raise RuntimeError("stage bug")

    bad = batch.run(broken)
    good = batch.run(lambda: "answered")
    assert await good == "answered"
    with pytest.raises(RuntimeError, match="stage bug"):
        await bad


async def test_one_caller_alone_waits_only_for_its_own_stage() -> None:
    """A request alone (one connection) is not held for others: its stage runs in the next
    loop turn and it resumes right after."""
    batch = StageBatch()
    for n in range(3):  # one batch after another, each of one call (a call made while a batch
        # runs goes to a new one: nothing waits on a batch that has already run)
        assert await asyncio.wait_for(batch.run(partial(int, n)), timeout=1) == n


async def test_a_stage_queued_while_a_batch_runs_still_runs() -> None:
    batch = StageBatch()
    queued: list[asyncio.Future[str]] = []

    def stage() -> str:
        queued.append(batch.run(lambda: "queued meanwhile"))
        return "first"

    assert await batch.run(stage) == "first"
    assert await asyncio.wait_for(queued[0], timeout=1) == "queued meanwhile"


@given(costs=st.lists(st.integers(0, 3), min_size=1, max_size=10))
def test_a_batch_over_its_budget_leaves_the_rest_to_a_later_turn(costs: list[int]) -> None:
    """Each stage costs some ticks of a fake clock; a batch stops once it has spent its budget
    (2 ticks), and the stages it left run first in the next turn: every stage still runs once,
    in arrival order, and no batch runs a stage after its budget was spent."""
    now = [0.0]
    batch = StageBatch(budget_s=2, clock=lambda: now[0])
    ran: list[tuple[int, int]] = []  # (stage, loop turn it ran in)
    turn = [0]

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()

        def tick() -> None:  # counts loop turns
            turn[0] += 1
            loop.call_soon(tick)

        loop.call_soon(tick)

        def stage(i: int) -> int:
            ran.append((i, turn[0]))
            now[0] += costs[i]
            return i

        return list(
            await asyncio.gather(*(batch.run(partial(stage, i)) for i in range(len(costs))))
        )

    assert asyncio.run(main()) == list(range(len(costs)))
    assert [i for i, _ in ran] == list(range(len(costs)))
    by_turn: dict[int, list[int]] = {}
    for i, t in ran:
        by_turn.setdefault(t, []).append(i)
    for stages in by_turn.values():
        spent = sum(costs[i] for i in stages[:-1])
        assert spent < 2  # only a batch's last stage may start once the budget is spent


def test_calls_left_on_a_loop_that_stopped_do_not_hold_up_the_next_loop() -> None:
    """A server kept across tests, each with its own event loop: calls queued on a loop that
    stopped before their batch ran must not keep the next loop's calls from running."""
    batch = StageBatch()
    first = asyncio.new_event_loop()

    async def queue_and_stop() -> None:
        batch.run(lambda: "never run")
        asyncio.get_running_loop().stop()  # the loop ends before the batch's turn

    first.run_until_complete(queue_and_stop())
    first.close()

    async def next_test() -> str:
        return await asyncio.wait_for(batch.run(lambda: "answered"), timeout=1)

    assert asyncio.run(next_test()) == "answered"
