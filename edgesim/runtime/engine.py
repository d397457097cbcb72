"""The only module that imports the QuickJS binding (quickjs-ng, Python module ``quickjs``).

A :class:`JsSession` is one QuickJS context holding the shims, the prelude and one function's
module body. The module body runs inside a wrapper function on every invocation, so top-level
``let``/``const`` state is fresh each time without paying for a new context (building one with
the shims takes milliseconds). Whatever user code leaves on shared objects is undone or detected
by the prelude's isolation check (``leftSomethingBehind`` in prelude.js), and the owner then
rebuilds the session.

Budget: the function's compute time is this thread's CPU time, summed over every entry call of
one invocation (KVS lookups in Python excluded), minus the prelude's own plumbing, which it
measures with the engine's clock. The binding's time limit counts the whole process's CPU time
and restarts at every entry call; it is the hard stop for runaway code, armed before each entry
with the time the invocation has left.

Sessions are thread-confined: the binding crashes when one runtime is used from several threads.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import quickjs

from edgesim import limits
from edgesim.errors import FunctionLoadError
from edgesim.runtime.shims import shim_source, wrapped_shim

SHIMS_BY_RUNTIME = {
    limits.RUNTIME_JS_2: (
        "intrinsics",
        "text",
        "buffer",
        "crypto",
        "cwt",
        "querystring",
        "cloudfront",
    ),
    # 1.0 has no `cloudfront` module, but cloudfront.js (loaded for both) builds on cwt.js.
    limits.RUNTIME_JS_1: (
        "intrinsics",
        "text",
        "buffer",
        "crypto",
        "cwt",
        "querystring",
        "njs_strings",
        "cloudfront",
    ),
}

_WRAPPER_HEAD = "__edgesim_internals.install(function (require, __edgesim_tick) {'use strict';"
_WRAPPER_TAIL = "\n;return typeof handler === 'function' ? handler : undefined;});"
_POSITION = re.compile(r"<input>:(\d+)(?::(\d+))?")

# Answers the host gives to queued KVS calls: (id, "ok" | "missing" | "error", payload).
KvsAnswer = tuple[int, str, Any]
KvsResolver = Callable[[list[dict[str, Any]]], list[KvsAnswer]]


@dataclass
class RawOutcome:
    """What one invocation produced, before validation."""

    state: str  # ok | error | unserialisable | runaway | memory | unsettled
    value: Any = None
    value_type: str = "undefined"
    error: dict[str, str] | None = None
    logs: list[str] = field(default_factory=list)
    origin: list[dict[str, Any]] = field(default_factory=list)
    custom_log: str | None = None
    cpu_ns: int = 0
    ticks: int = 0
    needs_rebuild: bool = False
    # Metered native-code calls: (measured milliseconds, calls, input bytes); see prelude.js.
    native: tuple[float, int, int] = (0.0, 0, 0)
    # The prelude's plumbing (event parsing, KVS settling, serialising, the isolation check):
    # (measured milliseconds, sections). Not the function's compute.
    plumbing: tuple[float, int] = (0.0, 0)
    # The session had served an earlier invocation (whose garbage may still fill memory).
    reused: bool = False


def relocate(text: str, filename: str, source: str | None = None) -> str:
    """Rewrite ``<input>:line:col`` positions to the user's file, undoing the wrapper's offset.

    A position in the wrapper's tail (e.g. an unclosed brace found at the end) becomes the end
    of the user's last line when ``source`` is given.
    """
    lines = source.split("\n") if source is not None else None

    def fix(match: re.Match[str]) -> str:
        line = int(match[1])
        col = int(match[2]) if match[2] is not None else None
        if lines is not None and line > len(lines):
            return f"{filename}:{len(lines)}:{len(lines[-1]) + 1}"
        if col is None:
            return f"{filename}:{line}"
        if line == 1:
            col = max(1, col - len(_WRAPPER_HEAD))
        return f"{filename}:{line}:{col}"

    return _POSITION.sub(fix, text)


class JsSession:
    """A QuickJS context ready to run one function (see the module docstring)."""

    # After an invocation that ran this long, memory is checked (ctx.memory() walks the heap, so
    # it costs about 15 µs, worth it only after heavy work) and collected when cyclic garbage
    # takes more than half the function's allowance: QuickJS's own collector may otherwise not
    # run before the next invocation reaches the limit.
    GC_CHECK_AFTER_NS = 200_000

    def __init__(
        self,
        body: str,
        *,
        runtime: str,
        filename: str,
        ceiling_ns: int,
        memory_bytes: int,
        safety_ns: int | None = None,
        written: frozenset[str] | None = None,
    ) -> None:
        self.filename = filename
        self.ceiling_ns = ceiling_ns
        # The real-time stop: the ceiling itself, or (deterministic mode, where the ceiling is
        # counted in ticks) a much larger safety limit.
        self.stop_ns = max(ceiling_ns, safety_ns or 0)
        self.memory_bytes = memory_bytes
        self.invocations = 0
        ctx = quickjs.Context()
        for name in SHIMS_BY_RUNTIME[runtime]:
            ctx.eval(wrapped_shim(name))
        ctx.eval(
            "globalThis.__edgesim_internals = (function (shims, runtime) {\n"
            + shim_source("prelude")
            + f"\n}})(globalThis.__edgesim_shims, {orjson.dumps(runtime).decode()});"
        )
        self._begin = ctx.eval("__edgesim_internals.begin")
        self._poll = ctx.eval("__edgesim_internals.poll")
        self._settle = ctx.eval("__edgesim_internals.settle")
        snapshot = ctx.eval("__edgesim_internals.snapshot")
        try:
            ctx.eval(_WRAPPER_HEAD + body + _WRAPPER_TAIL)
        except quickjs.JSException as exc:
            raise FunctionLoadError(relocate(str(exc).strip(), filename, body)) from None
        ctx.eval("delete globalThis.__edgesim_internals;")
        # Names the source can write (None: any): see written_properties in source.py.
        snapshot(orjson.dumps(None if written is None else sorted(written)).decode())
        self._ctx = ctx
        ctx.gc()
        self.baseline_bytes = int(ctx.memory()["malloc_size"])
        ctx.set_memory_limit(self.baseline_bytes + memory_bytes)

    def invoke(
        self, event_json: str, options: dict[str, Any], resolve_kvs: KvsResolver, tick_limit: int
    ) -> RawOutcome:
        """Run the handler once; nothing it does raises here, everything becomes an outcome."""
        reused = self.invocations > 0
        self.invocations += 1
        outcome = self._run(event_json, options, resolve_kvs, tick_limit)
        outcome.reused = reused
        if outcome.cpu_ns >= self.GC_CHECK_AFTER_NS and not outcome.needs_rebuild:
            self._collect_if_needed()
        return outcome

    def _collect_if_needed(self) -> None:
        used = int(self._ctx.memory()["malloc_size"]) - self.baseline_bytes
        if used > self.memory_bytes // 2:
            self._ctx.gc()

    def _run(
        self, event_json: str, options: dict[str, Any], resolve_kvs: KvsResolver, tick_limit: int
    ) -> RawOutcome:
        clock = time.thread_time_ns
        ctx = self._ctx
        run_job = ctx.execute_pending_job
        arm = ctx.set_time_limit
        stop = self.stop_ns
        options_json = orjson.dumps({**options, "tickLimit": tick_limit}).decode()
        cpu = 0
        started = clock()
        try:
            arm(stop / 1e9)
            reply = self._begin(event_json, options_json)
            cpu = clock() - started
            while True:
                head_text, _, value_text = reply.partition("\n")
                head = orjson.loads(head_text)
                requests = head.get("kvs")
                if head["s"] != "pending":
                    # The outcome is known. Jobs the function left queued (a `.then` it did not
                    # wait for) still run now, in this invocation and on its clock.
                    started = clock()
                    arm(max(stop - cpu, 0) / 1e9)
                    if not run_job():
                        cpu += clock() - started
                        break
                    progress = True
                elif requests:
                    answers = resolve_kvs(requests)  # Python time: not the function's compute
                    started = clock()
                    arm(max(stop - cpu, 0) / 1e9)
                    self._settle(orjson.dumps(answers).decode())
                    progress = False
                else:
                    started = clock()
                    progress = False
                while True:
                    used = cpu + clock() - started
                    if used > stop:
                        return self._runaway(used)
                    arm((stop - used) / 1e9)
                    if not run_job():
                        break
                    progress = True
                # The limit armed for the last (empty) job run still holds for the poll: it is
                # short, and reading the thread clock is a system call.
                reply = self._poll()
                cpu += clock() - started
                if cpu > stop:
                    return self._runaway(cpu)
                if (
                    not progress
                    and not requests
                    and reply.startswith('{"s":"pending","kvs":[]')
                    and '"recheck":true' not in reply
                ):
                    return RawOutcome(state="unsettled", cpu_ns=cpu, needs_rebuild=True)
        except quickjs.JSException as exc:
            return self._engine_failure(str(exc), cpu + clock() - started)
        except orjson.JSONDecodeError as exc:  # what the prelude sent is unreadable
            return RawOutcome(
                state="unserialisable",
                error={"name": "", "message": f"the outcome cannot be decoded ({exc})"},
                cpu_ns=cpu,
                needs_rebuild=True,
            )
        return self._outcome(head, value_text, cpu, tick_limit)

    def _outcome(
        self, head: dict[str, Any], value_text: str, cpu: int, tick_limit: int
    ) -> RawOutcome:
        plumb_ms, sections = head["plumb"]
        outcome = RawOutcome(
            state=head["s"],
            value_type=head.get("type", "undefined"),
            error=head.get("error"),
            logs=head["logs"],
            origin=head["origin"],
            custom_log=head["custom"],
            cpu_ns=cpu,
            ticks=head["ticks"],
            native=tuple(head["native"]),
            plumbing=(float(plumb_ms), int(sections)),
            needs_rebuild=bool(head["dirty"]),
        )
        if outcome.state == "ok":
            try:
                outcome.value = orjson.loads(value_text)
            except orjson.JSONDecodeError as exc:
                # Nested deeper than the decoder allows (orjson stops at 1,024 levels).
                outcome.state = "unserialisable"
                outcome.error = {"name": "", "message": f"the value cannot be decoded ({exc})"}
        if outcome.error is not None:
            outcome.error = {k: relocate(str(v), self.filename) for k, v in outcome.error.items()}
            if outcome.error.get("name") == "MemoryError":
                outcome.state = "memory"
                outcome.needs_rebuild = True
        if tick_limit and outcome.ticks > tick_limit:
            outcome.state = "runaway"
            outcome.needs_rebuild = True
        return outcome

    def _runaway(self, cpu: int) -> RawOutcome:
        return RawOutcome(state="runaway", cpu_ns=max(cpu, self.stop_ns), needs_rebuild=True)

    def _engine_failure(self, text: str, cpu: int) -> RawOutcome:
        """An exception JS code could not catch: interrupt (runaway), out of memory, or other."""
        first = text.strip().split("\n", 1)[0]
        if "out of memory" in first or first == "null":
            # null: the engine could not even allocate the error object.
            kind = "memory"
        elif "interrupted" in first:
            return self._runaway(cpu)
        else:
            kind = "error"
        message = relocate(text.strip(), self.filename)
        return RawOutcome(
            state=kind,
            error={"name": "", "message": message, "stack": ""},
            cpu_ns=cpu,
            needs_rebuild=True,
        )
