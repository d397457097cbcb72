"""The migration check: the same requests through the distribution as configured and through a
version whose edge code is swapped (``edgesim rehearse --swap lambda:OLD=function:NEW``), the
way teams moving from Lambda@Edge to CloudFront Functions run both for a while.

The proposed version removes OLD's associations and associates NEW where OLD ran: a function
NEW at viewer request in place of a request-side lambda (viewer or origin request), at viewer
response in place of a response-side one; a lambda NEW at the event OLD ran at, or at the
event named after ``@`` (``function:OLD=lambda:NEW@origin-request``). NEW is a declared name, or
a path to a file, declared on the fly with the defaults. Each request is run through both
versions by :mod:`.dry_pipeline` (no cache, no origin call) and the outcomes are compared by
:mod:`.swap_report`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from edgesim.distribution.config import load_config
from edgesim.distribution.model import (
    Behavior,
    Distribution,
    FunctionDecl,
    LambdaAssociation,
    LambdaDecl,
    LambdaEventType,
)
from edgesim.distribution.patterns import select_behavior
from edgesim.errors import InputError
from edgesim.rehearse.accesslog import ACCESS_LOG, LOG_HEADERS
from edgesim.rehearse.dry_pipeline import DryOutcome, DryVersion
from edgesim.rehearse.inputs import unseen_headers
from edgesim.rehearse.report import Source
from edgesim.rehearse.traffic import OriginStub, TrafficRecord

KINDS = ("lambda", "function")
EVENTS: tuple[LambdaEventType, ...] = (
    "viewer-request",
    "origin-request",
    "origin-response",
    "viewer-response",
)
_REQUEST_SIDE = frozenset({"viewer-request", "origin-request"})
_VIEWER_EVENTS = frozenset({"viewer-request", "viewer-response"})
_FUNCTION_FILES = (".js",)
_LAMBDA_FILES = (".js", ".mjs", ".cjs", ".zip")
FLAG = "--swap"


@dataclass(frozen=True)
class Swap:
    """A parsed ``--swap KIND:OLD=KIND:NEW[@EVENT]``."""

    text: str
    old_kind: str
    old: str
    new_kind: str
    new: str  # NEW's name in the proposed distribution
    new_file: Path | None = None  # NEW given as a file: declared on the fly
    event: LambdaEventType | None = None  # where a lambda NEW runs (default: where OLD ran)


@dataclass(frozen=True)
class Move:
    """One association the swap moves: on ``behavior`` (its path pattern), OLD at ``old_event``
    becomes NEW at ``new_event``."""

    behavior: str
    old_event: str
    new_event: str


# -- parsing ------------------------------------------------------------------------------------
def parse_swap(text: str, dist: Distribution) -> Swap:
    """``lambda:OLD=function:NEW`` (or ``function:OLD=lambda:NEW``, ``lambda:OLD=lambda:NEW`` …);
    NEW may be a file. Errors name the flag, the value and what is wrong."""

    def bad(why: str) -> InputError:
        return InputError(f"{FLAG} {text!r}: {why}")

    left, sep, right = text.partition("=")
    if not sep:
        raise bad("expected KIND:OLD=KIND:NEW, e.g. lambda:rewrite=function:rewrite")
    old_kind, old = _side(left, "the old side (before '=')", bad)
    new_kind, new = _side(right, "the new side (after '=')", bad)
    event: LambdaEventType | None = None
    if "@" in new and not Path(new).exists():
        new, _, where = new.rpartition("@")
        if where not in EVENTS:
            raise bad(f"@{where}: not an event (one of {', '.join(EVENTS)})")
        if new_kind != "lambda":
            raise bad("@EVENT is for a lambda NEW: a function NEW runs at the viewer event "
                      "matching the one OLD ran at")  # fmt: skip
        event = where
    declared: dict[str, Any] = dict(dist.lambdas if old_kind == "lambda" else dist.functions)
    if old not in declared:
        raise bad(f"no {old_kind} {old!r} in the distribution (it has: "
                  f"{', '.join(sorted(declared)) or 'none'})")  # fmt: skip
    if not _events_of(dist, old_kind, old):
        raise bad(f"{old_kind} {old!r} is not associated with any behaviour: nothing to swap")
    names: dict[str, Any] = dict(dist.lambdas if new_kind == "lambda" else dist.functions)
    new_file: Path | None = None
    if new not in names:
        path = Path(new)
        suffixes = _LAMBDA_FILES if new_kind == "lambda" else _FUNCTION_FILES
        is_file = path.suffix in suffixes or (new_kind == "lambda" and path.is_dir())
        if not is_file:
            raise bad(f"no {new_kind} {new!r} in the distribution (it has: "
                      f"{', '.join(sorted(names)) or 'none'}), and not a path to a "
                      f"{'/'.join(suffixes)} file")  # fmt: skip
        if not path.exists():
            raise bad(f"{new}: no such file")
        new_file = path
        # Names are unique across functions and lambdas (a behaviour's viewer_request names
        # either kind), so the report never shows one name for two pieces of code.
        new = _free_name(path.stem, {**dist.functions, **dist.lambdas})
    if (old_kind, old) == (new_kind, new):
        raise bad("OLD and NEW are the same: nothing would change")
    return Swap(text, old_kind, old, new_kind, new, new_file, event)


def _side(part: str, where: str, bad: Any) -> tuple[str, str]:
    kind, sep, name = part.partition(":")
    if not sep or not name:
        raise bad(f"{where} must be KIND:NAME, e.g. lambda:rewrite (got {part!r})")
    if kind not in KINDS:
        raise bad(f"{where}: {kind!r} is not lambda or function")
    return kind, name


def _free_name(stem: str, taken: dict[str, Any]) -> str:
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}"
    return name


def _behaviors(dist: Distribution) -> tuple[Behavior, ...]:
    return (*dist.behaviors, dist.default_behavior)


def _events_of(dist: Distribution, kind: str, name: str) -> list[tuple[Behavior, str]]:
    """(behaviour, event) for each association of ``name``."""
    found: list[tuple[Behavior, str]] = []
    for behavior in _behaviors(dist):
        if kind == "lambda":
            found += [(behavior, a.event_type) for a in behavior.lambdas if a.name == name]
        else:
            if behavior.viewer_request == name:
                found.append((behavior, "viewer-request"))
            if behavior.viewer_response == name:
                found.append((behavior, "viewer-response"))
    return found


# -- the proposed distribution ------------------------------------------------------------------
def apply_swap(dist: Distribution, swap: Swap) -> tuple[Distribution, list[Move], list[str]]:
    """The proposed distribution, the associations moved, and warnings (what NEW cannot do
    that OLD did)."""
    moves: list[Move] = []
    warnings: list[str] = []
    replaced: dict[int, Behavior] = {}
    for behavior in _behaviors(dist):
        olds = [e for b, e in _events_of(dist, swap.old_kind, swap.old) if b is behavior]
        if not olds:
            continue
        new_behavior = behavior
        targets: dict[str, str] = {}
        for old_event in olds:
            target = _target_event(swap, old_event)
            if target in targets:
                raise InputError(
                    f"{FLAG} {swap.text!r}: on behaviour {behavior.path!r}, {swap.old_kind} "
                    f"{swap.old!r} runs at {targets[target]} and {old_event}; both would become "
                    f"{swap.new_kind} {swap.new!r} at {target} (not supported yet: swap code "
                    "that runs at one event per behaviour)"
                )
            targets[target] = old_event
            association = behavior.lambda_at(old_event) if swap.old_kind == "lambda" else None
            if association is not None and association.include_body and swap.new_kind != "lambda":
                warnings.append(
                    f"lambda {swap.old} reads the request body on {behavior.path!r}: a "
                    "CloudFront Function cannot (requests whose outcome depends on it change)"
                )
            new_behavior = _without(new_behavior, swap, old_event)
            _check_free(new_behavior, swap, target)
            include_body = association.include_body if association is not None else False
            new_behavior = _with(new_behavior, swap, target, include_body)
            moves.append(Move(behavior.path, old_event, target))
        _check_no_mix(new_behavior, swap)
        replaced[id(behavior)] = new_behavior
    functions = dict(dist.functions)
    lambdas = dict(dist.lambdas)
    if swap.old_kind == "lambda":
        lambdas.pop(swap.old, None)
    else:
        functions.pop(swap.old, None)
    if swap.new_file is not None:
        if swap.new_kind == "function":
            # The single store, if the distribution has one: what a function swapped in for a
            # lambda most likely reads (declare it in [[functions]] to choose).
            kvs = next(iter(dist.kvs)) if len(dist.kvs) == 1 else None
            functions[swap.new] = FunctionDecl(swap.new, swap.new_file, kvs=kvs)
        else:
            lambdas[swap.new] = LambdaDecl(swap.new, swap.new_file)
    proposed = dataclasses.replace(
        dist,
        behaviors=tuple(replaced.get(id(b), b) for b in dist.behaviors),
        default_behavior=replaced.get(id(dist.default_behavior), dist.default_behavior),
        functions=functions,
        lambdas=lambdas,
    )
    return proposed, moves, warnings


def _target_event(swap: Swap, old_event: str) -> str:
    if swap.new_kind == "function":
        return "viewer-request" if old_event in _REQUEST_SIDE else "viewer-response"
    return swap.event or old_event


def _without(behavior: Behavior, swap: Swap, event: str) -> Behavior:
    if swap.old_kind == "lambda":
        kept = tuple(a for a in behavior.lambdas if a.event_type != event)
        return dataclasses.replace(behavior, lambdas=kept)
    if event == "viewer-request":
        return dataclasses.replace(behavior, viewer_request=None)
    return dataclasses.replace(behavior, viewer_response=None)


def _check_free(behavior: Behavior, swap: Swap, event: str) -> None:
    """CloudFront allows one lambda per event, and on a viewer event either a function or a
    lambda ("Restrictions on Lambda@Edge", associations)."""
    where = f"{FLAG} {swap.text!r}: on behaviour {behavior.path!r}"
    function = (
        behavior.viewer_request if event == "viewer-request"
        else behavior.viewer_response if event == "viewer-response" else None
    )  # fmt: skip
    association = behavior.lambda_at(event)
    if association is not None:
        raise InputError(
            f"{where}, lambda {association.name!r} already runs at {event}: a behaviour has one "
            f"function or lambda per event (move or remove it first)"
        )
    if function is not None:
        raise InputError(
            f"{where}, function {function!r} already runs at {event}: a behaviour has one "
            f"function or lambda per viewer event (move or remove it first)"
        )


def _check_no_mix(behavior: Behavior, swap: Swap) -> None:
    """CloudFront Functions and Lambda@Edge cannot be combined on the viewer events of one
    behaviour ("Restrictions on all edge functions" → Combining CloudFront Functions with
    Lambda@Edge): a function on viewer request excludes a lambda on viewer response too."""
    functions = [
        (event, name)
        for event, name in (("viewer-request", behavior.viewer_request),
                            ("viewer-response", behavior.viewer_response))
        if name
    ]  # fmt: skip
    lambdas = [(a.event_type, a.name) for a in behavior.lambdas if a.event_type in _VIEWER_EVENTS]
    if functions and lambdas:
        (f_event, f_name), (l_event, l_name) = functions[0], lambdas[0]
        raise InputError(
            f"{FLAG} {swap.text!r}: on behaviour {behavior.path!r}, the proposed version would "
            f"run function {f_name!r} on {f_event} and lambda {l_name!r} on {l_event}: CloudFront "
            "Functions and Lambda@Edge cannot be combined on the viewer events of one behaviour "
            "(swapping both in one run is not supported yet)"
        )


def _with(behavior: Behavior, swap: Swap, event: str, include_body: bool) -> Behavior:
    if swap.new_kind == "function":
        if event == "viewer-request":
            return dataclasses.replace(behavior, viewer_request=swap.new)
        return dataclasses.replace(behavior, viewer_response=swap.new)
    body = include_body and event in _REQUEST_SIDE
    association = LambdaAssociation(cast(LambdaEventType, event), swap.new, include_body=body)
    ordered = sorted((*behavior.lambdas, association), key=lambda a: EVENTS.index(a.event_type))
    return dataclasses.replace(behavior, lambdas=tuple(ordered))


# -- running ------------------------------------------------------------------------------------
@dataclass
class SwapRun:
    """Both versions' outcomes of every request (``after`` is ``before`` where the request's
    behaviour has nothing swapped)."""

    before: list[DryOutcome]
    after: list[DryOutcome]
    runs: int
    pops: list[str]
    pop_notes: list[str]


def run_swap(
    current: Distribution,
    proposed: Distribution,
    records: Sequence[TrafficRecord],
    moves: list[Move],
    default_origin: OriginStub,
) -> SwapRun:
    return asyncio.run(_run(current, proposed, records, moves, default_origin))


async def _run(
    current: Distribution,
    proposed: Distribution,
    records: Sequence[TrafficRecord],
    moves: list[Move],
    default_origin: OriginStub,
) -> SwapRun:
    swapped = {m.behavior for m in moves}
    before_version = DryVersion("current", current, default_origin)
    after_version = DryVersion("proposed", proposed, default_origin)
    result = SwapRun([], [], 0, [], [])
    try:
        await before_version.check()
        await after_version.check()
        for index, record in enumerate(records):
            request_id = f"rehearsal-swap-{index}"
            if select_behavior(current, record.uri).path in swapped:
                # Side by side: each version has its own workers, and each still runs the
                # requests one after another (a lambda's module state sees them in order).
                before, after = await asyncio.gather(
                    before_version.run(record, request_id), after_version.run(record, request_id)
                )
                result.runs += 2
            else:
                before = after = await before_version.run(record, request_id)
                result.runs += 1
            result.before.append(before)
            result.after.append(after)
            pop = record.pop
            result.pops.append(before_version.pops.map(pop) if pop else current.edges.pops[0])
        result.pop_notes = sorted(before_version.pops.notes.values())
    finally:
        await before_version.close()
        await after_version.close()
    return result


def _file_of(dist: Distribution, kind: str, name: str) -> Path:
    return dist.lambdas[name].file if kind == "lambda" else dist.functions[name].file


# -- the API ------------------------------------------------------------------------------------
def rehearse_swap(
    config: str | Path,
    swap: str,
    *,
    traffic: str | Path | None = None,
    generate: int | None = None,
    seed: int = 0,
    default_origin_status: int = 200,
) -> dict[str, Any]:
    """Run ``traffic`` (a recording or a CloudFront standard log), or ``generate`` requests drawn
    from edgesim's hypothesis strategies for the distribution's behaviours (``seed`` fixes
    them), through the distribution as configured and with ``swap`` applied
    (``"lambda:OLD=function:NEW"``); returns the report (the shape of ``rehearse``'s: ``total``,
    ``changed``, ``changed_pct``, ``new_errors``, ``by_kind``, ``by_pop``, …).

    It runs its own event loop (the lambdas' workers): from async code, call it in a thread
    (``await asyncio.to_thread(rehearse_swap, …)``)."""
    from edgesim.rehearse import load_traffic
    from edgesim.rehearse.swap_generate import generate_records
    from edgesim.rehearse.swap_report import build_swap_report

    dist = load_config(Path(config))
    parsed = parse_swap(swap, dist)
    proposed, moves, warnings = apply_swap(dist, parsed)
    if (traffic is None) == (generate is None):
        raise InputError("give either --traffic FILE or --generate N (one of them)")
    if not 100 <= default_origin_status <= 599:
        raise InputError(f"--origin-status {default_origin_status}: expected an HTTP status")
    if traffic is not None:
        records, source = load_traffic(traffic, dist.edges.pops)
    else:
        assert generate is not None
        if not 1 <= generate <= 1_000_000:
            raise InputError(f"--generate {generate}: expected a number of requests, 1 to "
                             "1,000,000")  # fmt: skip
        records = generate_records(dist, generate, seed=seed)
        source = Source(f"generated {len(records)} requests (seed {seed})", "generated")
    source.warnings += warnings
    if source.format == ACCESS_LOG:
        files = {f"{parsed.old_kind} {parsed.old}": _file_of(dist, parsed.old_kind, parsed.old),
                 f"{parsed.new_kind} {parsed.new}": _file_of(proposed, parsed.new_kind,
                                                             parsed.new)}  # fmt: skip
        for name, headers in unseen_headers(files, LOG_HEADERS).items():
            source.missing_inputs.append(
                f"{name} reads headers the log lacks: {', '.join(headers)} (its decisions on "
                "them are not rehearsed)"
            )
    run = run_swap(dist, proposed, records, moves, OriginStub(default_origin_status, []))
    made = None if generate is None else (len(records), seed)
    return build_swap_report(source, records, parsed, moves, dist, proposed, run, generated=made)
