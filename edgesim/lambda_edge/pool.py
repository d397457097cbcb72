"""A pool of Node.js workers for one Lambda@Edge function.

- Workers start on first use, up to ``max_workers``; one invocation per worker at a time.
- When all are busy, invocations wait in a queue of at most ``max_queue``; beyond that they fail
  at once as ``queue-full`` (CloudFront answers 503 LambdaLimitExceeded when Lambda throttles).
- A worker idle for ``idle_s`` is stopped; the next invocation starts a new one (a cold start).
- A worker that times out is killed; one that crashes or runs out of memory is gone: either way
  the pool starts a replacement for the next invocation; other invocations are not affected.

The pool knows nothing of CloudFront: it takes an event and answers a :class:`RawInvocation`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from edgesim.lambda_edge.spec import LambdaSpec, find_node
from edgesim.lambda_edge.worker import JsError, Worker, WorkerFailure

DEFAULT_MAX_WORKERS = 4
DEFAULT_MAX_QUEUE = 64
DEFAULT_IDLE_S = 300.0

# What went wrong, when something did (RawInvocation.failure).
FUNCTION_ERROR = "function-error"  # the handler threw, rejected or reported an error
TIMEOUT = "timeout"
CRASH = "crash"
OUT_OF_MEMORY = "out-of-memory"
INIT = "init"  # the module did not load, or lacks the handler
QUEUE_FULL = "queue-full"


@dataclass(frozen=True)
class RawInvocation:
    """What one invocation gave, before CloudFront's validation."""

    request_id: str
    ok: bool
    result: Any = None  # the handler's result as JSON (when ok)
    failure: str | None = None
    message: str = ""
    error: JsError | None = None
    logs: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # hints for the developer (become the outcome's warnings)
    duration_ms: float = 0.0
    worker_pid: int | None = None
    cold_start: bool = False


