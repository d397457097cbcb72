"""Property helpers for CloudFront Functions: each checks one promise and, when it is broken,
fails with an ``AssertionError`` that says where and how.

* :func:`assert_sticky` — the same viewer gets the same cohort on every request and at every POP;
* :func:`assert_split` — cohorts follow the stated weights (a chi-square goodness-of-fit test);
* :func:`assert_fail_open` — under every KVS fault the request passes through unchanged and
  nothing becomes a 5xx;
* :func:`assert_fail_secure` — under every KVS fault no bypass or auth grant is given;
* :func:`propagation_window` — the moments while a write has reached some POPs but not others.

KVS faults are the reader faults of :data:`~edgesim.testing.FAULTS` plus ``"propagating"``: the
keys under test are being written and the write has landed at some POPs only. The helpers run a
private copy of the function's store with POPs receiving the write in turn, and run the function
at every POP at every step; a POP still without the write is judged as under a fault, a POP that
has it only must not fail (it sees a healthy store).

Each helper runs the function with explicit random seeds, so ``Math.random()`` differs between
runs but a failure replays.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgesim import limits
from edgesim.kvs.propagation import FixedLag, PerPopLag
from edgesim.kvs.reader import StaticKvs
from edgesim.runtime.event import build_event
from edgesim.runtime.function import InvocationResult
from edgesim.testing.changes import describe_changes, short, unchanged
from edgesim.testing.chi_square import chi_square_sf
from edgesim.testing.chi_square import chi_square_sf as _chi_square_sf  # noqa: F401 (tests)
from edgesim.testing.loading import EdgeFunction
from edgesim.testing.stores import FAULTS, ReplicatedKvs

__all__ = [
    "DEFAULT_POPS",
    "KEY_FAULTS",
    "PROPAGATING",
    "PropagationState",
    "assert_fail_open",
    "assert_fail_secure",
    "assert_split",
    "assert_sticky",
    "propagation_window",
    "request_header",
]

DEFAULT_POPS: tuple[str, ...] = ("IAD", "FRA", "NRT")
PROPAGATING = "propagating"
# Faults of a key's value; "not-associated" (no store at all) is about the deployment instead.
KEY_FAULTS: tuple[str, ...] = tuple(f for f in FAULTS if f != "not-associated")
_ALL_FAULTS = frozenset((*FAULTS, PROPAGATING))

Event = Mapping[str, Any]
Now = datetime | float | None


# -- small helpers ----------------------------------------------------------------------------


def request_header(name: str) -> Callable[[InvocationResult], str | None]:
    """A cohort reader: the value of header ``name`` in the returned request (None if absent),
    e.g. ``assert_sticky(fn, event, cohort=request_header("x-cohort"))``."""
    lower = name.lower()

    def read(result: InvocationResult) -> str | None:
        entry = (result.request or {}).get("headers", {}).get(lower)
        return entry.get("value") if isinstance(entry, dict) else None

    return read


def _describe_event(event: Mapping[str, Any]) -> str:
    request = event.get("request", {})
    line = f"{request.get('method', 'GET')} {request.get('uri', '/')}"
    cookies = sorted(request.get("cookies", {}))
    if cookies:
        line += f" (cookies: {', '.join(cookies)})"
    if "response" in event:
        line = f"response {event['response'].get('statusCode')} to {line}"
    return line


def _failure(result: InvocationResult) -> str | None:
    """Why CloudFront would answer this invocation with an error page, or None."""
    if result.error is not None:
        status = 503 if result.error.kind == "execution" else 502
        return (
            f"the function failed ({result.error.kind} error; CloudFront answers {status}): "
            f"{result.error.message}"
        )
    code = (result.response or {}).get("statusCode")
    if isinstance(code, int) and code >= 500:
        return f"the function answered with a {code} response"
    return None


def _call(reader: Callable[..., Any], *args: Any, note: str) -> Any:
    """Call a user callback; if it raises, say which run it was reading."""
    try:
        return reader(*args)
    except Exception as exc:
        exc.add_note(f"edgesim: raised while {note}")
        raise


def _pops_of(fn: EdgeFunction, pops: Sequence[str] | None) -> tuple[str, ...]:
    if pops is not None:
        if isinstance(pops, str) or not pops:
            raise ValueError(f"pops must be a non-empty sequence of POP names, got {pops!r}")
        return tuple(pops)
    return fn.kvs.pops if isinstance(fn.kvs, ReplicatedKvs) else DEFAULT_POPS


def _times(now: Now, count: int) -> list[datetime | float]:
    """``count`` invocation times: ``now`` each time if given, else one second apart from the
    present, so that a cohort drawn from the clock shows up as not sticky."""
    if now is not None:
        return [now] * count
    start_ms = time.time() * 1000.0
    return [start_ms + 1_000.0 * i for i in range(count)]


# -- stickiness -------------------------------------------------------------------------------


def _group(runs: list[tuple[str, object]]) -> list[tuple[object, list[str]]]:
    """Runs grouped by cohort, in first-seen order; works for unhashable cohorts too."""
    groups: list[tuple[object, list[str]]] = []
    for label, value in runs:
        for known, labels in groups:
            if known == value:
                labels.append(label)
                break
        else:
            groups.append((value, [label]))
    return groups


def assert_sticky(
    fn: EdgeFunction,
    event: Event,
    *,
    cohort: Callable[[InvocationResult], object],
    pops: Sequence[str] | None = None,
    repeats: int = 3,
    now: Now = None,
) -> object:
    """Run ``event`` ``repeats`` times at each POP and check that ``cohort(result)`` is always
    the same; return that cohort.

    ``pops`` defaults to the POPs of the function's :class:`~edgesim.testing.ReplicatedKvs`
    (else IAD, FRA, NRT). Every run gets its own random seed and, unless ``now`` is given, its
    own time, so cohorts drawn from ``Math.random()`` or the clock are caught. A run that fails
    is reported as such.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not the helper's insides
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    where = _pops_of(fn, pops)
    times = _times(now, len(where) * repeats)
    runs: list[tuple[str, object]] = []
    for index, (pop, run) in enumerate((p, r) for p in where for r in range(1, repeats + 1)):
        label = f"{pop} run {run}"
        result = fn.run(event, pop=pop, seed=index + 1, now=times[index])
        failure = _failure(result)
        if failure is not None:
            raise AssertionError(f"at {label}: {failure}\nevent: {_describe_event(event)}")
        runs.append((label, _call(cohort, result, note=f"reading the cohort at {label}")))
    groups = _group(runs)
    if len(groups) > 1:
        lines = [f"  {short(value)}: {', '.join(labels)}" for value, labels in groups]
        raise AssertionError(
            f"cohort is not sticky: the same viewer got {len(groups)} different cohorts over "
            f"{len(where)} POP(s) × {repeats} run(s):\n"
            + "\n".join(lines)
            + f"\nevent: {_describe_event(event)}"
        )
    return groups[0][0]


