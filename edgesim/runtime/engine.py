"""The only module that imports the QuickJS binding (quickjs-ng, Python module ``quickjs``).

A :class:`JsSession` is one QuickJS context holding the shims, the prelude and one function's
module body. The module body runs inside a wrapper function on every invocation, so top-level
``let``/``const`` state is fresh each time without paying for a new context (building one with
the shims takes milliseconds). Whatever user code leaves on shared objects is undone or detected
by the prelude's isolation check (``leftSomethingBehind`` in prelude.js), and the owner then
rebuilds the session. A session can be built in steps (``stepwise=True`` and
:meth:`JsSession.build_step`, each step one evaluation of a few milliseconds), so that its owner
can build a spare between requests without holding an event loop for the whole build.

Budget: the function's compute time is this thread's CPU time, summed over every entry call of
one invocation (KVS lookups in Python excluded), minus the prelude's own plumbing, which it
measures with the engine's clock. The binding's time limit counts the whole process's CPU time
and restarts at every entry call; it is the hard stop for runaway code, armed before each entry
with the time the invocation has left.

Positions: every source evaluated here is ``<input>`` to the engine (the binding cannot name a
source), and each shim is a separate evaluation starting at line 1. So the user's body starts at
line ``user_line_offset() + 1`` of its evaluation, past the last line of any shim: a stack frame at
a line in the body's range is the user's, anything else (shims, prelude, wrapper, native code) is
dropped. The remaining frames go through the function's :class:`PositionMap` (the loader's and the
instrumenter's insertions) to ``file:line:col`` of the file the user wrote.

Sessions are thread-confined: the binding crashes when one runtime is used from several threads.
"""

from __future__ import annotations

import gc
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
import quickjs

from edgesim import limits
from edgesim.errors import FunctionLoadError
from edgesim.runtime.positions import PositionMap
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

# The module body runs as a function; an object key names it, so its frames read "<top level>"
# without a binding user code could see. Padding lines follow (see the module docstring).
_WRAPPER_HEAD = (
    "__edgesim_internals.install({'<top level>': "
    "function (require, __edgesim_tick, __edgesim_w) {'use strict';"
)
_WRAPPER_TAIL = "\n;return typeof handler === 'function' ? handler : undefined;}}['<top level>']);"
_POSITION = re.compile(r"<input>:(\d+)(?::(\d+))?")
_UNFINISHED = (
    "SyntaxError: unexpected end of the source (unbalanced brackets, or an unclosed comment or "
    "template literal)"
)
# quickjs-ng's stack lines: "    at NAME (<input>:LINE:COL)", "    at NAME (native)", and for a
# syntax error "    at <input>:LINE:COL".
_FRAME = re.compile(r"^\s*at (?:(?P<name>.*) \()?<input>:(?P<line>\d+):(?P<col>\d+)\)?\s*$")

# JSON.stringify writes a lone surrogate as an escape (\udxxx), which orjson (and UTF-8) refuse;
# an escaped backslash before it (\\udxxx) makes it text, not an escape.
_LONE_SURROGATE = re.compile(r"(?<!\\)((?:\\\\)*)\\u[dD][89a-fA-F][0-9a-fA-F]{2}")

# Decoding one reply of the prelude takes a few µs; a wall time longer than this means that
# the thread was waiting, so that time is not taken for the host's work.
_GLUE_PLAUSIBLE_NS = 50_000

# Answers the host gives to queued KVS calls: (id, "ok" | "missing" | "error", payload).
KvsAnswer = tuple[int, str, Any]
# Payloads the binding hands to JavaScript as they are (a get's text, a miss's None); a store's
# metadata (a dict) goes as JSON.
_PLAIN_PAYLOADS = (str, type(None))
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
    # Whether any text in the value can hold CR, LF or NUL (False: its JSON text has no escape
    # for them, so validation need not search the strings; see result.py).
    line_breaks: bool = True
    # The user's frames of the error's stack, innermost first (empty: no error, or no stack).
    frames: list[Frame] = field(default_factory=list)


