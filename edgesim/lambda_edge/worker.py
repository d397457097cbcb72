"""One Node.js worker process running ``runner.cjs`` for one function.

A worker loads the function once (Lambda's init phase) and then runs one invocation at a time.
It is killed — its whole process group, so that anything the function spawned goes too — when
an invocation times out; the pool replaces it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from edgesim.lambda_edge import limits
from edgesim.lambda_edge.spec import LambdaSpec, worker_environment

RUNNER = Path(__file__).with_name("runner.cjs")
# Replies carry results up to Lambda's 6 MB payload quota, plus logs.
_LINE_LIMIT = 16 * 1024 * 1024
_STDERR_TAIL = 8 * 1024


@dataclass(frozen=True)
class JsError:
    """An error as the Lambda runtime reports it: ``errorType``, ``errorMessage``, stack."""

    error_type: str
    message: str
    stack: tuple[str, ...] = ()

    @classmethod
    def from_wire(cls, data: Any) -> JsError:
        if not isinstance(data, dict):
            return cls("Error", str(data))
        stack = data.get("stack") or []
        return cls(
            str(data.get("errorType") or "Error"),
            str(data.get("errorMessage") or ""),
            tuple(str(line) for line in stack if isinstance(line, str)),
        )


class WorkerFailure(Exception):
    """The worker could not answer: ``kind`` is ``timeout``, ``crash``, ``out-of-memory`` or
    ``init`` (the module did not load; ``error`` says why)."""

    def __init__(
        self, kind: str, message: str, *, error: JsError | None = None, logs: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.error = error
        self.logs = logs


class Worker:
    """A started worker. ``invoke`` is not re-entrant: the pool gives it one call at a time."""

    def __init__(self, spec: LambdaSpec, node: str) -> None:
        self.spec = spec
        self.node = node
        self.proc: asyncio.subprocess.Process | None = None
        self.init_logs: tuple[str, ...] = ()
        self.invocations = 0
        self.broken = False  # must not be used again (timed out, crashed, or asked to exit)
        self._stderr: collections.deque[bytes] = collections.deque()
        self._stderr_size = 0
        self._stderr_task: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None and not self.broken

    async def start(self, *, init_timeout_s: float = limits.INIT_TIMEOUT_S) -> None:
        """Spawn the process and load the function; raises :class:`WorkerFailure` (``init``)."""
        spec = self.spec
        args = [
            self.node,
            "--enable-source-maps",
            f"--max-old-space-size={spec.memory_mb}",
            str(RUNNER),
        ]
        self.proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(spec.task_root),
            env=worker_environment(spec),
            limit=_LINE_LIMIT,
            start_new_session=True,  # its own process group, killed as one
        )
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        init = {
            "type": "init",
            "taskRoot": str(spec.task_root),
            "handler": spec.handler_string,
            "functionName": spec.function_name,
            "functionVersion": spec.version,
            "invokedFunctionArn": spec.arn,
            "memoryMb": spec.memory_mb,
            "logGroupName": spec.log_group,
            "logStreamName": f"edgesim/[{spec.version}]local",
        }
        try:
            reply = await self._exchange(init, init_timeout_s, phase="init")
        except WorkerFailure as exc:
            self.kill()
            raise WorkerFailure("init", f"the module did not load: {exc.message}") from None
        logs = tuple(reply.get("logs") or ())
        if reply.get("type") == "init_error":
            self.kill()
            raise WorkerFailure(
                "init",
                "the module did not load",
                error=JsError.from_wire(reply.get("error")),
                logs=logs,
            )
        self.init_logs = logs

    async def invoke(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Run one invocation; the reply as the runner sent it, with the console lines the
        invocation wrote under ``logs``. A timeout or a crash raises :class:`WorkerFailure`
        (carrying the lines written until then) and leaves the worker broken (killed)."""
        self.invocations += 1
        logs: list[str] = []
        try:
            reply = await self._exchange(message, timeout_s, phase="invoke", logs=logs)
        except WorkerFailure as exc:
            exc.logs = (*exc.logs, *logs)
            raise
        if not isinstance(reply, dict) or reply.get("type") == "fatal":
            # "fatal": an error thrown outside any invocation (a late timer) ended the process.
            self.kill()
            error = JsError.from_wire(reply.get("error")) if isinstance(reply, dict) else None
            detail = f"{error.error_type}: {error.message}" if error else f"{reply!r:.200}"
            raise WorkerFailure(
                "crash",
                f"Runtime exited with error before the invocation: {detail}",
                error=error,
                logs=tuple(logs),
            )
        if reply.get("fatal"):
            # The runtime ends the process after an uncaught error; don't wait for it.
            self.broken = True
        reply["logs"] = logs
        return reply

    async def _exchange(
        self,
        message: dict[str, Any],
        timeout_s: float,
        *,
        phase: str,
        logs: list[str] | None = None,
    ) -> Any:
        """Send ``message`` and answer the reply; ``log`` messages on the way go to ``logs``."""
        proc = self.proc
        assert proc is not None
        assert proc.stdin is not None
        assert proc.stdout is not None
        try:
            proc.stdin.write(orjson.dumps(message) + b"\n")
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise await self._crashed(phase) from None
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            try:
                # One timeout scope per line read, without the task asyncio.wait_for makes on
                # Python 3.11 (a worker's reply and each console line are one line each).
                async with asyncio.timeout_at(deadline):
                    line = await proc.stdout.readline()
            except TimeoutError:
                self.kill()
                raise WorkerFailure(
                    "timeout",
                    f"Task timed out after {timeout_s:.2f} seconds",
                ) from None
            if not line:
                raise await self._crashed(phase)
            try:
                reply = orjson.loads(line)
            except orjson.JSONDecodeError:
                self.kill()
                raise WorkerFailure(
                    "crash", f"unreadable reply from the worker: {line[:200]!r}"
                ) from None
            if isinstance(reply, dict) and reply.get("type") == "log":
                if logs is not None:
                    logs.append(str(reply.get("line", "")))
                continue
            return reply

    async def _crashed(self, phase: str) -> WorkerFailure:
        self.broken = True
        proc = self.proc
        assert proc is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 2.0)
        if self._stderr_task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._stderr_task), 1.0)
        tail = self.stderr_tail()
        code = proc.returncode
        if "heap out of memory" in tail or "Reached heap limit" in tail:
            return WorkerFailure(
                "out-of-memory",
                f"Runtime exited with error: out of memory "
                f"(--max-old-space-size={self.spec.memory_mb} MB)",
            )
        how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        detail = f": {tail.strip().splitlines()[-1]}" if tail.strip() else ""
        return WorkerFailure("crash", f"Runtime exited with error: {how}{detail}")

    async def _drain_stderr(self) -> None:
        assert self.proc is not None
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(4096):
            self._stderr.append(chunk)
            self._stderr_size += len(chunk)
            while self._stderr_size > _STDERR_TAIL and len(self._stderr) > 1:
                self._stderr_size -= len(self._stderr.popleft())

    def stderr_tail(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace")

    def kill(self) -> None:
        """Kill the process group at once (SIGKILL): a timed-out function gets no grace."""
        self.broken = True
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    async def close(self) -> None:
        """Stop the worker and wait for it (closing stdin lets the runner exit on its own)."""
        proc = self.proc
        if proc is None:
            return
        self.broken = True
        if proc.returncode is None:
            if proc.stdin is not None:
                with contextlib.suppress(Exception):
                    proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 1.0)
            except TimeoutError:
                self.kill()
                await proc.wait()
        if self._stderr_task is not None:
            self._stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr_task