# -- split weights ----------------------------------------------------------------------------


def _split_table(
    weights: Mapping[object, float], expected: Mapping[object, float], counts: Mapping[object, int]
) -> str:
    rows = [("cohort", "weight", "expected", "observed")]
    for name in counts:
        weight = weights.get(name)
        rows.append(
            (
                short(name, 30),
                "-" if weight is None else f"{weight:g}",
                f"{expected.get(name, 0.0):.1f}",
                str(counts[name]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  "
        + row[0].ljust(widths[0])
        + "".join(f"  {c.rjust(w)}" for c, w in zip(row[1:], widths[1:], strict=True))
        for row in rows
    )


def _check_weights(weights: Mapping[object, float], alpha: float) -> None:
    if not weights:
        raise ValueError("weights must name at least one cohort")
    if any(not math.isfinite(w) or w < 0 for w in weights.values()):
        raise ValueError(f"weights must be finite and >= 0, got {dict(weights)!r}")
    if sum(weights.values()) <= 0:
        raise ValueError("weights must not all be zero")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")


def assert_split(
    fn: EdgeFunction,
    events: Iterable[Event],
    *,
    cohort: Callable[[InvocationResult], object],
    weights: Mapping[object, float],
    alpha: float = 1e-4,
    pop: str | None = None,
    now: Now = None,
) -> dict[object, int]:
    """Run every event once, count ``cohort(result)``, and check the counts against ``weights``
    (relative; they need not sum to 1 or 100) with a chi-square goodness-of-fit test at
    significance ``alpha``. Returns the observed counts.

    Use many distinct viewers: the test needs an expected count of at least 5 per cohort, and
    a small ``alpha`` keeps a correct function from failing by chance (1 run in 10,000 at the
    default). A cohort outside ``weights``, or one with weight 0 that shows up, fails at once.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not the helper's insides
    _check_weights(weights, alpha)
    counts: dict[object, int] = dict.fromkeys(weights, 0)
    total = 0
    for index, event in enumerate(events):
        result = fn.run(event, pop=pop, seed=index + 1, now=now)
        failure = _failure(result)
        if failure is not None:
            raise AssertionError(f"event #{index}: {failure}\nevent: {_describe_event(event)}")
        value = _call(cohort, result, note=f"reading the cohort of event #{index}")
        try:
            counts[value] = counts.get(value, 0) + 1
        except TypeError:
            raise TypeError(
                f"cohort() must return a hashable value such as a string; got {value!r} "
                f"for event #{index}"
            ) from None
        total += 1
    if total == 0:
        raise ValueError("assert_split needs at least one event")
    scale = total / sum(weights.values())
    expected = {name: weight * scale for name, weight in weights.items()}
    table = _split_table(weights, expected, counts)
    stray = [n for n, c in counts.items() if c and (n not in weights or weights[n] == 0)]
    if stray:
        raise AssertionError(
            f"cohort(s) {', '.join(short(n) for n in stray)} appeared but the weights give "
            f"them no share, over {total} events:\n{table}"
        )
    _require_enough(expected, total)
    return _chi_square_check(counts, expected, alpha, total, table)


def _require_enough(expected: Mapping[object, float], total: int) -> None:
    small = {name: e for name, e in expected.items() if 0 < e < 5}
    if small:
        name, value = next(iter(small.items()))
        raise ValueError(
            f"expected count of cohort {short(name)} is {value:.1f} with {total} events; the "
            "chi-square test needs at least 5 per cohort: pass more events"
        )


def _chi_square_check(
    counts: dict[object, int],
    expected: Mapping[object, float],
    alpha: float,
    total: int,
    table: str,
) -> dict[object, int]:
    __tracebackhide__ = True  # pytest shows the caller's line, not the helper's insides
    live = [name for name, e in expected.items() if e > 0]
    if len(live) < 2:
        return counts  # one cohort with all the weight: nothing left to test
    statistic = sum((counts[n] - expected[n]) ** 2 / expected[n] for n in live)
    df = len(live) - 1
    p_value = chi_square_sf(statistic, df)
    if p_value < alpha:
        raise AssertionError(
            f"split does not match the weights over {total} events: chi-square = "
            f"{statistic:.2f} with {df} degree(s) of freedom, p = {p_value:.3g} < alpha = "
            f"{alpha:g}\n{table}"
        )
    return counts


# -- propagation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PropagationState:
    """One moment while a write propagates: the POPs that hold it and those still waiting."""

    elapsed: float  # seconds since the write was acknowledged
    landed: tuple[str, ...]
    pending: tuple[str, ...]

    def __str__(self) -> str:
        landed = ", ".join(self.landed) or "no POP"
        return f"{self.elapsed:g} s after the write: landed at {landed}; pending at " + ", ".join(
            self.pending
        )


def propagation_window(
    kvs: ReplicatedKvs,
    puts: Mapping[str, str] | None = None,
    deletes: Sequence[str] = (),
) -> Generator[PropagationState, None, None]:
    """Write ``puts``/``deletes`` (one UpdateKeys, at most 50 keys) to ``kvs`` when the loop
    starts, and yield each moment while the write has reached some POPs but not all, advancing
    the virtual clock in between: first the moment of the write, then after each landing but the
    last. Check a property at every POP inside the loop::

        for state in propagation_window(kvs, puts={"experiment:checkout": new}):
            assert_sticky(fn, event, cohort=request_header("x-cohort"))

    POPs receive a write at different moments only if the lag model says so (``UniformLag``,
    ``PerPopLag``); with a fixed lag the window is the single moment of the write, and with no
    lag it is empty. When the loop ends (or is left early) the store is settled: every POP
    holds the write.
    """
    kvs.update(dict(puts or {}), list(deletes))
    try:
        statuses = kvs.service.propagation_status(kvs.name)
        target = max((v for s in statuses for v, _ in s.pending), default=None)
        if target is None:
            return  # landed everywhere at once: no window
        start = kvs.clock.monotonic()
        landings = sorted({wait for s in statuses for v, wait in s.pending if v == target})
        yield _state(kvs, target, 0.0)
        for wait in landings[:-1]:
            kvs.advance(max(0.0, start + wait - kvs.clock.monotonic()) + 1e-6)
            yield _state(kvs, target, wait)
    finally:
        kvs.settle()


def _state(kvs: ReplicatedKvs, target: int, elapsed: float) -> PropagationState:
    holds = {pop: kvs.service.replica_of(kvs.name, pop).version >= target for pop in kvs.pops}
    return PropagationState(
        elapsed=elapsed,
        landed=tuple(p for p in kvs.pops if holds[p]),
        pending=tuple(p for p in kvs.pops if not holds[p]),
    )


# -- KVS faults -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FaultRun:
    fault: str
    where: str  # "" for a reader fault; the POP and moment for "propagating"
    result: InvocationResult
    faulty: bool  # False: the POP holds the healthy value, so only "must not fail" applies

    @property
    def label(self) -> str:
        return f"{self.fault} ({self.where})" if self.where else self.fault


def _fault_list(faults: Iterable[str]) -> list[str]:
    chosen = list(faults)
    unknown = [f for f in chosen if f not in _ALL_FAULTS]
    if unknown:
        raise ValueError(
            f"unknown fault {unknown[0]!r}; expected one of {', '.join(FAULTS)}, {PROPAGATING}"
        )
    if not chosen:
        raise ValueError("faults must name at least one fault")
    return chosen


def _key_set(keys: Iterable[str] | str) -> frozenset[str]:
    # A lone string is one key, not a set of characters.
    return frozenset({keys}) if isinstance(keys, str) else frozenset(keys)


def _store_items(fn: EdgeFunction, keys: frozenset[str]) -> dict[str, str]:
    store = fn.kvs
    if isinstance(store, ReplicatedKvs):
        return store.items()
    if isinstance(store, StaticKvs):
        return dict(store.items)
    if store is None:
        return {}
    # Another reader cannot list its keys: copy the keys under test only.
    return {k: v for k in keys if (v := store.get(k)) is not None}


def _propagating_runs(
    fn: EdgeFunction, event: Event, keys: frozenset[str], now: Now
) -> Iterator[_FaultRun]:
    """Runs at every POP while a write of the keys under test propagates to a private copy of
    the function's store, each POP receiving it one second after the one before."""
    items = _store_items(fn, keys)
    written = {k: v for k, v in items.items() if not keys or k in keys}
    if not written:
        raise ValueError(
            "the 'propagating' fault writes the keys under test, but the function's store holds "
            f"none of them (keys: {sorted(keys) or 'all'}); load the function with a store that "
            "has them"
        )
    if len(written) > limits.KVS_MAX_BATCH_OPERATIONS:
        raise ValueError(
            f"the 'propagating' fault writes {len(written)} keys, more than one UpdateKeys "
            f"allows ({limits.KVS_MAX_BATCH_OPERATIONS}); name the keys under test with keys="
        )
    pops = _pops_of(fn, None)
    staggered = PerPopLag({pop: float(i + 1) for i, pop in enumerate(pops)}, FixedLag(0.0))
    before = {k: v for k, v in items.items() if k not in written}
    with ReplicatedKvs(before, pops=pops, lag=staggered) as copy:
        for state in propagation_window(copy, puts=written):
            for pop in pops:
                result = fn.run(event, pop=pop, kvs=copy.replica(pop), seed=1, now=now)
                has = pop in state.landed
                where = f"at {pop}, which {'has' if has else 'lacks'} the write; {state}"
                yield _FaultRun(PROPAGATING, where, result, faulty=not has)


def _fault_runs(
    fn: EdgeFunction, event: Event, faults: list[str], keys: frozenset[str], now: Now
) -> Iterator[_FaultRun]:
    for fault in faults:
        if fault == PROPAGATING:
            yield from _propagating_runs(fn, event, keys, now)
        else:
            result = fn.run(event, kvs=fn.with_fault(fault, keys=keys), seed=1, now=now)
            yield _FaultRun(fault, "", result, faulty=True)


def _violation_report(
    title: str, runs: int, problems: list[str], keys: frozenset[str], event: Event
) -> str:
    keyed = ", ".join(repr(k) for k in sorted(keys)) if keys else "all keys"
    lines = "\n".join(f"  {p}" for p in problems)
    return (
        f"{title} under {len(problems)} of {runs} KVS fault run(s) (keys: {keyed}):\n{lines}"
        f"\nevent: {_describe_event(event)}"
    )


def assert_fail_open(
    fn: EdgeFunction,
    event: Event,
    *,
    faults: Iterable[str] = FAULTS,
    keys: Iterable[str] | str = frozenset(),
    pass_through: Callable[[dict[str, Any], InvocationResult], bool] | None = None,
    now: Now = None,
) -> None:
    """Under each fault in ``faults`` (for ``keys``; empty: every key) the function must not
    fail, must not answer with a 5xx, and must pass the request through unchanged (uri, query
    string, headers, cookies; for a viewer-response event the response's status, headers and
    cookies). ``pass_through(event, result)`` replaces that last check.

    Every failing fault is listed in the message, with what changed.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not the helper's insides
    key_set = _key_set(keys)
    event_clean = build_event(dict(event))
    problems: list[str] = []
    runs = 0
    for run in _fault_runs(fn, event, _fault_list(faults), key_set, now):
        runs += 1
        failure = _failure(run.result)
        if failure is not None:
            problems.append(f"{run.label}: {failure}")
        elif run.faulty and not _passes(pass_through, event_clean, run):
            changes = describe_changes(event_clean, run.result)
            detail = "; ".join(changes) if pass_through is None else "pass_through returned False"
            problems.append(f"{run.label}: the request did not pass through: {detail}")
    if problems:
        raise AssertionError(
            _violation_report("fail-open violated", runs, problems, key_set, event)
        )


def _passes(
    pass_through: Callable[[dict[str, Any], InvocationResult], bool] | None,
    event: dict[str, Any],
    run: _FaultRun,
) -> bool:
    if pass_through is None:
        return unchanged(event, run.result)
    return bool(_call(pass_through, event, run.result, note=f"checking fault {run.label}"))


def assert_fail_secure(
    fn: EdgeFunction,
    event: Event,
    *,
    granted: Callable[[InvocationResult], bool],
    faults: Iterable[str] = FAULTS,
    keys: Iterable[str] | str = frozenset(),
    now: Now = None,
) -> None:
    """Under each fault in ``faults`` (for ``keys``; empty: every key) ``granted(result)`` must be
    false: no bypass, no auth header, no access when the store cannot be read. A run that fails
    counts as not granted (CloudFront answers with an error page).

    For ``"propagating"``, POPs that already hold the write see a healthy store and are not
    judged. Every fault that granted is listed in the message, with what changed.
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not the helper's insides
    key_set = _key_set(keys)
    event_clean = build_event(dict(event))
    problems: list[str] = []
    runs = 0
    for run in _fault_runs(fn, event, _fault_list(faults), key_set, now):
        runs += 1
        if not run.faulty or run.result.error is not None:
            continue
        if _call(granted, run.result, note=f"checking fault {run.label}"):
            changes = "; ".join(describe_changes(event_clean, run.result)) or "no visible change"
            problems.append(f"{run.label}: granted ({changes})")
    if problems:
        raise AssertionError(
            _violation_report(
                "fail-secure violated: access granted", runs, problems, key_set, event
            )
        )