def _loads(text: str) -> Any:
    """The JSON the prelude sent, lone surrogates (which strings may hold) as U+FFFD.

    They are rare, so they are looked for only when the text does not decode.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        fixed = _LONE_SURROGATE.sub(lambda m: m[1] + "\\ufffd", text)
        if fixed == text:
            raise
        return orjson.loads(fixed)


def _prelude_text(runtime: str) -> str:
    return (
        "globalThis.__edgesim_internals = (function (shims, runtime) {\n"
        + shim_source("prelude")
        + f"\n}})(globalThis.__edgesim_shims, {orjson.dumps(runtime).decode()});"
    )


@cache
def user_line_offset() -> int:
    """Lines before the user's body in its evaluation: more than any shim evaluation has.

    Rounded up to a thousand, so that it changes only when a shim grows past one.
    """
    texts = [wrapped_shim(name) for names in SHIMS_BY_RUNTIME.values() for name in names]
    texts += [_prelude_text(runtime) for runtime in SHIMS_BY_RUNTIME]
    longest = max(text.count("\n") + 1 for text in texts)
    return (longest // 1000 + 1) * 1000


def wrap_body(body: str) -> str:
    """The text evaluated for a module body: the wrapper, the padding, the body on its own lines."""
    return _WRAPPER_HEAD + "\n" * user_line_offset() + body + _WRAPPER_TAIL


@dataclass(frozen=True)
class Frame:
    """One frame of the user's code: the function's name and ``file:line:col``."""

    name: str
    position: str

    def __str__(self) -> str:
        return f"{self.name} ({self.position})"


class FunctionSyntaxError(FunctionLoadError):
    """The engine cannot compile the function: ``error`` (``SyntaxError: …``) at ``position``.

    ``str()`` is ``file:line:col: error [syntax] SyntaxError: …``, the line ``edgesim lint``
    prints for the same source.
    """

    def __init__(self, error: str, *, filename: str, line: int, column: int) -> None:
        self.error = error
        self.filename = filename
        self.line = line
        self.column = column
        self.position = f"{filename}:{line}:{column}"
        self.stack: tuple[str, ...] = ()
        super().__init__(f"{self.position}: error [syntax] {error}")


class Locator:
    """Engine positions in a wrapped body → positions in the user's file (or None: not user code).

    ``body`` is the text the engine compiled (after every rewrite); ``positions`` undoes the
    rewrites.
    """

    def __init__(self, body: str, positions: PositionMap | None, filename: str) -> None:
        self.filename = filename
        self.positions = positions or PositionMap()
        self._lines = body.split("\n")
        self._first = user_line_offset() + 1

    def place(self, line: int, col: int, *, clamp: bool = False) -> tuple[int, int] | None:
        """(line, col) in the user's file for an engine line and byte column.

        Outside the body: None, or with ``clamp`` (a syntax error found in the wrapper's tail,
        such as an unclosed brace) the nearest end of the body.
        """
        index = line - self._first
        if not 0 <= index < len(self._lines):
            if not clamp:
                return None
            index = 0 if index < 0 else len(self._lines) - 1
            col = 1 if line < self._first else len(self._lines[index].encode("utf-8")) + 1
        text = self._lines[index]
        # quickjs-ng counts columns in UTF-8 bytes; positions here count characters.
        if not text.isascii():
            col = len(text.encode("utf-8")[: max(col - 1, 0)].decode("utf-8", "replace")) + 1
        return self.positions.original(index + 1, col)

    def position(self, line: int, col: int, *, clamp: bool = False) -> str | None:
        placed = self.place(line, col, clamp=clamp)
        return None if placed is None else f"{self.filename}:{placed[0]}:{placed[1]}"

    def frames(self, stack: str) -> list[Frame]:
        """The user's frames in a quickjs-ng stack text, innermost first."""
        frames = []
        for text in stack.split("\n"):
            match = _FRAME.match(text)
            if match is None:
                continue
            where = self.position(int(match["line"]), int(match["col"]))
            if where is not None:
                frames.append(Frame(match["name"] or "<anonymous>", where))
        return frames

    def relocate(self, text: str) -> str:
        """``text`` with positions of user code as ``file:line:col`` (others are left alone)."""

        def fix(match: re.Match[str]) -> str:
            where = self.position(int(match[1]), int(match[2] or 1))
            return match[0] if where is None else where

        return _POSITION.sub(fix, text) if "<input>:" in text else text

    def syntax_error(self, text: str) -> FunctionSyntaxError:
        """The load error for what the engine said when compiling the body.

        An error found past the body (in the wrapper's tail) means the body left something
        open; the engine's text would name the wrapper's tokens, so it is said plainly, at the
        end of the body.
        """
        lines = text.strip().split("\n")
        error = lines[0]
        line, column = 1, 1
        for frame in lines[1:]:
            match = _FRAME.match(frame)
            if match is None:
                continue
            engine_line = int(match["line"])
            if engine_line >= self._first + len(self._lines):
                error = _UNFINISHED
            line, column = self.place(engine_line, int(match["col"]), clamp=True) or (1, 1)
            break
        return FunctionSyntaxError(error, filename=self.filename, line=line, column=column)


