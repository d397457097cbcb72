"""A behaviour's edge function associations: CloudFront Functions and Lambda@Edge, in every
spelling ``edgesim.toml`` accepts, checked against CloudFront's rules.

Spellings (docs/configuration.md):

- ``viewer_request`` / ``viewer_response = "NAME"`` name a ``[[functions]]`` or a ``[[lambdas]]``
  entry (names are unique across both); ``origin_request`` / ``origin_response = "NAME"`` name
  a lambda (CloudFront Functions run on viewer events only);
- the table form ``origin_request = { lambda = "NAME", include_body = true }`` (any event);
- ``function_associations = [{ event_type, function }]`` (``FunctionAssociations``) and
  ``lambda_function_associations = [{ event_type, lambda, include_body }]``
  (``LambdaFunctionAssociations``).

Rules ("Restrictions on all edge functions" → Combining CloudFront Functions with Lambda@Edge):
each event type has at most one edge function association, and CloudFront Functions and
Lambda@Edge cannot be combined on the viewer events of one behaviour (a function on viewer
request excludes a lambda on viewer response too). ``include_body`` is for request events only
(``LambdaFunctionAssociation.IncludeBody``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from edgesim.distribution.lambdas import DeclaredLambdas, LambdaUse
from edgesim.distribution.model import FunctionDecl, LambdaAssociation, LambdaEventType
from edgesim.distribution.tables import MISSING, Table, suggest, table_array, toml_type
from edgesim.lambda_edge import limits

EVENT_TYPES: tuple[LambdaEventType, ...] = (
    "viewer-request",
    "origin-request",
    "origin-response",
    "viewer-response",
)
SHORTHAND_KEYS = tuple(event.replace("-", "_") for event in EVENT_TYPES)
FUNCTION_EVENTS = ("viewer-request", "viewer-response")
FUNCTION_ASSOCIATION_KEYS = ("event_type", "function")
LAMBDA_ASSOCIATION_KEYS = ("event_type", "lambda", "include_body")
TABLE_FORM_KEYS = ("lambda", "include_body")
ASSOCIATION_KEYS = (*SHORTHAND_KEYS, "function_associations", "lambda_function_associations")

Kind = Literal["function", "lambda"]


@dataclass(frozen=True)
class Associations:
    """What a behaviour runs: function names per viewer event, and its lambda associations."""

    viewer_request: str | None = None
    viewer_response: str | None = None
    lambdas: tuple[LambdaAssociation, ...] = ()


@dataclass(frozen=True)
class _Entry:
    event: LambdaEventType
    kind: Kind
    name: str
    where: str
    include_body: bool = False


def read_associations(
    t: Table, functions: Mapping[str, FunctionDecl], declared: DeclaredLambdas
) -> Associations:
    """Every spelling of ``t``'s associations, checked; each lambda use is recorded in
    ``declared.uses`` for the per-event quotas."""
    lambdas = declared.decls
    entries = [
        *_shorthand_entries(t, functions, lambdas),
        *_function_entries(t, functions),
        *_lambda_entries(t, lambdas),
    ]
    chosen: dict[str, _Entry] = {}
    for entry in entries:
        first = chosen.get(entry.event)
        if first is None:
            chosen[entry.event] = entry
            continue
        t.problems.add(
            entry.where,
            f"a second {entry.event} {entry.kind}; a behaviour has at most one edge function "
            f"per event type (the first is the {first.kind} {first.name!r} at {first.where}; "
            "Restrictions on all edge functions)",
        )
    _no_mix_on_viewer_events(t, list(chosen.values()))
    picked = [chosen[event] for event in EVENT_TYPES if event in chosen]
    for entry in picked:
        if entry.kind == "lambda":
            declared.uses.append(LambdaUse(entry.name, entry.event, entry.where))
    return Associations(
        viewer_request=_function_at(chosen, "viewer-request"),
        viewer_response=_function_at(chosen, "viewer-response"),
        lambdas=tuple(
            LambdaAssociation(e.event, e.name, e.include_body) for e in picked if e.kind == "lambda"
        ),
    )


def _function_at(chosen: Mapping[str, _Entry], event: str) -> str | None:
    entry = chosen.get(event)
    return entry.name if entry is not None and entry.kind == "function" else None


def _no_mix_on_viewer_events(t: Table, entries: list[_Entry]) -> None:
    viewer = [e for e in entries if e.event in limits.VIEWER_EVENTS]
    functions = [e for e in viewer if e.kind == "function"]
    if not functions:
        return
    f = functions[0]
    for entry in viewer:
        if entry.kind == "lambda":
            t.problems.add(
                entry.where,
                f"lambda {entry.name!r} on {entry.event} and function {f.name!r} on {f.event} "
                f"({f.where}): CloudFront Functions and Lambda@Edge cannot be combined on the "
                "viewer events of one behaviour (Restrictions on all edge functions)",
            )


# --------------------------------------------------------------------------------------------
# The spellings
# --------------------------------------------------------------------------------------------


def _shorthand_entries(
    t: Table, functions: Mapping[str, FunctionDecl], lambdas: Mapping[str, object]
) -> list[_Entry]:
    entries = []
    for event, key in zip(EVENT_TYPES, SHORTHAND_KEYS, strict=True):
        value = t.raw(key)
        if value is MISSING:
            continue
        if isinstance(value, dict):
            entry = _table_form(t, key, event, value, functions, lambdas)
        elif isinstance(value, str) and value.strip():
            entry = _named(t, key, event, value, functions, lambdas)
        else:
            entry = None
            _wrong_shorthand(t, key, event, value)
        if entry is not None:
            entries.append(entry)
    return entries


def _wrong_shorthand(t: Table, key: str, event: str, value: object) -> None:
    if isinstance(value, str):
        t.error(key, "must not be empty")
        return
    what = "a function or lambda name" if event in FUNCTION_EVENTS else "a lambda name"
    form = "{ lambda = NAME, include_body = BOOL }"
    t.error(key, f"expected {what} or {form}, got {toml_type(value)} {value!r}")


def _named(
    t: Table,
    key: str,
    event: LambdaEventType,
    name: str,
    functions: Mapping[str, FunctionDecl],
    lambdas: Mapping[str, object],
) -> _Entry | None:
    """``viewer_request = "NAME"``: a function or a lambda (viewer events), a lambda (origin)."""
    where = t.at(key)
    if event in FUNCTION_EVENTS:
        if name in functions:
            return _Entry(event, "function", name, where)
        if name in lambdas:
            return _Entry(event, "lambda", name, where)
        what = "function or lambda" if lambdas else "function"
        t.error(key, f"unknown {what} {name!r}{suggest(name, [*functions, *lambdas])}")
        return None
    if name in lambdas:
        return _Entry(event, "lambda", name, where)
    _unknown_lambda(t, key, name, functions, lambdas, event)
    return None


def _table_form(
    t: Table,
    key: str,
    event: LambdaEventType,
    data: Mapping[str, Any],
    functions: Mapping[str, FunctionDecl],
    lambdas: Mapping[str, object],
) -> _Entry | None:
    """``origin_request = { lambda = "NAME", include_body = true }``."""
    sub = Table(t.problems, t.at(key), data, TABLE_FORM_KEYS, required=("lambda",))
    name = sub.text("lambda")
    include_body = _include_body(sub, event)
    if name is None:
        return None
    if name not in lambdas:
        _unknown_lambda(sub, "lambda", name, functions, lambdas, event)
        return None
    return _Entry(event, "lambda", name, t.at(key), include_body)


def _function_entries(t: Table, functions: Mapping[str, FunctionDecl]) -> list[_Entry]:
    """``function_associations = [{ event_type, function }]`` (viewer events only)."""
    entries = []
    for where, data in table_array(t.problems, t.data, "function_associations", t.where):
        sub = Table(
            t.problems, where, data, FUNCTION_ASSOCIATION_KEYS, required=FUNCTION_ASSOCIATION_KEYS
        )
        event, name = sub.text("event_type"), sub.text("function")
        if event is not None and event not in FUNCTION_EVENTS:
            # Origin events: lambda_function_associations.
            why = " (origin events are Lambda@Edge only)" if event in EVENT_TYPES else ""
            sub.error("event_type", f"{event!r} is not one of {', '.join(FUNCTION_EVENTS)}{why}")
        elif event is not None and name is not None:
            if name not in functions:
                t.error(
                    "function_associations", f"unknown function {name!r}{suggest(name, functions)}"
                )
            else:
                entries.append(_Entry(_event(event), "function", name, sub.where))
    return entries


def _lambda_entries(t: Table, lambdas: Mapping[str, object]) -> list[_Entry]:
    """``lambda_function_associations = [{ event_type, lambda, include_body }]``."""
    entries = []
    for where, data in table_array(t.problems, t.data, "lambda_function_associations", t.where):
        sub = Table(
            t.problems, where, data, LAMBDA_ASSOCIATION_KEYS, required=("event_type", "lambda")
        )
        event, name = sub.text("event_type"), sub.text("lambda")
        if event is not None and event not in EVENT_TYPES:
            hint = suggest(event, EVENT_TYPES)
            sub.error("event_type", f"{event!r} is not one of {', '.join(EVENT_TYPES)}{hint}")
            continue
        include_body = _include_body(sub, event)
        if event is None or name is None:
            continue
        if name not in lambdas:
            sub.error("lambda", f"unknown lambda {name!r}{suggest(name, lambdas)}")
            continue
        entries.append(_Entry(_event(event), "lambda", name, sub.where, include_body))
    return entries


def _include_body(sub: Table, event: str | None) -> bool:
    include_body = sub.flag("include_body", False)
    if include_body and event in limits.RESPONSE_EVENTS:
        sub.error(
            "include_body",
            f"include_body is for request events only (viewer-request, origin-request), not "
            f"{event} (LambdaFunctionAssociation IncludeBody)",
        )
        return False
    return include_body


def _unknown_lambda(
    t: Table,
    key: str,
    name: str,
    functions: Mapping[str, FunctionDecl],
    lambdas: Mapping[str, object],
    event: str,
) -> None:
    if name in functions:
        if event in FUNCTION_EVENTS:
            fix = f'{event.replace("-", "_")} = "{name}" (a function has no include_body)'
            t.error(key, f"{name!r} is a CloudFront Function, not a lambda: write {fix}")
        else:
            t.error(
                key,
                f"{name!r} is a CloudFront Function; CloudFront Functions run on viewer events "
                f"only ({event} is Lambda@Edge only)",
            )
        return
    t.error(key, f"unknown lambda {name!r}{suggest(name, lambdas)}")


def _event(name: str) -> LambdaEventType:
    for event in EVENT_TYPES:
        if event == name:
            return event
    raise ValueError(name)  # callers checked name is one of EVENT_TYPES
