"""The worker pool: start on first use, one invocation per worker, queueing, the queue's bound,
idle reaping, and workers lost to a timeout, a crash or memory replaced without touching the
invocations running beside them."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from edgesim.lambda_edge.function import LambdaEdgeFunction
from edgesim.lambda_edge.pool import CRASH, OUT_OF_MEMORY, QUEUE_FULL, TIMEOUT
from edgesim.lambda_edge.worker import WorkerFailure

from .conftest import Source, needs_node

pytestmark = needs_node
Functions = Callable[..., LambdaEdgeFunction]

# Each case waits on a promise the test releases through a file, so no test depends on timing.
CASES = """
const fs = require('fs');
const until = (file) => new Promise((resolve) => {
  const poll = () => (fs.existsSync(file) ? resolve() : setTimeout(poll, 5));
  poll();
});
exports.handler = async (event) => {
  if (event.case === 'wait') await until(event.file);
  if (event.case === 'hang') console.log('about to hang');
  if (event.case === 'hang') await new Promise(() => setInterval(() => {}, 1000));
  if (event.case === 'late-throw') setTimeout(() => { throw new Error('after the answer'); }, 20);
  if (event.case === 'exit') process.exit(3);
  if (event.case === 'async-throw') setTimeout(() => { throw new Error('late failure'); }, 0);
  if (event.case === 'async-throw') await new Promise(() => setInterval(() => {}, 1000));
  if (event.case === 'oom') { const keep = []; for (;;) keep.push(new Array(1e5).fill(event)); }
  return { pid: process.pid, case: event.case };
};
"""


async def test_no_worker_starts_before_the_first_invocation(
    source: Source, functions: Functions
) -> None:
    fn = functions(source(CASES))
    assert fn.pool.workers == 0
    raw = await fn.pool.invoke({"case": "ok"})
    assert raw.cold_start
    assert (await fn.pool.invoke({"case": "ok"})).cold_start is False
    assert fn.pool.workers == 1


async def test_busy_workers_make_invocations_queue_and_the_full_queue_refuses(
    source: Source, functions: Functions, tmp_path: os.PathLike[str]
) -> None:
    fn = functions(source(CASES), max_workers=1, max_queue=1, timeout_s=30)
    release = os.path.join(tmp_path, "release")
    first = asyncio.create_task(fn.pool.invoke({"case": "wait", "file": release}))
    await until(lambda: fn.pool.workers == 1 and not fn.pool.idle_workers)
    second = asyncio.create_task(fn.pool.invoke({"case": "ok"}))
    await until(lambda: fn.pool.queued == 1)
    third = await fn.pool.invoke({"case": "ok"})
    assert third.failure == QUEUE_FULL
    assert "max_workers" in third.message
    await asyncio.to_thread(Path(release).touch)
    one, two = await first, await second
    assert one.ok
    assert two.ok
    assert one.result["pid"] == two.result["pid"]  # the queued one ran in the freed worker
    assert fn.pool.started == 1


async def test_a_timeout_kills_that_worker_only_and_a_replacement_serves_next(
    source: Source, functions: Functions, tmp_path: os.PathLike[str]
) -> None:
    fn = functions(source(CASES), max_workers=2, timeout_s=30)
    release = os.path.join(tmp_path, "release")
    busy = asyncio.create_task(fn.pool.invoke({"case": "wait", "file": release}))
    hung = await fn.pool.invoke({"case": "hang"}, timeout_s=0.5)
    assert hung.failure == TIMEOUT
    assert hung.message == "Task timed out after 0.50 seconds"
    assert hung.logs[-1].endswith("\tINFO\tabout to hang")  # what it logged survives
    await asyncio.to_thread(Path(release).touch)
    survivor = await busy
    assert survivor.ok  # the invocation beside it was not affected
    after = await fn.pool.invoke({"case": "ok"})
    assert after.ok
    assert hung.worker_pid is not None
    assert after.result["pid"] != hung.worker_pid
    assert fn.pool.replaced == 1
    _assert_gone(hung.worker_pid)


async def test_a_crashed_worker_is_replaced(source: Source, functions: Functions) -> None:
    fn = functions(source(CASES), max_workers=1)
    crashed = await fn.pool.invoke({"case": "exit"})
    assert crashed.failure == CRASH
    assert "exit status 3" in crashed.message
    after = await fn.pool.invoke({"case": "ok"})
    assert after.ok
    assert after.cold_start


async def test_an_uncaught_asynchronous_error_fails_the_invocation_and_the_worker_is_replaced(
    source: Source, functions: Functions
) -> None:
    fn = functions(source(CASES), max_workers=1)
    failed = await fn.pool.invoke({"case": "async-throw"})
    assert failed.error is not None
    assert failed.error.message == "late failure"
    after = await fn.pool.invoke({"case": "ok"})
    assert after.ok
    assert after.result["pid"] != failed.worker_pid


async def test_running_out_of_memory_is_an_execution_failure(
    source: Source, functions: Functions
) -> None:
    fn = functions(source(CASES), max_workers=1, memory_mb=128, timeout_s=20)
    raw = await fn.pool.invoke({"case": "oom"})
    assert raw.failure == OUT_OF_MEMORY
    assert "--max-old-space-size=128" in raw.message
    assert (await fn.pool.invoke({"case": "ok"})).ok


async def test_idle_workers_are_reaped_and_the_next_invocation_starts_one(
    source: Source, functions: Functions
) -> None:
    fn = functions(source(CASES), idle_s=0.05)
    first = await fn.pool.invoke({"case": "ok"})
    await until(lambda: fn.pool.workers == 0)
    second = await fn.pool.invoke({"case": "ok"})
    assert second.cold_start
    assert second.result["pid"] != first.result["pid"]


async def test_close_stops_every_worker(source: Source, functions: Functions) -> None:
    fn = functions(source(CASES), max_workers=2)
    results = await asyncio.gather(*(fn.pool.invoke({"case": "ok"}) for _ in range(2)))
    pids = {r.result["pid"] for r in results}
    await fn.close()
    assert fn.pool.workers == 0
    for pid in pids:
        _assert_gone(pid)


async def until(check: Callable[[], bool]) -> None:
    for _ in range(1000):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the pool never reached the expected state")


def _assert_gone(pid: int) -> None:
    """The process has exited (or is a zombie about to be reaped); SIGKILL lands at once but not
    synchronously, so allow it a moment."""
    for _ in range(1000):  # up to ~10 s on a loaded machine
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return
        except FileNotFoundError:
            return
        time.sleep(0.01)
    raise AssertionError(f"worker {pid} still running")


@pytest.mark.parametrize("warm", [False, True], ids=["while-its-worker-starts", "mid-run"])
async def test_an_invocation_cancelled_frees_its_slot_for_the_queue(
    source: Source, functions: Functions, tmp_path: os.PathLike[str], warm: bool
) -> None:
    # A request that goes away: a worker in an unknown state is replaced, the slot is freed.
    fn = functions(source(CASES), max_workers=1, timeout_s=30)
    if warm:
        await fn.pool.invoke({"case": "ok"})
    never = os.path.join(tmp_path, "never")
    task = asyncio.create_task(fn.pool.invoke({"case": "wait", "file": never}))
    await until(lambda: fn.pool.workers == 1 and not fn.pool.idle_workers)
    queued = asyncio.create_task(fn.pool.invoke({"case": "ok"}))
    await until(lambda: fn.pool.queued == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await queued
    assert after.ok
    assert after.cold_start
    assert fn.pool.workers == 1


async def test_check_loads_the_module_or_says_why_not(source: Source, functions: Functions) -> None:
    good = functions(source(CASES))
    await good.check()
    assert good.pool.idle_workers == 1  # kept for the first invocation
    bad = functions(source("exports.main = () => 1;", name="bad.js"))
    with pytest.raises(WorkerFailure) as caught:
        await bad.check()
    assert caught.value.kind == "init"
    assert caught.value.error is not None
    assert caught.value.error.error_type == "Runtime.HandlerNotFound"
    assert bad.pool.workers == 0


async def test_an_error_thrown_between_invocations_ends_the_worker_and_a_new_one_serves(
    source: Source, functions: Functions
) -> None:
    fn = functions(source(CASES), max_workers=1)
    first = await fn.pool.invoke({"case": "late-throw"})
    assert first.ok  # the answer was given before the timer threw
    assert first.worker_pid is not None
    await asyncio.to_thread(_assert_gone, first.worker_pid)  # the throw ended that worker
    # The dead worker is noticed either while idle (dropped unseen) or by the next invocation
    # (reported as a crash); either way a fresh worker serves after it.
    results = [await fn.pool.invoke({"case": "ok"}) for _ in range(2)]
    assert results[-1].ok
    assert results[-1].result["pid"] != first.result["pid"]
    assert all(r.ok or r.failure == CRASH for r in results)


async def test_functions_sharing_a_budget_take_each_others_idle_slots(source: Source) -> None:
    from edgesim.lambda_edge.pool import WorkerBudget
    from edgesim.lambda_edge.spec import LambdaSpec

    budget = WorkerBudget(1)
    a = LambdaEdgeFunction(LambdaSpec("a", source(CASES, name="a.js")), budget=budget)
    b = LambdaEdgeFunction(LambdaSpec("b", source(CASES, name="b.js")), budget=budget)
    try:
        assert (await a.pool.invoke({"case": "ok"})).ok
        assert (a.pool.workers, b.pool.workers) == (1, 0)
        assert (await b.pool.invoke({"case": "ok"})).ok
        assert (a.pool.workers, b.pool.workers, budget.used) == (0, 1, 1)
    finally:
        await a.close()
        await b.close()
    assert budget.used == 0