_COLLECT_LOCK = threading.Lock()


def _no_python_collection(generation: int = 2) -> int:
    return 0


def collect_garbage(ctx: Any) -> None:
    """Run QuickJS's cycle collector on ``ctx``, without a collection of Python's heap.

    The binding's ``ctx.gc()`` calls ``gc.collect()`` (looked up on the ``gc`` module at each
    call) after QuickJS's own collection: a full collection of the process's Python objects,
    measured at 10–50 ms in ``serve`` against about 0.2 ms for QuickJS's part. Nothing of
    Python's is reachable from edgesim's contexts (no callables are registered), so that
    collection frees nothing of theirs; ``gc.collect`` is a no-op for the duration of the call.
    The lock keeps two threads from restoring each other's replacement.
    """
    with _COLLECT_LOCK:
        collect = gc.collect
        gc.collect = _no_python_collection
        try:
            ctx.gc()
        finally:
            gc.collect = collect


def compile_error(
    body: str, positions: PositionMap | None = None, filename: str = "function.js"
) -> FunctionSyntaxError | None:
    """What the engine says of ``body`` (a module body) when compiling it, without running it.

    The wrapper is the one :class:`JsSession` uses, so strict-mode errors show up too.
    """
    ctx = quickjs.Context()
    ctx.eval("globalThis.__edgesim_internals = {install: function () {}};")
    try:
        ctx.eval(wrap_body(body))
    except quickjs.JSException as exc:
        return Locator(body, positions, filename).syntax_error(str(exc))
    return None


