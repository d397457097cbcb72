"""The only module that imports the QuickJS binding (quickjs-ng, Python module ``quickjs``).

A :class:`JsSession` is one QuickJS context holding the shims, the prelude and one function's
module body. The module body runs inside a wrapper function on every invocation, so top-level
``let``/``const`` state is fresh each time without paying for a new context (about 270 µs per
request against about 40 µs). Anything user code leaves behind on shared objects is caught by the
prelude's isolation check, and the owner then rebuilds the session.

Budget: the binding's time limit counts the whole process's CPU time and restarts at every entry
call, so it only serves as the hard stop for runaway code. The function's compute time is this
thread's CPU time, summed over every entry call of one invocation (KVS lookups in Python excluded).

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
    # Metered crypto calls: (measured milliseconds, calls, input bytes); see prelude.js.
    native: tuple[float, int, int] = (0.0, 0, 0)


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

    def __init__(
        self,
        body: str,
        *,
        runtime: str,
        filename: str,
        ceiling_ns: int,
        memory_bytes: int,
        fresh_every_time: bool = False,
    ) -> None:
        self.filename = filename
        self.ceiling_ns = ceiling_ns
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
        self._set_tick_limit = ctx.eval("__edgesim_internals.setTickLimit")
        snapshot = ctx.eval("__edgesim_internals.snapshot")
        try:
            ctx.eval(_WRAPPER_HEAD + body + _WRAPPER_TAIL)
        except quickjs.JSException as exc:
            raise FunctionLoadError(relocate(str(exc).strip(), filename, body)) from None
        ctx.eval("delete globalThis.__edgesim_internals;")
        snapshot()
        self._ctx = ctx
        self.fresh_every_time = fresh_every_time
        ctx.gc()
        ctx.set_memory_limit(int(ctx.memory()["malloc_size"]) + memory_bytes)
        # The binding's limit is in seconds of process CPU time; it is the runaway stop only.
        ctx.set_time_limit(ceiling_ns / 1e9)

    def invoke(
        self, event_json: str, options: dict[str, Any], resolve_kvs: KvsResolver, tick_limit: int
    ) -> RawOutcome:
        """Run the handler once; JS exceptions become outcomes, never Python exceptions."""
        clock = time.thread_time_ns
        run_job = self._ctx.execute_pending_job
        cpu = 0
        started = clock()
        try:
            self._set_tick_limit(tick_limit)
            reply = self._begin(event_json, orjson.dumps(options).decode())
            cpu += clock() - started
            state = orjson.loads(reply)
            while state["s"] == "pending":
                requests = state["kvs"]
                if requests:
                    answers = resolve_kvs(requests)  # Python time: not the function's compute
                    started = clock()
                    self._settle(orjson.dumps(answers).decode())
                else:
                    started = clock()
                ran = False
                while run_job():
                    ran = True
                    if cpu + clock() - started > self.ceiling_ns:
                        return RawOutcome(state="runaway", cpu_ns=cpu, needs_rebuild=True)
                reply = self._poll()
                cpu += clock() - started
                state = orjson.loads(reply)
                if state["s"] == "pending" and not requests and not ran and not state["kvs"]:
                    return RawOutcome(state="unsettled", cpu_ns=cpu, needs_rebuild=True)
        except quickjs.JSException as exc:
            return self._engine_failure(str(exc), cpu + clock() - started)
        except quickjs.StackOverflow:
            return self._engine_failure("RangeError: stack overflow", cpu + clock() - started)
        outcome = RawOutcome(
            state=state["s"],
            value=state.get("v"),
            value_type=state.get("type", "undefined"),
            error=state.get("error"),
            logs=state["logs"],
            origin=state["origin"],
            custom_log=state["custom"],
            cpu_ns=cpu,
            ticks=state["ticks"],
            native=tuple(state["native"]),
            needs_rebuild=state["dirty"] or self.fresh_every_time,
        )
        if outcome.error is not None:
            outcome.error = {k: relocate(v, self.filename) for k, v in outcome.error.items()}
            if outcome.error.get("name") == "MemoryError":
                outcome.state = "memory"
                outcome.needs_rebuild = True
        if cpu > self.ceiling_ns or (tick_limit and outcome.ticks > tick_limit):
            outcome.state = "runaway"
            outcome.needs_rebuild = True
        return outcome

    def _engine_failure(self, text: str, cpu: int) -> RawOutcome:
        """An exception JS code could not catch: interrupt (runaway), out of memory, or other."""
        if "out of memory" in text:
            kind = "memory"
        elif "interrupted" in text:
            kind = "runaway"
        else:
            kind = "error"
        message = relocate(text.strip(), self.filename)
        return RawOutcome(
            state=kind,
            error={"name": "", "message": message, "stack": ""},
            cpu_ns=cpu,
            needs_rebuild=True,
        )
