"""Function stages of requests that arrive together, run back to back.

Under load, several requests reach their function stage in the same turn of the event loop.
Run one by one between their other steps, each invocation finds the engine's memory (its heap,
the shared objects the isolation check walks) pushed out of the CPU's caches by the previous
request's plumbing; run back to back, all but the first find it warm (docs/serve.md,
"Invocations in batches", has the measurements). Each request's stage runs exactly as it would
alone: same event, same clock reading (taken when the request reached the stage), same replica
snapshot rules; only the order of unrelated requests' work within one loop turn changes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
# A batch stops after this long and leaves the rest to a later loop turn, so a request is not
# held behind slow invocations queued after its own (a function looping to its runaway limit):
# about one invocation's compute budget.
BATCH_BUDGET_S = 0.001


class StageBatch:
    """Queues synchronous stage calls and runs them in one loop callback, in arrival order."""

    def __init__(
        self, *, budget_s: float = BATCH_BUDGET_S, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._pending: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the next batch runs on
        self._budget_s = budget_s
        self._clock = clock

    def run(self, call: Callable[[], T]) -> asyncio.Future[T]:
        """``call``'s result (or exception), once the batch it joined has run."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if loop is not self._loop:
            # Calls queued on a loop that stopped before their batch ran (a test's loop, with
            # the server kept for the next test) have nobody waiting any more.
            self._pending, self._loop = [], loop
        if not self._pending:
            # Run one turn later than the callbacks already queued: the requests woken in this
            # turn, and those the next poll of the sockets wakes, reach their stage before the
            # batch runs (measured: 2.7 % less CPU per A/B request than running it next turn,
            # and no gain from waiting one turn more; docs/serve.md).
            loop.call_soon(loop.call_soon, self._run_all)
        self._pending.append((call, future))
        return future

    def _run_all(self) -> None:
        pending, self._pending = self._pending, []
        ends = self._clock() + self._budget_s
        for i, (call, future) in enumerate(pending):
            if future.cancelled():
                continue  # the viewer went away while waiting: nothing to run for it
            try:
                result = call()
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
            if self._clock() >= ends and i + 1 < len(pending):
                # The rest go first in the next batch; the callers resumed so far go on meanwhile.
                if not self._pending:
                    asyncio.get_running_loop().call_soon(self._run_all)
                self._pending[:0] = pending[i + 1 :]
                return