class JsSession:
    """A QuickJS context ready to run one function (see the module docstring)."""

    # Once the invocations since the last check have run this long together, memory is checked
    # (ctx.memory() walks the heap: 10-45 µs for a loaded function with its heap in the caches,
    # about 200 µs when other contexts have evicted it, as in a rehearsal; so it is worth it only
    # after real work; garbage grows with the work done, not with the number of calls) and
    # collected when cyclic garbage takes more than half the function's allowance: QuickJS's own
    # collector may otherwise not run before the next invocation reaches the limit. A single
    # invocation this long is checked at once. (A memory error on a used context is retried on a
    # new one anyway: see LoadedFunction.invoke.)
    GC_CHECK_AFTER_NS = 2_000_000
    # While a check finds less than an eighth of the allowance in use, the next one waits twice
    # as long (up to this many times GC_CHECK_AFTER_NS): garbage that grew less than 1/8 in the
    # time since the last collection grows less than 3/8 in the next, at most twice as long,
    # interval, so it is still below the half that calls for a collection. A check finding more
    # goes back to the base interval.
    GC_CHECK_MAX_STRETCH = 32

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
        positions: PositionMap | None = None,
        stepwise: bool = False,
    ) -> None:
        """Build the session now, or with ``stepwise`` only when :meth:`build_step` (or
        :meth:`finish`) is called; an unfinished session finishes its build when invoked."""
        self.filename = filename
        self._locator = Locator(body, positions, filename)
        self.ceiling_ns = ceiling_ns
        # The real-time stop: the ceiling itself, or (deterministic mode, where the ceiling is
        # counted in ticks) a much larger safety limit.
        self.stop_ns = max(ceiling_ns, safety_ns or 0)
        self.memory_bytes = memory_bytes
        self.invocations = 0
        self.baseline_bytes = 0
        # CPU time of the invocations since memory was last checked, and the interval at which
        # the next check comes (see GC_CHECK_MAX_STRETCH).
        self._unchecked_ns = 0
        self._check_after_ns = self.GC_CHECK_AFTER_NS
        # Steps of the build done so far (each one bounded: see build_step).
        self.build_steps = 0
        self._steps: Iterator[None] | None = self._build(body, runtime, written)
        if not stepwise:
            self.finish()

    @property
    def ready(self) -> bool:
        """Whether the build is complete (always, unless built ``stepwise``)."""
        return self._steps is None

    def build_step(self) -> bool:
        """Do the next step of the build; True once the session is ready.

        A step is one evaluation (a new context, one shim, the prelude, the body, the isolation
        snapshot, the collection that sets the memory baseline): a few milliseconds at most.
        A syntax error in the body is raised by the step that evaluates it.
        """
        steps = self._steps
        if steps is None:
            return True
        try:
            next(steps)
        except StopIteration:
            self._steps = None
        except BaseException:
            self._steps = None
            raise
        self.build_steps += 1
        return self._steps is None

    def finish(self) -> JsSession:
        """Do the steps of the build not done yet; the session, ready."""
        while not self.build_step():
            pass
        return self

    def _build(self, body: str, runtime: str, written: frozenset[str] | None) -> Iterator[None]:
        ctx = quickjs.Context()
        for name in SHIMS_BY_RUNTIME[runtime]:
            yield
            ctx.eval(wrapped_shim(name))
        yield
        ctx.eval(_prelude_text(runtime))
        self._begin = ctx.eval("__edgesim_internals.begin")
        self._poll = ctx.eval("__edgesim_internals.poll")
        self._settle = ctx.eval("__edgesim_internals.settle")
        self._settle_one = ctx.eval("__edgesim_internals.settleOne")
        snapshot = ctx.eval("__edgesim_internals.snapshot")
        yield
        try:
            ctx.eval(wrap_body(body))
        except quickjs.JSException as exc:
            raise self._locator.syntax_error(str(exc)) from None
        ctx.eval("delete globalThis.__edgesim_internals;")
        yield
        # Names the source writes in plain sight (None: any): see writes.py.
        snapshot(orjson.dumps(None if written is None else sorted(written)).decode())
        yield
        self._ctx = ctx
        collect_garbage(ctx)
        self.baseline_bytes = int(ctx.memory()["malloc_size"])
        ctx.set_memory_limit(self.baseline_bytes + self.memory_bytes)

    def invoke(
        self, event_json: str, options: dict[str, Any], resolve_kvs: KvsResolver, tick_limit: int
    ) -> RawOutcome:
        """Run the handler once; nothing it does raises here, everything becomes an outcome."""
        if self._steps is not None:
            self.finish()
        reused = self.invocations > 0
        self.invocations += 1
        # Python's cyclic collector must not run inside the timed region: a full collection
        # after a reload takes tens of ms of this thread's CPU, which would count as the
        # function's compute and stop it as a runaway (seen in the soak). It runs after.
        collecting = gc.isenabled()
        if collecting:
            gc.disable()
        try:
            outcome = self._run(event_json, options, resolve_kvs, tick_limit)
        finally:
            if collecting:
                gc.enable()
        outcome.reused = reused
        self._unchecked_ns += outcome.cpu_ns
        base = self.GC_CHECK_AFTER_NS
        due = self._unchecked_ns >= self._check_after_ns or outcome.cpu_ns >= base
        if due and not outcome.needs_rebuild:
            self._unchecked_ns = 0
            used = self._collect_if_needed()
            if used is not None and used < self.memory_bytes // 8:
                self._check_after_ns = min(
                    2 * self._check_after_ns, base * self.GC_CHECK_MAX_STRETCH
                )
            else:
                self._check_after_ns = base
        return outcome

    def _collect_if_needed(self) -> int | None:
        """Check memory and collect when garbage takes over half the allowance; the bytes in
        use above the baseline at the check."""
        used = int(self._ctx.memory()["malloc_size"]) - self.baseline_bytes
        if used > self.memory_bytes // 2:
            collect_garbage(self._ctx)
        return used

    def _run(
        self, event_json: str, options: dict[str, Any], resolve_kvs: KvsResolver, tick_limit: int
    ) -> RawOutcome:
        # The invocation's CPU time is the thread's, read (a system call, about 0.7 µs here)
        # only where a section starts or ends: at the start and the end, and before the host's
        # KVS lookups, which are not the function's (after them too when they took long).
        # Within a section the time used is bounded by the wall clock (a cheap read), which a
        # thread's CPU time cannot outrun: the CPU clock is read again only when that bound
        # passes half the stop. The host's own work on the replies (decoding them, a few µs)
        # is timed with the wall clock and left out, as it always was, unless it took
        # implausibly long (then it is counted: a slight overcount).
        clock = time.thread_time_ns
        wall = time.perf_counter_ns
        ctx = self._ctx
        run_job = ctx.execute_pending_job
        arm = ctx.set_time_limit
        stop = self.stop_ns
        half = stop // 2
        edge = options["edge"]
        kvs = options["kvs"]
        arguments = (
            event_json,
            float(options["now"]),
            options["seed"],
            options["eventType"],
            orjson.dumps(edge).decode() if edge else "{}",
            None if kvs is None else str(kvs["id"]),
            options["rawQuery"],
            tick_limit,
        )
        closed = 0  # CPU time of the sections already closed
        glue = 0  # wall time of the host's decoding in the open section
        started = clock()
        opened = wall()
        try:
            arm(stop / 1e9)
            reply = self._begin(*arguments)
            while True:
                decoding = wall()
                head_text, _, value_text = reply.partition("\n")
                head = _loads(head_text)
                requests = head.get("kvs")
                decoded = wall() - decoding
                if decoded < _GLUE_PLAUSIBLE_NS:  # longer: the thread waited, it did not work
                    glue += decoded
                if requests and head["s"] == "pending":
                    paused = clock()
                    closed += paused - started - glue
                    looking = wall()
                    answers = resolve_kvs(requests)  # Python time: not the function's compute
                    opened = wall()
                    looked = opened - looking
                    # A lookup that took a plausible wall time (a few µs) used that much CPU
                    # time at most: the section restarts that far past the pause, without a
                    # second read of the CPU clock (a system call). A longer one may have been
                    # real work (a large replica to bring up to date) or a wait: the clock says.
                    started = paused + looked if looked < _GLUE_PLAUSIBLE_NS else clock()
                    glue = 0
                    arm(max(stop - closed, 0) / 1e9)
                    if len(answers) == 1 and type(answers[0][2]) in _PLAIN_PAYLOADS:
                        self._settle_one(*answers[0])  # no JSON round trip for one read
                    else:
                        self._settle(orjson.dumps(answers).decode())
                progress = False
                while True:
                    bound = closed + wall() - opened
                    if bound > half:
                        # Past half the stop, the time limit is armed from the CPU time itself:
                        # when the wall clock ran ahead (the thread was waiting), arming from the
                        # bound would leave the next job too little time and stop it falsely.
                        used = closed + clock() - started - glue
                        if used > stop:
                            return self._runaway(used)
                        closed, glue, started, opened = used, 0, clock(), wall()
                        bound = used
                    arm((stop - bound) / 1e9)
                    if not run_job():
                        break
                    progress = True
                if head["s"] != "pending" and not progress:
                    # The outcome is known and the jobs the function left queued (a `.then`
                    # it did not wait for) have run, in this invocation and on its clock.
                    break
                # The limit armed for the last (empty) job run still holds for the poll.
                reply = self._poll()
                if closed + wall() - opened > stop:
                    used = closed + clock() - started - glue
                    if used > stop:
                        return self._runaway(used)
                if (
                    not progress
                    and not requests
                    and reply.startswith('{"s":"pending","kvs":[]')
                    and '"recheck":true' not in reply
                ):
                    used = closed + clock() - started - glue
                    return RawOutcome(state="unsettled", cpu_ns=used, needs_rebuild=True)
        except quickjs.JSException as exc:
            return self._engine_failure(str(exc), closed + clock() - started - glue)
        except orjson.JSONDecodeError as exc:  # what the prelude sent is unreadable
            return RawOutcome(
                state="unserialisable",
                error={"name": "", "message": f"the outcome cannot be decoded ({exc})"},
                cpu_ns=closed + clock() - started - glue,
                needs_rebuild=True,
            )
        return self._outcome(head, value_text, closed + clock() - started - glue, tick_limit)

    def _outcome(
        self, head: dict[str, Any], value_text: str, cpu: int, tick_limit: int
    ) -> RawOutcome:
        plumb_ms, sections = head["plumb"]
        outcome = RawOutcome(
            state=head["s"],
            value_type=head.get("type", "undefined"),
            error=head.get("error"),
            # A logged err.stack names engine lines: the user's file is more use.
            logs=[self._locator.relocate(line) for line in head["logs"]],
            origin=head["origin"],
            custom_log=head["custom"],
            cpu_ns=cpu,
            ticks=head["ticks"],
            native=tuple(head["native"]),
            plumbing=(float(plumb_ms), int(sections)),
            needs_rebuild=bool(head["dirty"]),
        )
        if outcome.state == "ok":
            # JSON.stringify writes CR, LF and NUL as these escapes (a false alarm, an escaped
            # backslash before "n", only costs the search it would save). Most texts hold no
            # backslash at all: one search for it (a byte scan) saves the three (measured
            # 1.06 µs → 0.03 µs on a 570-character request).
            outcome.line_breaks = "\\" in value_text and (
                "\\n" in value_text or "\\r" in value_text or "\\u0000" in value_text
            )
            try:
                outcome.value = _loads(value_text)
            except orjson.JSONDecodeError as exc:
                # Nested deeper than the decoder allows (orjson stops at 1,024 levels).
                outcome.state = "unserialisable"
                outcome.error = {"name": "", "message": f"the value cannot be decoded ({exc})"}
        if outcome.error is not None:
            locate = self._locator
            outcome.frames = locate.frames(str(outcome.error.get("stack", "")))
            outcome.error = {k: locate.relocate(str(v)) for k, v in outcome.error.items()}
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
            outcome = self._runaway(cpu)
            outcome.frames = self._locator.frames(text)  # where it was stopped
            return outcome
        else:
            kind = "error"
        return RawOutcome(
            state=kind,
            error={"name": "", "message": self._locator.relocate(text.strip()), "stack": ""},
            cpu_ns=cpu,
            needs_rebuild=True,
            frames=self._locator.frames(text),
        )
