"""One Lambda@Edge function, as the pipeline stages call it: ``await fn.invoke(event_type,
request, response)`` → :class:`LambdaOutcome`.

Failures are data, not exceptions, each with the answer CloudFront gives (the pipeline turns it
into the error page):

- 502 ``LambdaValidationError``: the result breaks a rule ("HTTP 502 status code (Lambda
  validation error)");
- 503 ``LambdaExecutionError``: the function threw, rejected, crashed, ran out of memory, did
  not load, or timed out ("HTTP 503 status code (Lambda execution error)"). AWS's page on 503
  ``LambdaLimitExceeded`` lists "the function exceeded the Lambda function timeout quota"
  among its causes, so ``timeout_error="LambdaLimitExceeded"`` reports timeouts that way;
- 503 ``LambdaLimitExceeded``: no worker free and the queue full (Lambda throttling).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from edgesim.errors import FunctionExecutionError, FunctionValidationError
from edgesim.lambda_edge import events, pool
from edgesim.lambda_edge.pool import LambdaPool, RawInvocation, WorkerBudget
from edgesim.lambda_edge.spec import LambdaSpec
from edgesim.lambda_edge.validation import Violation, validate_result
from edgesim.lambda_edge.worker import RUNNER, JsError

VALIDATION_ERROR = "LambdaValidationError"
EXECUTION_ERROR = "LambdaExecutionError"
LIMIT_EXCEEDED = "LambdaLimitExceeded"
STATUS = {VALIDATION_ERROR: 502, EXECUTION_ERROR: 503, LIMIT_EXCEEDED: 503}

# "at fn (/abs/file.js:3:9)", "at /abs/file.js:3:9", "at file:///abs/file.mjs:3:9"
_FRAME = re.compile(r"\(?((?:file://)?/[^()]*?):(\d+):(\d+)\)?$")


@dataclass(frozen=True)
class LambdaFailure:
    """Why CloudFront would answer with an error instead of going on."""

    error_type: str  # LambdaValidationError | LambdaExecutionError | LambdaLimitExceeded
    rule: str  # validation rule id, or: exception, timeout, crash, out-of-memory, init, queue-full
    message: str
    js_error: JsError | None = None
    position: str | None = None  # file:line:col of the innermost frame in the user's code
    stack: tuple[str, ...] = ()

    @property
    def status(self) -> int:
        return STATUS[self.error_type]

    def describe(self) -> str:
        where = f" at {self.position}" if self.position else ""
        return f"{self.error_type} ({self.rule}){where}: {self.message}"


@dataclass(frozen=True)
class LambdaOutcome:
    """One invocation. ``kind``: ``request`` (go on with ``request``), ``response`` (a response
    event's response, or one generated at a request event: ``generated``), or ``error``."""

    lambda_name: str
    event_type: str
    request_id: str
    result: Any  # the handler's result as JSON, before validation (None on failure)
    request: dict[str, Any] | None
    response: dict[str, Any] | None
    generated: bool
    failure: LambdaFailure | None
    logs: tuple[str, ...]
    warnings: tuple[str, ...]
    duration_ms: float
    cold_start: bool = False

    @property
    def kind(self) -> str:
        if self.failure is not None:
            return "error"
        return "response" if self.response is not None else "request"

    @property
    def error(self) -> LambdaFailure | None:
        """The failure, under the name ``InvocationResult`` of CloudFront Functions uses."""
        return self.failure

    def raise_for_error(self) -> LambdaOutcome:
        """Raise :class:`~edgesim.errors.FunctionValidationError` (502) or
        :class:`~edgesim.errors.FunctionExecutionError` (503) when the invocation failed, with
        the rule, the user's stack and the console output; otherwise return the outcome
        (``fn.run(event).raise_for_error().request``)."""
        failure = self.failure
        if failure is None:
            return self
        error_class = (
            FunctionValidationError
            if failure.error_type == VALIDATION_ERROR
            else FunctionExecutionError
        )
        message = f"{failure.describe()} (CloudFront: HTTP {failure.status})"
        message += "".join(f"\n    at {frame}" for frame in failure.stack)
        if self.logs:
            message += "\nconsole output:\n" + "\n".join(f"  {line}" for line in self.logs)
        raise error_class(message)


class LambdaEdgeFunction:
    """A function and its worker pool. Use ``async with`` or call :meth:`close`."""

    def __init__(
        self,
        spec: LambdaSpec,
        *,
        max_workers: int = pool.DEFAULT_MAX_WORKERS,
        max_queue: int = pool.DEFAULT_MAX_QUEUE,
        idle_s: float = pool.DEFAULT_IDLE_S,
        node: str | None = None,
        timeout_error: str = EXECUTION_ERROR,
        budget: WorkerBudget | None = None,
    ) -> None:
        if timeout_error not in (EXECUTION_ERROR, LIMIT_EXCEEDED):
            raise ValueError(f"timeout_error: {EXECUTION_ERROR} or {LIMIT_EXCEEDED}")
        self.spec = spec
        self.timeout_error = timeout_error
        self.pool = LambdaPool(
            spec,
            max_workers=max_workers,
            max_queue=max_queue,
            idle_s=idle_s,
            node=node,
            budget=budget,
        )

    async def __aenter__(self) -> LambdaEdgeFunction:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.pool.close()

    async def check(self) -> None:
        """Load the module in a worker: raises ``WorkerFailure`` (``init``) if it can't."""
        await self.pool.check()

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
        """Run on a request (and, for response events, the response) in the event's shape."""
        event = events.build_event(event_type, request, response, config=config)
        return await self.invoke_event(event_type, event, now=now, request_id=request_id)

    async def invoke_event(
        self,
        event_type: str,
        event: Mapping[str, Any],
        *,
        now: datetime | float | None = None,
        request_id: str | None = None,
    ) -> LambdaOutcome:
        """Run on a whole ``{"Records": [...]}`` event already built."""
        now_ms = _epoch_ms(now)
        raw = await self.pool.invoke(dict(event), now_ms=now_ms, request_id=request_id)
        cf = event["Records"][0]["cf"]
        if not raw.ok:
            return self._outcome(event_type, raw, failure=self._failure(raw))
        try:
            checked = validate_result(event_type, cf, raw.result)
        except Violation as exc:
            failure = LambdaFailure(VALIDATION_ERROR, exc.rule, exc.message)
            return self._outcome(event_type, raw, failure=failure, warnings=raw.notes)
        return self._outcome(
            event_type,
            raw,
            request=checked.request,
            response=checked.response,
            generated=checked.generated,
            warnings=(*raw.notes, *checked.warnings),
        )

    def _failure(self, raw: RawInvocation) -> LambdaFailure:
        if raw.failure == pool.QUEUE_FULL:
            return LambdaFailure(LIMIT_EXCEEDED, "queue-full", raw.message)
        if raw.failure == pool.TIMEOUT:
            return LambdaFailure(self.timeout_error, "timeout", raw.message)
        rule = "exception" if raw.failure == pool.FUNCTION_ERROR else (raw.failure or "crash")
        error = raw.error
        if error is None:
            return LambdaFailure(EXECUTION_ERROR, rule, raw.message)
        message = f"{error.error_type}: {error.message}"
        if raw.failure == pool.INIT:
            message = f"{raw.message}: {message}"
        position, stack = user_frames(error.stack, self.spec.task_root)
        return LambdaFailure(EXECUTION_ERROR, rule, message, error, position, stack)

    def _outcome(
        self,
        event_type: str,
        raw: RawInvocation,
        *,
        failure: LambdaFailure | None = None,
        request: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
        generated: bool = False,
        warnings: tuple[str, ...] = (),
    ) -> LambdaOutcome:
        return LambdaOutcome(
            lambda_name=self.spec.name,
            event_type=event_type,
            request_id=raw.request_id,
            result=raw.result if raw.ok else None,
            request=request,
            response=response,
            generated=generated,
            failure=failure,
            logs=raw.logs,
            warnings=warnings,
            duration_ms=raw.duration_ms,
            cold_start=raw.cold_start,
        )


def user_frames(stack: tuple[str, ...], root: Path) -> tuple[str | None, tuple[str, ...]]:
    """``(file:line:col of the innermost frame in the user's code, the stack with paths made
    relative to the function's directory)``. Frames in ``node_modules`` are the user's too
    (deployed with the function) but not chosen as the position when a closer one exists."""
    root_text = str(root.resolve())
    runner = str(RUNNER)
    position = fallback = None
    frames = []
    for line in stack:
        match = _FRAME.search(line)
        text = line.removeprefix("at ").strip()
        if "(node:" in text or text.startswith("node:"):
            continue  # Node's internals
        if match:
            path = match.group(1).removeprefix("file://")
            if path == runner:
                continue  # edgesim's runner, which called the handler
            if path.startswith(root_text + "/"):
                rel = path[len(root_text) + 1 :]
                where = f"{rel}:{match.group(2)}:{match.group(3)}"
                text = text.replace(match.group(1), rel)
                if "node_modules/" not in rel and position is None:
                    position = where
                elif fallback is None:
                    fallback = where
        frames.append(text)
    return position or fallback, tuple(frames)


def _epoch_ms(now: datetime | float | None) -> float | None:
    if now is None:
        return None
    if isinstance(now, datetime):
        return now.timestamp() * 1000
    return float(now) * 1000


__all__ = [
    "EXECUTION_ERROR",
    "LIMIT_EXCEEDED",
    "VALIDATION_ERROR",
    "LambdaEdgeFunction",
    "LambdaFailure",
    "LambdaOutcome",
]