class LambdaPool:
    def __init__(
        self,
        spec: LambdaSpec,
        *,
        max_workers: int = DEFAULT_MAX_WORKERS,
        max_queue: int = DEFAULT_MAX_QUEUE,
        idle_s: float = DEFAULT_IDLE_S,
        node: str | None = None,
        budget: WorkerBudget | None = None,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers: at least 1")
        self.spec = spec
        self.budget = budget
        if budget is not None:
            budget.register(self)
        self.max_workers = max_workers
        self.max_queue = max_queue
        self.idle_s = idle_s
        self._node = node
        self._idle: list[Worker] = []
        self._slots = 0  # workers started or starting, busy or idle
        self._waiters: deque[asyncio.Future[Worker | None]] = deque()
        self._reapers: dict[int, asyncio.TimerHandle] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False
        self.started = 0  # workers started over the pool's life
        self.replaced = 0  # workers lost to a timeout, crash or out of memory

    @property
    def workers(self) -> int:
        return self._slots

    @property
    def idle_workers(self) -> int:
        return len(self._idle)

    @property
    def queued(self) -> int:
        return len(self._waiters)

    @property
    def node(self) -> str:
        if self._node is None:
            self._node = find_node()
        return self._node

    async def invoke(
        self,
        event: Any,
        *,
        timeout_s: float | None = None,
        now_ms: float | None = None,
        request_id: str | None = None,
    ) -> RawInvocation:
        """Run the function on ``event`` in a free worker (waiting for one if all are busy)."""
        if self._closed:
            raise RuntimeError("the pool is closed")
        request_id = request_id or str(uuid.uuid4())
        timeout = timeout_s if timeout_s is not None else self.spec.timeout_s
        started = time.perf_counter()
        try:
            worker = await self._acquire()
        except _QueueFull:
            return RawInvocation(
                request_id,
                ok=False,
                failure=QUEUE_FULL,
                message=(
                    f"all {self.max_workers} workers are busy and {self.max_queue} invocations "
                    "are already waiting ([lambda] max_workers)"
                ),
            )
        cold = worker is None
        if worker is None:
            try:
                worker = await self._start_worker()
            except BaseException as exc:
                # The slot is free again, whether the module did not load or the caller went
                # away while the worker started.
                self._release_slot()
                if not isinstance(exc, WorkerFailure):
                    raise
                return RawInvocation(
                    request_id,
                    ok=False,
                    failure=INIT,
                    message=exc.message,
                    error=exc.error,
                    logs=exc.logs,
                    duration_ms=(time.perf_counter() - started) * 1000,
                    cold_start=True,
                )
        message = {
            "type": "invoke",
            "id": worker.invocations + 1,
            "requestId": request_id,
            "event": event,
            "timeoutMs": timeout * 1000,
            "nowMs": now_ms,
        }
        logs = worker.init_logs if cold else ()
        try:
            reply = await worker.invoke(message, timeout)
        except WorkerFailure as exc:
            self._discard(worker)
            return RawInvocation(
                request_id,
                ok=False,
                failure=exc.kind,
                message=exc.message,
                error=exc.error,
                logs=logs + exc.logs,
                duration_ms=(time.perf_counter() - started) * 1000,
                worker_pid=worker.pid,
                cold_start=cold,
            )
        except BaseException:
            # Cancelled mid-invocation (the request went away): the worker's state is unknown.
            worker.kill()
            self._discard(worker)
            raise
        if worker.broken:
            self._discard(worker)
        else:
            self._release(worker)
        logs = logs + tuple(reply.get("logs") or ())
        duration = float(reply.get("durationMs") or 0.0)
        if reply.get("ok"):
            notes: tuple[str, ...] = ()
            if reply.get("returnIgnored"):
                notes = (
                    "the handler returned a value without a promise or the callback: the "
                    "Lambda Node.js runtime ignores it, so the result is null (make the handler "
                    "async, or call callback(null, result))",
                )
            return RawInvocation(
                request_id,
                ok=True,
                result=reply.get("result"),
                notes=notes,
                logs=logs,
                duration_ms=duration,
                worker_pid=worker.pid,
                cold_start=cold,
            )
        error = JsError.from_wire(reply.get("error"))
        return RawInvocation(
            request_id,
            ok=False,
            failure=FUNCTION_ERROR,
            message=f"{error.error_type}: {error.message}",
            error=error,
            logs=logs,
            duration_ms=duration,
            worker_pid=worker.pid,
            cold_start=cold,
        )

    async def check(self) -> None:
        """Load the function in one worker (keeping it for later use); raises
        :class:`WorkerFailure` (``init``) when the module does not load or lacks the handler."""
        try:
            worker = await self._acquire()
        except _QueueFull:
            return
        if worker is None:
            try:
                worker = await self._start_worker()
            except BaseException:
                self._release_slot()
                raise
        self._release(worker)

    async def close(self) -> None:
        """Stop every worker; waiting invocations fail."""
        self._closed = True
        for handle in self._reapers.values():
            handle.cancel()
        self._reapers.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the pool is closed"))
        idle, self._idle = self._idle, []
        self._slots -= len(idle)
        for _ in idle:
            self._give_back()
        if self.budget is not None:
            self.budget.unregister(self)
        await asyncio.gather(*(w.close() for w in idle), *list(self._closing))

    # ---- slots and workers ----

    async def _acquire(self) -> Worker | None:
        """An idle worker, or None: the caller owns a free slot and starts a worker in it."""
        while self._idle:
            worker = self._idle.pop()
            self._cancel_reaper(worker)
            if worker.alive:
                return worker
            self._discard(worker)
        if self._slots < self.max_workers and self._take_from_budget():
            self._slots += 1
            return None
        if len(self._waiters) >= self.max_queue:
            raise _QueueFull
        waiter: asyncio.Future[Worker | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # Handed a worker (or a slot) just as it was cancelled: pass it on.
                handed = waiter.result()
                if handed is None:
                    self._release_slot()
                else:
                    self._release(handed)
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    async def _start_worker(self) -> Worker:
        worker = Worker(self.spec, self.node)
        self.started += 1
        try:
            await worker.start()
        except BaseException:
            self._close_later(worker)
            raise
        return worker

    def _release(self, worker: Worker) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        if self._closed or (self.budget is not None and self.budget.wanted_elsewhere(self)):
            # Closed, or another function's invocation waits for a worker of the shared budget.
            self._slots -= 1
            self._close_later(worker)
            self._give_back()
            return
        self._idle.append(worker)
        loop = asyncio.get_running_loop()
        self._reapers[id(worker)] = loop.call_later(self.idle_s, self._reap, worker)

    def _release_slot(self) -> None:
        """A slot freed without a worker in it: give it to the first waiter, if any."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._slots -= 1
        self._give_back()

    def _discard(self, worker: Worker) -> None:
        """A worker that must not be used again: stop it and free its slot."""
        self.replaced += 1
        self._cancel_reaper(worker)
        self._close_later(worker)
        self._release_slot()

    def _reap(self, worker: Worker) -> None:
        self._reapers.pop(id(worker), None)
        if worker in self._idle:
            self._idle.remove(worker)
            self._slots -= 1
            self._close_later(worker)
            self._give_back()

    def _cancel_reaper(self, worker: Worker) -> None:
        handle = self._reapers.pop(id(worker), None)
        if handle is not None:
            handle.cancel()

    # ---- the budget shared with other pools ----

    def _take_from_budget(self) -> bool:
        if self.budget is None:
            return True
        return self.budget.take() or self.budget.evict_idle(exclude=self)

    def _give_back(self) -> None:
        if self.budget is not None:
            self.budget.give()

    def _wants_slot(self) -> bool:
        return self._slots < self.max_workers and any(not w.done() for w in self._waiters)

    def _grant_slot(self) -> bool:
        """Give a slot of the budget to the first waiting invocation (it starts a worker)."""
        if self._slots >= self.max_workers:
            return False
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._slots += 1
                waiter.set_result(None)
                return True
        return False

    def _evict_idle(self) -> bool:
        """Stop one idle worker so that another pool can use its slot of the budget."""
        if not self._idle:
            return False
        worker = self._idle.pop(0)
        self._cancel_reaper(worker)
        self._slots -= 1
        self._close_later(worker)
        return True

    def _close_later(self, worker: Worker) -> None:
        task = asyncio.get_running_loop().create_task(worker.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


class _QueueFull(Exception):
    pass


class WorkerBudget:
    """A cap on the workers of several pools together (``[lambda] max_workers`` for all
    functions): a pool that needs a worker when the cap is reached takes the slot of another
    pool's idle worker, or waits until one is freed. Slots freed go to waiting pools in the
    order the pools were created."""

    def __init__(self, total: int) -> None:
        if total < 1:
            raise ValueError("total: at least 1")
        self.total = total
        self.used = 0
        self._pools: list[LambdaPool] = []

    def register(self, pool: LambdaPool) -> None:
        self._pools.append(pool)

    def unregister(self, pool: LambdaPool) -> None:
        if pool in self._pools:
            self._pools.remove(pool)

    def take(self) -> bool:
        if self.used < self.total:
            self.used += 1
            return True
        return False

    def give(self) -> None:
        """A slot freed: to a pool with a waiting invocation, else back to the budget."""
        for pool in self._pools:
            if pool._grant_slot():
                return
        self.used -= 1

    def evict_idle(self, *, exclude: LambdaPool) -> bool:
        """Move the slot of another pool's idle worker to the caller (``used`` is unchanged)."""
        return any(pool._evict_idle() for pool in self._pools if pool is not exclude)

    def wanted_elsewhere(self, pool: LambdaPool) -> bool:
        return self.used >= self.total and any(
            other._wants_slot() for other in self._pools if other is not pool
        )
