"""A loaded function: compatibility gate, QuickJS session, and one call per event.

This is the runtime's public face; the CLI, ``serve`` and ``edgesim.testing`` all go through
:class:`LoadedFunction`, whose :meth:`~LoadedFunction.invoke` answers an :class:`InvocationResult`.
Values that cross to other modules are typed: :class:`ResultKind`, :class:`FailureKind` (both
``StrEnum``, equal to their strings) and :class:`OriginModification`. It knows nothing of HTTP.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

import orjson

from edgesim import limits
from edgesim.errors import (
    FunctionExecutionError,
    FunctionLoadError,
    FunctionValidationError,
    InputError,
)
from edgesim.kvs.reader import KvsReader
from edgesim.runtime.engine import FunctionSyntaxError, JsSession, KvsAnswer, RawOutcome
from edgesim.runtime.event import VIEWER_REQUEST
from edgesim.runtime.instrument import BodyInstrumenter
from edgesim.runtime.logdata import encode_custom_log_data
from edgesim.runtime.origin_checks import OriginModification as OriginModification
from edgesim.runtime.origin_checks import origin_modifications
from edgesim.runtime.positions import PositionMap
from edgesim.runtime.result import ResultKind as ResultKind
from edgesim.runtime.result import classify, normalise, validate_request, validate_response
from edgesim.runtime.source import FunctionSource, load_body
from edgesim.runtime.writes import guard_writes

CLOUDFRONT_ERROR_PREFIX = (
    "The CloudFront function associated with the CloudFront distribution is invalid"
    " or could not run."
)
DEFAULT_EDGE = {"name": "IAD", "serverIp": "127.0.0.1", "region": "us-east-1"}
# In deterministic mode, real CPU time only stops code at this multiple of the (tick) ceiling.
DETERMINISTIC_SAFETY_FACTOR = 10


@dataclass(frozen=True)
class BudgetPolicy:
    """How compute time is measured and enforced (see docs/runtime.md, "Compute budget").

    ``budget_ns`` is what 100 % ComputeUtilization means (AWS documents only the percentage; about
    1 ms is the common figure). A run above the budget is reported, not failed, unless
    ``fail_over_budget``; runaway code is stopped at ``ceiling_factor`` × the budget. In
    ``deterministic`` mode the cost is counted work (function entries and loop iterations, each
    charged ``tick_cost_ns``), so results do not depend on the machine's speed or load.
    """

    budget_ns: int = limits.DEFAULT_COMPUTE_BUDGET_NS
    ceiling_factor: float = limits.DEFAULT_HARD_CEILING_FACTOR
    fail_over_budget: bool = False
    deterministic: bool = False
    tick_cost_ns: int = 1_000
    # crypto runs natively in CloudFront; its JS time here is replaced by this model
    # (an emulator estimate: call overhead plus a hashing rate of about 250 MB/s).
    native_call_ns: int = limits.NATIVE_CRYPTO_CALL_NS
    native_byte_ns: float = limits.NATIVE_CRYPTO_BYTE_NS

    @property
    def ceiling_ns(self) -> int:
        return int(self.budget_ns * self.ceiling_factor)

    @property
    def safety_ceiling_ns(self) -> int:
        """The real CPU time after which code is stopped whatever the mode.

        The ceiling itself when time is measured; in deterministic mode, where the ceiling is
        counted in ticks, a much larger safety stop (``DETERMINISTIC_SAFETY_FACTOR`` × the
        ceiling), so that ordinary code never depends on the machine's speed or load.
        """
        if self.deterministic:
            return self.ceiling_ns * DETERMINISTIC_SAFETY_FACTOR
        return self.ceiling_ns

    @property
    def tick_limit(self) -> int:
        return max(1, self.ceiling_ns // self.tick_cost_ns) if self.deterministic else 0


class FailureKind(StrEnum):
    """Why an invocation failed; a ``StrEnum``, so ``FailureKind.EXECUTION == "execution"``.

    ``EXECUTION``: the function threw, rejected, ran away or ran out of memory (CloudFront: 503,
    ``FunctionExecutionError``). ``VALIDATION``: it returned something CloudFront rejects
    (CloudFront: 502, ``FunctionValidationError``).
    """

    EXECUTION = "execution"
    VALIDATION = "validation"


@dataclass
class FunctionFailure:
    """Why an invocation failed.

    ``message`` is the error as CloudFront words it (``TypeError: …``). ``position`` is
    ``file:line:col`` of the innermost frame of the user's own code, in the file as written
    (the loader's and the instrumenter's rewrites undone); ``stack`` lists the user's frames,
    innermost first, each ``name (file:line:col)``; frames of edgesim's shims and wrapper are
    left out. Both are empty when the engine gave no stack (a thrown string, a validation
    error, memory exhaustion).
    """

    kind: FailureKind
    message: str
    position: str | None = None
    stack: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # The plain strings "execution" / "validation" are accepted too (and checked).
        self.kind = FailureKind(self.kind)

    @property
    def cloudfront_message(self) -> str:
        return f"{CLOUDFRONT_ERROR_PREFIX} {self.message}"


@dataclass
class InvocationResult:
    """What one invocation produced.

    ``kind`` says whether ``output`` is the request to forward or a generated response (None when
    the function failed before returning one). ``origin_modifications`` lists the origin helper
    calls in call order, each checked once (``origin_problems`` gathers their problems).
    ``custom_log_data`` is what the access log would show for ``cf.logCustomData``: the last
    call's value, URL-encoded and cut to 800 bytes (see :mod:`edgesim.runtime.logdata`); None
    when the function never called it.
    """

    event_type: str
    kind: ResultKind | None = None
    output: dict[str, Any] | None = None
    error: FunctionFailure | None = None
    logs: list[str] = field(default_factory=list)
    compute_utilization: int = 0
    cpu_ns: int = 0
    origin_modifications: list[OriginModification] = field(default_factory=list)
    custom_log_data: str | None = None
    warnings: list[str] = field(default_factory=list)
    over_budget: bool = False

    @property
    def request(self) -> dict[str, Any] | None:
        return self.output if self.kind == ResultKind.REQUEST else None

    @property
    def response(self) -> dict[str, Any] | None:
        return self.output if self.kind == ResultKind.RESPONSE else None

    @property
    def origin_problems(self) -> list[str]:
        """Every problem of every origin-modification call, in call order (empty: all valid).

        CloudFront answers 502 when there is any; TestFunction does not look (``edgesim test``
        reports them as warnings).
        """
        return [problem for call in self.origin_modifications for problem in call.problems]

    def raise_for_error(self) -> InvocationResult:
        """Raise :class:`~edgesim.errors.FunctionExecutionError` or
        :class:`~edgesim.errors.FunctionValidationError` when the invocation failed; otherwise
        return the result itself (``fn.invoke(event).raise_for_error().request``).

        The message is the failure's, followed by the user's stack frames (``    at …``) and the
        function's ``console.log`` lines.
        """
        if self.error is None:
            return self
        error_class = (
            FunctionValidationError
            if self.error.kind == FailureKind.VALIDATION
            else FunctionExecutionError
        )
        status = 502 if error_class is FunctionValidationError else 503
        message = f"{self.error.kind} error (CloudFront: HTTP {status}): {self.error.message}"
        message += "".join(f"\n    at {frame}" for frame in self.error.stack)
        if self.logs:
            message += "\nconsole.log output:\n" + "\n".join(f"  {line}" for line in self.logs)
        raise error_class(message)


# QuickJS words some common errors differently from njs, the engine CloudFront's texts match.
_NJS_WORDING = (
    (re.compile(r"cannot read property '([^']*)' of (undefined|null)"), r'cannot get property "\1" of \2'),  # noqa: E501
    (re.compile(r"cannot set property '([^']*)' of (undefined|null)"), r'cannot set property "\1" of \2'),  # noqa: E501
    (re.compile(r"'([^']+)' is not defined"), r'"\1" is not defined'),
    # quickjs-ng: "URL is not defined"; njs: "\"URL\" is not defined".
    (re.compile(r"^ReferenceError: ([A-Za-z_$][\w$]*) is not defined"), r'ReferenceError: "\1" is not defined'),  # noqa: E501
)  # fmt: skip


def njs_wording(message: str) -> str:
    for pattern, replacement in _NJS_WORDING:
        message = pattern.sub(replacement, message)
    return message


def _epoch_ms(now: datetime | float | None) -> float:
    """Milliseconds since the epoch, whole: a JS time value has no fractions of a millisecond."""
    if now is None:
        return float(time.time_ns() // 1_000_000)
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise InputError(f"time {now.isoformat()} has no time zone; add Z or an offset")
        return float(math.floor(now.timestamp() * 1000.0))
    return float(math.floor(now))


class LoadedFunction:
    """One function ready to run. Not thread-safe: use it from one thread (the binding's rule).

    Contexts (see docs/runtime.md, "Fresh state per invocation"): one context serves the
    invocations until one leaves something behind that cannot be undone (a runaway, a memory
    error, a new global); the next invocation then runs on a new context. Building one takes
    tens of milliseconds, so when the function is invoked on a running asyncio event loop (as
    ``serve`` does), the function keeps a **spare** context: a context that has to go is
    replaced at once by the spare, and the next spare is built on the same loop, one bounded
    step per callback (:meth:`prepare_spare`), between requests. Without a running loop
    (``edgesim test``, ``load_function``) nothing is built ahead: the next invocation builds its
    context, as it always did. Counters: ``sessions_built`` (contexts put into service, the
    first one included), ``spares_used`` (of those, spares ready in advance) and
    ``inline_builds`` (of those, built or finished by an invocation, on its path).

    ``coverage``: True (the default) lets the process-wide :attr:`instrumenter` add coverage
    counters while one is set (``edgesim.coverage.start``); False never does; an instrumenter
    is used for this function alone.
    """

    # Whether contexts are built ahead on a running event loop (False: never; benchmarks
    # compare the two).
    spare_contexts: ClassVar[bool] = True
    # What rewrites bodies at load time when ``coverage`` is left True: set while coverage is
    # recorded (edgesim.coverage.start), None otherwise (then nothing is done).
    instrumenter: ClassVar[BodyInstrumenter | None] = None

    def __init__(
        self,
        source: FunctionSource,
        *,
        runtime: str = limits.RUNTIME_JS_2,
        kvs: KvsReader | None = None,
        budget: BudgetPolicy | None = None,
        compat: str = "strict",
        compat_overrides: dict[str, str] | None = None,
        coverage: BodyInstrumenter | bool = True,
    ) -> None:
        if runtime not in limits.RUNTIMES:
            raise InputError(f"runtime {runtime!r}: expected one of {', '.join(limits.RUNTIMES)}")
        if compat not in ("strict", "lenient"):
            raise InputError(f"compat mode {compat!r}: expected 'strict' or 'lenient'")
        self.source = source
        self.runtime = runtime
        self.kvs = kvs
        self.budget = budget or BudgetPolicy()
        self.findings = _compat_findings(source, runtime, compat, compat_overrides)
        body, positions = load_body(source.text)
        # What the isolation check must put back after each invocation (see writes.py).
        body, self._written, guards = guard_writes(body)
        positions = positions.then(guards)
        # Coverage counters (``coverage``: True for the process-wide instrumenter, if any).
        rewriter = self.instrumenter if coverage is True else coverage or None
        covered = rewriter(source, body, positions) if rewriter is not None else None
        self._session_class: Callable[..., JsSession] = JsSession
        if covered is not None:
            body, positions, self._session_class = covered
        if self.budget.deterministic:
            from edgesim.runtime.instrument import instrument_with_map

            body, ticks = instrument_with_map(body)
            positions = positions.then(ticks)
        self._body = body
        # From the engine's positions back to the file as written.
        self.positions: PositionMap = positions
        self._session: JsSession | None = None
        # The next context, built (or being built) ahead; contexts taken out of service, to be
        # freed between requests (freeing one takes about a millisecond).
        self._spare: JsSession | None = None
        self._retired: list[JsSession] = []
        # The event loop on which a step of that work is scheduled (None: none is).
        self._tending: asyncio.AbstractEventLoop | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._spare_failed = False
        self.sessions_built = 0
        self.spares_used = 0
        self.inline_builds = 0
        self._session = self._new_session()  # compile now: syntax errors surface at load time
        self.sessions_built = 1

    def _new_session(self, *, stepwise: bool = False) -> JsSession:
        return self._session_class(
            self._body,
            runtime=self.runtime,
            filename=self.source.filename,
            ceiling_ns=self.budget.ceiling_ns,
            memory_bytes=limits.FUNCTION_MAX_MEMORY_BYTES,
            safety_ns=self.budget.safety_ceiling_ns,
            written=self._written,
            positions=self.positions,
            stepwise=stepwise,
        )

    def _session_for_use(self) -> JsSession:
        if self._session is None:
            spare, self._spare = self._spare, None
            if spare is not None and spare.ready:
                self.spares_used += 1
                self._session = spare
            else:
                # No spare, or one not finished: this invocation pays for (the rest of) it.
                self._session = self._new_session() if spare is None else spare.finish()
                self.inline_builds += 1
            self.sessions_built += 1
        return self._session

    def _retire(self) -> None:
        """Take the current context out of service; the next invocation gets another."""
        session, self._session = self._session, None
        if session is not None and self.spare_contexts and _running_loop() is not None:
            self._retired.append(session)  # freed between requests (see _schedule_spare)

    # --- contexts built ahead, on a running event loop --------------------------------------

    @property
    def context_ready(self) -> bool:
        """Whether the next invocation finds a context without building one on its path."""
        return self._session is not None or (self._spare is not None and self._spare.ready)

    @property
    def awaits_spare(self) -> bool:
        """Whether :meth:`until_ready` would wait: the context is gone and a spare is being
        built in steps (not when contexts are not built ahead, or building one failed: then
        :meth:`invoke` builds one, or reports why it cannot)."""
        return not self.context_ready and self.spare_contexts and not self._spare_failed

    async def until_ready(self) -> None:
        """Wait, without holding the event loop, until :attr:`context_ready`.

        Meanwhile the spare is built one step per loop callback. A caller on an event loop
        (``serve``) awaits this just before a (synchronous) :meth:`invoke`: requests that find
        their function's context gone (several runaways in a row) then wait for it while other
        requests go on, instead of building it on the event loop in one go. Returns at once
        when contexts are not built ahead (``spare_contexts`` off; then :meth:`invoke` builds
        one).
        """
        while self.awaits_spare:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            self._schedule_spare()
            await waiter

    def prepare_spare(self) -> bool:
        """Do one bounded piece of the work ahead: start or continue building the spare (one
        step: see :meth:`JsSession.build_step`), or else free one retired context.

        Returns True while there is more to do. ``serve`` need not call it: an invocation on a
        running event loop schedules it there itself (``loop.call_soon``), one step per
        callback, until the spare is ready. Synchronous callers may run
        ``while fn.prepare_spare(): pass``.
        """
        if self._spare is None:
            self._spare = self._new_session(stepwise=True)
        elif not self._spare.ready:
            try:
                self._spare.build_step()
            except Exception:  # the body compiled at load time: not expected
                self._spare, self._spare_failed = None, True
                return False
        elif self._retired:
            self._retired.pop()
        return bool(self._retired) or not self._spare.ready

    def _schedule_spare(self) -> None:
        """Have the work ahead done on this thread's running event loop, if there is one."""
        if (
            not self.spare_contexts
            or self._spare_failed
            or (self._spare is not None and self._spare.ready and not self._retired)
        ):
            return
        loop = _running_loop()
        # No loop: the next context is built when it is needed. (A step scheduled on a loop
        # that has stopped since never runs: this loop gets its own.)
        if loop is not None and loop is not self._tending:
            loop.call_soon(_tend, weakref.ref(self))
            self._tending = loop

    def _tend(self) -> None:
        """One step of the work ahead (a loop callback); wakes the requests waiting for it."""
        self._tending = None
        more = self.prepare_spare()
        if self._waiters and (self.context_ready or not more):
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        if more:
            self._schedule_spare()

    def _resolve_kvs(
        self, store: KvsReader | None, requests: list[dict[str, Any]]
    ) -> list[KvsAnswer]:
        answers: list[KvsAnswer] = []
        for req in requests:
            if store is None:
                answers.append((req["id"], "error", "KVSNamespaceNotFound"))
            elif req["op"] == "meta":
                answers.append((req["id"], "ok", store.meta()))
            else:
                value = store.get(req["key"])
                answers.append((req["id"], "missing" if value is None else "ok", value))
        return answers

    def invoke(
        self,
        event: dict[str, Any],
        *,
        now: datetime | float | None = None,
        seed: int | None = None,
        edge: dict[str, str] | None = None,
        raw_query: str | None = "",
        replica: KvsReader | None = None,
        no_store: bool = False,
    ) -> InvocationResult:
        """Run the handler on an event built by :func:`edgesim.runtime.event.build_event`.

        ``raw_query`` is what ``request.rawQueryString()`` returns (None: no ``?`` in the URL);
        TestFunction returns ``""``, which is the default here. ``replica`` is the associated
        store as one edge location sees it (``serve`` passes the POP's replica); by default the
        store given at load time. ``no_store`` runs as if no store were associated.
        """
        store = None if no_store else self.kvs if replica is None else replica
        event_type = event["context"]["eventType"]
        now_ms = _epoch_ms(now)
        options = {
            "now": now_ms,
            "seed": int(now_ms) & 0xFFFFFFFF if seed is None else seed & 0xFFFFFFFF,
            "eventType": event_type,
            "edge": (edge or DEFAULT_EDGE) if event_type == VIEWER_REQUEST else {},
            "kvs": None if store is None else {"id": store.store_id},
            "rawQuery": raw_query,
        }
        event_json = orjson.dumps(event).decode()
        raw = self._run(event_json, options, store)
        if raw.state == "memory" and raw.reused:
            # Garbage left by earlier invocations may be what filled the memory: the run is
            # repeated once on a new engine (its logs and time replace the failed attempt's).
            raw = self._run(event_json, options, store)
        try:
            result = self._interpret(event, raw)
        except Exception as exc:  # whatever the function returned, invoke answers
            self._retire()
            result = InvocationResult(event_type=event_type, logs=list(raw.logs), cpu_ns=raw.cpu_ns)
            result.error = FunctionFailure(
                FailureKind.EXECUTION, f"the returned object cannot be serialised: {exc}"
            )
        self._schedule_spare()
        return result

    def _run(self, event_json: str, options: dict[str, Any], store: KvsReader | None) -> RawOutcome:
        session = self._session_for_use()
        try:
            raw = session.invoke(
                event_json,
                options,
                lambda requests: self._resolve_kvs(store, requests),
                self.budget.tick_limit,
            )
        except Exception as exc:  # the engine's trouble never escapes invoke
            raw = RawOutcome(
                state="unserialisable",
                error={"name": type(exc).__name__, "message": str(exc)},
                needs_rebuild=True,
            )
        if raw.needs_rebuild:
            self._retire()
        return raw

    def _compute_ns(self, raw: RawOutcome) -> int:
        """The function's compute cost: its own work plus modelled native crypto time."""
        budget = self.budget
        measured_ms, calls, nbytes = raw.native
        native = calls * budget.native_call_ns + nbytes * budget.native_byte_ns
        if budget.deterministic:
            return int(raw.ticks * budget.tick_cost_ns + native)
        plumbing_ms = raw.plumbing[0]
        return int(max(0.0, raw.cpu_ns - (measured_ms + plumbing_ms) * 1e6) + native)

    def _utilization(self, raw: RawOutcome) -> int:
        used = round(self._compute_ns(raw) * 100 / self.budget.budget_ns)
        if raw.state == "runaway":
            # Stopped at the ceiling: it used at least that much.
            return max(used, round(self.budget.ceiling_factor * 100))
        return used

    def _interpret(self, event: dict[str, Any], raw: RawOutcome) -> InvocationResult:
        event_type = event["context"]["eventType"]
        result = InvocationResult(
            event_type=event_type,
            logs=raw.logs,
            cpu_ns=raw.cpu_ns,
            origin_modifications=origin_modifications(event_type, raw.origin),
            custom_log_data=(
                None if raw.custom_log is None else encode_custom_log_data(raw.custom_log)
            ),
        )
        result.compute_utilization = self._utilization(raw)
        result.over_budget = result.compute_utilization > 100
        if raw.state != "ok":
            result.error = FunctionFailure(
                FailureKind.EXECUTION,
                _execution_message(raw, self.budget),
                position=raw.frames[0].position if raw.frames else None,
                stack=tuple(str(frame) for frame in raw.frames),
            )
            return result
        kind = classify(event_type, raw.value)
        if kind is None:
            wanted = (
                "event.request or a response object"
                if event_type == VIEWER_REQUEST
                else "event.response"
            )
            result.error = FunctionFailure(
                FailureKind.VALIDATION,
                f"the handler returned {raw.value_type}; it must return {wanted}",
            )
            return result
        warnings: list[str] = []
        if kind == ResultKind.REQUEST:
            problems = validate_request(
                raw.value, event["request"], warnings, line_breaks=raw.line_breaks
            )
        else:
            problems = validate_response(
                raw.value, event.get("response"), warnings, line_breaks=raw.line_breaks
            )
        result.kind = kind
        result.output = normalise(kind, raw.value)
        # TestFunction does not check origin modifications: their problems are warnings here.
        result.warnings = warnings + result.origin_problems
        if problems:
            result.error = FunctionFailure(FailureKind.VALIDATION, "; ".join(problems))
        elif result.over_budget:
            result.warnings.append(
                f"compute utilization {result.compute_utilization} is over 100: CloudFront "
                "throttles functions that keep exceeding their budget (FunctionThrottles)"
            )
            if self.budget.fail_over_budget:
                result.error = FunctionFailure(
                    FailureKind.EXECUTION,
                    f"ComputeBudgetExceeded: used {result.compute_utilization}% of the compute "
                    "budget (failing because fail-over-budget is set)",
                )
        return result


def _running_loop() -> asyncio.AbstractEventLoop | None:
    # The loop running in this thread, or None; unlike get_running_loop, no exception to raise
    # and catch when there is none (every invocation without a loop asks).
    return asyncio.events._get_running_loop()


def _tend(ref: weakref.ref[LoadedFunction]) -> None:
    """The loop callback of a function's work ahead (nothing once the function is gone)."""
    fn = ref()
    if fn is not None:
        fn._tend()


def _execution_message(raw: RawOutcome, budget: BudgetPolicy) -> str:
    if raw.state == "runaway":
        return (
            f"InternalError: the function was stopped after {budget.ceiling_ns / 1e6:g} ms of "
            f"compute, {budget.ceiling_factor:g}× its budget (edgesim's runaway limit)"
        )
    if raw.state == "memory":
        return "MemoryError: the function exceeded CloudFront's 2 MB memory limit"
    if raw.state == "unsettled":
        return "Error: the handler's promise never settled"
    error = raw.error or {}
    name, message = error.get("name", ""), error.get("message", "")
    if raw.state == "unserialisable":
        return f"the returned object cannot be serialised: {name}: {message}"
    text = f"{name}: {message}" if name else message
    return njs_wording(text.split("\n    at ")[0].strip())


class CompatibilityError(FunctionLoadError):
    """Strict compatibility refused the function: ``findings`` are the errors, ``position`` the
    first one's ``file:line:col``.

    The message says what relaxes the check in neutral words; callers add how their users do it
    with :meth:`with_hint` (``--compat lenient``, ``compat="lenient"``, …).
    """

    def __init__(self, findings: list[Any], filename: str, hint: str = "") -> None:
        self.findings = findings
        self.filename = filename
        self.hint = hint
        first = findings[0] if findings else None
        self.position = None if first is None else f"{filename}:{first.line}:{first.column}"
        self.stack: tuple[str, ...] = ()
        message = (
            "CloudFront would reject this function (strict compatibility; run it anyway with "
            "lenient compatibility):\n" + "\n".join(f.format(filename) for f in findings)
        )
        super().__init__(message + (f"\n{hint}" if hint else ""))

    def with_hint(self, hint: str) -> CompatibilityError:
        """The same error, its message ending with ``hint`` (how the caller relaxes the check)."""
        return CompatibilityError(self.findings, self.filename, hint)


def _compat_findings(
    source: FunctionSource, runtime: str, compat: str, overrides: dict[str, str] | None
) -> list[Any]:
    from edgesim.runtime import compat as compat_rules

    try:
        findings = compat_rules.check_source(source.text, runtime=runtime, overrides=overrides)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    errors = [f for f in findings if f.severity == "error"]
    if compat == "strict" and errors:
        syntax = [f for f in errors if f.rule == "syntax"]
        if syntax:
            # Worded as the engine words it (lenient mode gets the engine's own error).
            first = syntax[0]
            raise FunctionSyntaxError(
                first.message, filename=source.filename, line=first.line, column=first.column
            )
        raise CompatibilityError(errors, source.filename)
    return findings
