"""Lambda@Edge with ``serve --workers N``: one pool of Node.js workers, in the control process,
for all serve workers (issue 18). A serve worker's pipeline calls :class:`RemoteLambdas`, which
sends each invocation over the worker's channel (:class:`LambdaCall`); the control process runs it
in its own :class:`~edgesim.edge.lambdas.LambdaRegistry` — the one hot reload and the start-up
check manage — and answers with the outcome (:class:`LambdaReply`). So module state, the worker
budget (``[lambda] max_workers``), the queue and reloads are the same as with one process; an
invocation costs one more round trip over a Unix socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from edgesim.distribution.model import Distribution
from edgesim.edge.lambdas import LambdaInvoker, LambdaRegistry
from edgesim.lambda_edge.function import EXECUTION_ERROR, LambdaFailure, LambdaOutcome
from edgesim.workers.channel import Channel, ChannelClosed
from edgesim.workers.messages import LambdaCall, LambdaReply

if TYPE_CHECKING:
    from edgesim.app import EdgeServer

log = logging.getLogger("edgesim.workers")


class RemoteLambdas(LambdaRegistry):
    """A serve worker's view of the lambdas: the declarations (for regions and truthiness), with
    every invocation run by the control process."""

    def __init__(
        self, dist: Distribution, channel: Channel, clock_ms: Callable[[], float] | None
    ) -> None:
        super().__init__(dist, clock_ms=clock_ms)
        self.channel = channel
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[LambdaReply]] = {}

    def function(self, name: str, pop: str) -> LambdaInvoker:
        return _RemoteFunction(self, name, pop)

    def resolve(self, reply: LambdaReply) -> None:
        future = self._pending.pop(reply.id, None)
        if future is not None and not future.done():  # a cancelled request no longer waits
            future.set_result(reply)

    def fail_all(self, why: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_result(LambdaReply(0, error=why))
        self._pending.clear()

    async def call(self, call: LambdaCall) -> LambdaReply:
        future: asyncio.Future[LambdaReply] = asyncio.get_running_loop().create_future()
        self._pending[call.id] = future
        try:
            self.channel.send(call)
        except ChannelClosed:
            self._pending.pop(call.id, None)
            return LambdaReply(call.id, error="the control process is gone")
        try:
            return await future
        finally:
            self._pending.pop(call.id, None)

    async def check(self, names: Mapping[str, Any] | None = None) -> list[str]:
        return []  # the control process checked them

    async def close(self, *, keep: LambdaRegistry | None = None) -> None:
        self.fail_all("the worker is stopping")


class _RemoteFunction:
    def __init__(self, owner: RemoteLambdas, name: str, pop: str) -> None:
        self._owner = owner
        self._name = name
        self._pop = pop

    async def invoke(
        self,
        event_type: str,
        request: Mapping[str, Any],
        response: Mapping[str, Any] | None = None,
        *,
        config: Mapping[str, Any] | None = None,
        now: datetime | float | None = None,
        request_id: str | None = None,
    ) -> LambdaOutcome:
        stamp = now.timestamp() if isinstance(now, datetime) else now
        call = LambdaCall(
            next(self._owner._ids), self._name, self._pop, event_type, dict(request),
            dict(response) if response is not None else None,
            dict(config) if config is not None else None, stamp,
        )  # fmt: skip
        reply = await self._owner.call(call)
        if reply.outcome is not None:
            return reply.outcome  # type: ignore[no-any-return]
        failure = LambdaFailure(EXECUTION_ERROR, "crash", reply.error or "no outcome")
        return LambdaOutcome(
            self._name, event_type, request_id or "", None, None, None, False, failure, (), (), 0.0
        )


async def answer(server: EdgeServer, channel: Channel, call: LambdaCall) -> None:
    """Control process: run ``call`` in the current registry and send the outcome back."""
    try:
        outcome = await server.lambdas.function(call.name, call.pop).invoke(
            call.event_type, call.request, call.response, config=call.config, now=call.now
        )
        reply = LambdaReply(call.id, outcome=outcome)
    except Exception as exc:  # a lambda the new config no longer has, a closed pool, …
        log.debug("lambda call %s failed", call.name, exc_info=True)
        reply = LambdaReply(call.id, error=f"{type(exc).__name__}: {exc}")
    with contextlib.suppress(ChannelClosed):  # the worker went away meanwhile
        channel.send(reply)
