"""The migration check's report: what changed between the two versions' outcomes, by kind, in
the shape of the rehearsal's report (so ``check_guards`` and ``--json`` consumers work alike).

A request *changed* when its outcomes differ, except that two failures with the same status are
the same (a lambda's 503 and a function's 503 differ only in CloudFront's page and ``X-Cache``).
Kinds (a request may show several):

``now_error`` / ``no_longer_error``     the proposed version fails (502/503) where the current
                                        one did not / the reverse
``now_generated`` / ``no_longer_generated``  answered by code instead of going to the origin /
                                        the reverse
``status_changed``                      the viewer's status differs
``origin_request_changed``              the request reaching the origin differs; the detail is
                                        the first differing field (origin, method, uri, query,
                                        a header added / removed / changed, cookies, body)
``response_changed``                    the response's headers or generated body differ
``other``                               anything else
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from edgesim.distribution.model import Distribution
from edgesim.rehearse.dry_pipeline import DryOutcome, Grouped, OriginCall
from edgesim.rehearse.report import (
    KindTally,
    Source,
    render_changes,
    render_kinds,
    render_pop_counts,
)
from edgesim.rehearse.swap import Move, Swap, SwapRun
from edgesim.rehearse.traffic import TrafficRecord

KINDS = (
    "now_error",
    "no_longer_error",
    "now_generated",
    "no_longer_generated",
    "status_changed",
    "origin_request_changed",
    "response_changed",
    "other",
)


def same(before: DryOutcome, after: DryOutcome) -> bool:
    if before.error is not None and after.error is not None:
        return before.status == after.status
    return before == after


def classify(before: DryOutcome, after: DryOutcome) -> list[tuple[str, str]]:
    """(kind, detail) for each way ``after`` differs from ``before``; [] when the same."""
    if same(before, after):
        return []
    found: list[tuple[str, str]] = []
    b, a = before, after
    if a.error is not None and b.error is None:
        found.append(("now_error", a.error))
    elif b.error is not None and a.error is None:
        found.append(("no_longer_error", b.error))
    elif a.kind == "generated" and b.kind == "origin":
        found.append(("now_generated", f"{a.status} generated instead of {_call(b.origin_call)}"))
    elif b.kind == "generated" and a.kind == "origin":
        found.append(("no_longer_generated", f"{_call(a.origin_call)} instead of {b.status} "
                      "generated"))  # fmt: skip
    if a.status != b.status:
        found.append(("status_changed", f"{b.status} → {a.status}"))
    if b.origin_call is not None and a.origin_call is not None:
        field = first_difference(b.origin_call, a.origin_call)
        if field is not None:
            found.append(("origin_request_changed", field))
    if a.error is None and b.error is None and a.kind == b.kind:
        field = _response_difference(b, a)
        if field is not None:
            found.append(("response_changed", field))
    return found or [("other", "the outcomes differ in another way")]


def _call(call: OriginCall | None) -> str:
    return "(none)" if call is None else f"{call.method} {call.target} to {call.origin}"


def first_difference(b: OriginCall, a: OriginCall) -> str | None:
    """The first field in which the origin requests differ, as ``field: old → new``."""
    for name in ("origin", "method", "uri", "query"):
        old, new = getattr(b, name), getattr(a, name)
        if old != new:
            return f"{name}: {_show(old)} → {_show(new)}"
    header = _header_difference(b.headers, a.headers)
    if header is not None:
        return header
    if b.cookies != a.cookies:
        return f"cookies: {'; '.join(b.cookies) or '(none)'} → {'; '.join(a.cookies) or '(none)'}"
    if b.body_sha != a.body_sha:
        return "body: the request body differs"
    return None


def _response_difference(b: DryOutcome, a: DryOutcome) -> str | None:
    header = _header_difference(b.headers, a.headers)
    if header is not None:
        return header
    if b.body_sha != a.body_sha:
        return "body: the generated body differs"
    return None


def _header_difference(before: Grouped, after: Grouped) -> str | None:
    b, a = dict(before), dict(after)
    for name in sorted(b.keys() | a.keys()):
        if name not in a:
            return f"header {name} removed (was {', '.join(b[name])})"
        if name not in b:
            return f"header {name} added: {', '.join(a[name])}"
        if b[name] != a[name]:
            return f"header {name}: {', '.join(b[name])} → {', '.join(a[name])}"
    return None


def _show(value: str | None) -> str:
    return "(none)" if value is None else repr(value) if value == "" else value


# -- the report ---------------------------------------------------------------------------------
def build_swap_report(
    source: Source,
    records: Sequence[TrafficRecord],
    swap: Swap,
    moves: list[Move],
    current: Distribution,
    proposed: Distribution,
    run: SwapRun,
    *,
    generated: tuple[int, int] | None = None,
) -> dict[str, Any]:
    tally = KindTally()
    for index, (before, after) in enumerate(zip(run.before, run.after, strict=True)):
        kinds = classify(before, after)
        tally.add(kinds, index, run.pops[index], records[index], before, after)
    total = len(records)
    requests_at = Counter(run.pops)
    new_side = swap.new_file if swap.new_file is not None else swap.new
    return {
        **tally.summary(source, run.pop_notes, total),
        "errors": {
            "current": sum(1 for o in run.before if o.error is not None),
            "proposed": sum(1 for o in run.after if o.error is not None),
        },
        "by_kind": tally.by_kind_in(KINDS),
        "by_pop": {
            pop: {
                "requests": requests_at[pop],
                "changed": tally.changed_at[pop],
                "new_errors": tally.errors_at[pop],
            }
            for pop in current.edges.pops
        },
        "proposed": {
            "kvs": {},
            "functions": {},
            "swap": {
                "old": f"{swap.old_kind}:{swap.old}",
                "new": f"{swap.new_kind}:{new_side}",
                "moves": [
                    {"behavior": m.behavior, "from": m.old_event, "to": m.new_event} for m in moves
                ],
            },
        },
        "generated": None if generated is None else {"count": generated[0], "seed": generated[1]},
        "runs": run.runs,
    }


def render_swap_text(report: dict[str, Any]) -> str:
    swap = report["proposed"]["swap"]
    generated = report["generated"]
    where = (
        f"generated {generated['count']:,} requests (seed {generated['seed']})"
        if generated is not None
        else f"{report['total']:,} requests from {report['traffic']} ({report['format']})"
    )
    lines = [f"Migration check: {swap['old']} → {swap['new']} on {where}"]
    for move in swap["moves"]:
        lines.append(f"  behaviour {move['behavior']}: {move['from']} → {move['to']}")
    lines += render_changes(report, reader="the code")
    if not report["changed"] and report["total"]:
        lines.append("No change: every request reaches the origin, or is answered, as before.")
    lines += render_kinds(report)
    lines.append("By POP:")
    lines += render_pop_counts(report)
    return "\n".join(lines)
