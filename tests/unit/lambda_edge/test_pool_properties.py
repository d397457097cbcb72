"""The pool's bookkeeping under any interleaving of invocations that succeed, fail, crash, time
out, fail to start or are cancelled: never more workers than allowed, never two invocations in
one worker, every invocation answered (or cancelled), no slot lost, nothing left after close.

Workers are replaced by an in-process fake, so the property runs thousands of interleavings
quickly; the real workers' behaviour is covered by test_pool.py.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.lambda_edge import pool as pool_module
from edgesim.lambda_edge.pool import QUEUE_FULL, LambdaPool, RawInvocation, WorkerBudget
from edgesim.lambda_edge.spec import LambdaSpec
from edgesim.lambda_edge.worker import WorkerFailure

OUTCOMES = ("ok", "error", "crash", "timeout", "fatal", "init-fail")


class FakeWorker:
    """Plays a worker: ``event["do"]`` says how the invocation ends, ``event["yields"]`` how
    many turns of the event loop it takes."""

    ids = itertools.count(1)
    live: ClassVar[set[FakeWorker]] = set()
    fail_next_start: ClassVar[int] = 0

    def __init__(self, spec: LambdaSpec, node: str) -> None:
        self.pid = next(self.ids)
        self.broken = False
        self.busy = False
        self.invocations = 0
        self.init_logs: tuple[str, ...] = ()
        self.closed = False

    @property
    def alive(self) -> bool:
        return not self.broken

    async def start(self) -> None:
        await asyncio.sleep(0)
        if FakeWorker.fail_next_start:
            FakeWorker.fail_next_start -= 1
            self.broken = True
            raise WorkerFailure("init", "the module did not load")
        FakeWorker.live.add(self)

    async def invoke(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        assert not self.busy, "two invocations in one worker"
        assert not self.broken, "a broken worker was used"
        self.busy = True
        self.invocations += 1
        try:
            event = message["event"]
            for _ in range(event["yields"]):
                await asyncio.sleep(0)
            do = event["do"]
            if do == "crash":
                self.broken = True
                raise WorkerFailure("crash", "Runtime exited with error: exit status 1")
            if do == "timeout":
                self.kill()
                raise WorkerFailure("timeout", "Task timed out after 1.00 seconds")
            if do == "error":
                return {"ok": False, "error": {"errorType": "Error", "errorMessage": "boom"}}
            if do == "fatal":
                self.broken = True
                return {"ok": False, "fatal": True, "error": {"errorType": "Error"}}
            return {"ok": True, "result": self.pid, "logs": []}
        finally:
            self.busy = False

    def kill(self) -> None:
        self.broken = True

    async def close(self) -> None:
        self.broken = True
        self.closed = True
        FakeWorker.live.discard(self)


invocation = st.tuples(
    st.sampled_from(OUTCOMES),
    st.integers(0, 5),  # turns of the loop before the invocation starts
    st.integers(0, 5),  # turns it takes
    st.booleans() | st.just(False),  # cancelled while waiting or running
)


@settings(deadline=None)
@given(
    calls=st.lists(invocation, min_size=1, max_size=12),
    max_workers=st.integers(1, 3),
    max_queue=st.integers(0, 4),
)
def test_the_pool_keeps_its_books_under_any_interleaving(
    calls: list[tuple[str, int, int, bool]], max_workers: int, max_queue: int
) -> None:
    FakeWorker.live = set()
    FakeWorker.fail_next_start = 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pool_module, "Worker", FakeWorker)
        asyncio.run(_scenario(calls, max_workers, max_queue))
    assert FakeWorker.live == set(), "a worker was left running after close"


async def _scenario(
    calls: list[tuple[str, int, int, bool]], max_workers: int, max_queue: int
) -> None:
    spec = LambdaSpec("fake", Path("/nonexistent/fn.js"))
    pool = LambdaPool(spec, max_workers=max_workers, max_queue=max_queue, node="node", idle_s=3600)
    peak = 0

    async def one(do: str, wait: int, yields: int, cancel: bool) -> RawInvocation | None:
        nonlocal peak
        for _ in range(wait):
            await asyncio.sleep(0)
        if do == "init-fail":
            FakeWorker.fail_next_start += 1
        task = asyncio.ensure_future(pool.invoke({"do": do, "yields": yields}))
        if cancel:
            await asyncio.sleep(0)
            task.cancel()
        peak = max(peak, pool.workers)
        try:
            return await task
        except asyncio.CancelledError:
            return None

    # Fake workers finish in microseconds: a bound turns a lost wake-up into a failure.
    results = await asyncio.wait_for(asyncio.gather(*(one(*call) for call in calls)), 2)
    assert peak <= max_workers
    assert pool.workers <= max_workers
    assert pool.workers == pool.idle_workers, "a slot was lost"
    assert pool.queued == 0
    for (do, *_), result in zip(calls, results, strict=True):
        if result is None or result.failure == QUEUE_FULL:
            continue
        if do == "ok":
            assert result.ok or result.failure == "init"
    # The pool still serves after whatever happened.
    FakeWorker.fail_next_start = 0
    after = await pool.invoke({"do": "ok", "yields": 0})
    assert after.ok
    await pool.close()
    await asyncio.sleep(0)
    assert pool.workers == 0


@settings(deadline=None)
@given(
    calls=st.lists(st.tuples(st.integers(0, 2), invocation), min_size=1, max_size=14),
    total=st.integers(1, 3),
    max_workers=st.integers(1, 3),
)
def test_pools_sharing_a_budget_never_exceed_it_together(
    calls: list[tuple[int, tuple[str, int, int, bool]]], total: int, max_workers: int
) -> None:
    FakeWorker.live = set()
    FakeWorker.fail_next_start = 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pool_module, "Worker", FakeWorker)
        asyncio.run(_shared_scenario(calls, total, max_workers))
    assert FakeWorker.live == set(), "a worker was left running after close"


async def _shared_scenario(
    calls: list[tuple[int, tuple[str, int, int, bool]]], total: int, max_workers: int
) -> None:
    budget = WorkerBudget(total)
    pools = [
        LambdaPool(
            LambdaSpec(f"fake{i}", Path("/nonexistent/fn.js")),
            max_workers=max_workers,
            max_queue=8,
            node="node",
            idle_s=3600,
            budget=budget,
        )
        for i in range(3)
    ]

    def books_balance() -> None:
        slots = sum(p.workers for p in pools)
        assert slots == budget.used, "the budget and the pools disagree"
        assert budget.used <= total

    async def one(
        index: int, do: str, wait: int, yields: int, cancel: bool
    ) -> RawInvocation | None:
        for _ in range(wait):
            await asyncio.sleep(0)
        if do == "init-fail":
            FakeWorker.fail_next_start += 1
        task = asyncio.ensure_future(pools[index].invoke({"do": do, "yields": yields}))
        if cancel:
            await asyncio.sleep(0)
            task.cancel()
        books_balance()
        try:
            return await task
        except asyncio.CancelledError:
            return None
        finally:
            books_balance()

    # Fake workers finish in microseconds: a bound turns a lost wake-up into a failure.
    await asyncio.wait_for(asyncio.gather(*(one(index, *call) for index, call in calls)), 2)
    books_balance()
    assert all(p.queued == 0 for p in pools)
    FakeWorker.fail_next_start = 0
    for p in pools:  # every pool still gets a worker, taking idle ones' slots if need be
        assert (await p.invoke({"do": "ok", "yields": 0})).ok
        books_balance()
    for p in pools:
        await p.close()
    await asyncio.sleep(0)
    assert budget.used == 0
