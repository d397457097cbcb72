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

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from edgesim.distribution.model import Distribution
from edgesim.rehearse.dry_pipeline import DryOutcome, Grouped, OriginCall
from edgesim.rehearse.report import Source
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
EXAMPLES_PER_KIND = 3
TOP_DETAILS = 5


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
    by_kind: dict[str, dict[str, Any]] = {}
    details: defaultdict[str, Counter[str]] = defaultdict(Counter)
    changed_at: Counter[str] = Counter()
    errors_at: Counter[str] = Counter()
    changed = new_errors = 0
    for index, (before, after) in enumerate(zip(run.before, run.after, strict=True)):
        kinds = classify(before, after)
        if not kinds:
            continue
        changed += 1
        changed_at[run.pops[index]] += 1
        if any(kind == "now_error" for kind, _ in kinds):
            new_errors += 1
            errors_at[run.pops[index]] += 1
        for kind in dict.fromkeys(kind for kind, _ in kinds):
            entry = by_kind.setdefault(kind, {"count": 0, "examples": []})
            entry["count"] += 1
            detail = "; ".join(d for k, d in kinds if k == kind)
            details[kind][detail] += 1
            if len(entry["examples"]) < EXAMPLES_PER_KIND:
                record = records[index]
                entry["examples"].append({
                    "request": index, "pop": run.pops[index], "time": _iso(record.time_ms),
                    "method": record.method, "target": record.target,
                    "before": before.summary(), "after": after.summary(), "detail": detail,
                })  # fmt: skip
    for kind, entry in by_kind.items():
        entry["top"] = dict(details[kind].most_common(TOP_DETAILS))
    total = len(records)
    requests_at = Counter(run.pops)
    new_side = swap.new_file if swap.new_file is not None else swap.new
    return {
        "traffic": source.path,
        "format": source.format,
        "partial": bool(source.missing_inputs),
        "missing_inputs": source.missing_inputs,
        "warnings": source.warnings + run.pop_notes,
        "total": total,
        "changed": changed,
        "changed_pct": round(100 * changed / total, 2) if total else 0.0,
        "new_errors": new_errors,
        "errors": {
            "current": sum(1 for o in run.before if o.error is not None),
            "proposed": sum(1 for o in run.after if o.error is not None),
        },
        "by_kind": {kind: by_kind[kind] for kind in KINDS if kind in by_kind},
        "by_pop": {
            pop: {
                "requests": requests_at[pop],
                "changed": changed_at[pop],
                "new_errors": errors_at[pop],
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


def _iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


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
    if report["partial"]:
        lines.append("PARTIAL: the traffic lacks inputs the code may read, so decisions made")
        lines.append("on them cannot be seen (a change there is not counted):")
        lines += [f"  - {item}" for item in report["missing_inputs"]]
    lines += [f"warning: {w}" for w in report["warnings"]]
    lines.append(
        f"Changed: {report['changed']:,} of {report['total']:,} ({report['changed_pct']:g}%)"
        f"   new errors: {report['new_errors']:,}"
        f"   (errors: {report['errors']['current']:,} now, {report['errors']['proposed']:,} "
        "proposed)"
    )
    if not report["changed"] and report["total"]:
        lines.append("No change: every request reaches the origin, or is answered, as before.")
    if report["by_kind"]:
        lines.append("By kind:")
    for kind, entry in report["by_kind"].items():
        lines.append(f"  {kind:<24} {entry['count']:>8,}")
        if len(entry["top"]) > 1 or entry["count"] > len(entry["examples"]):
            lines += [f"      {n:>8,} × {detail}" for detail, n in entry["top"].items()]
        lines.append("    for example:")
        for ex in entry["examples"]:
            lines.append(f"      #{ex['request']} {ex['pop']} {ex['method']} {ex['target']}")
            lines.append(f"         {ex['before']}  →  {ex['after']}")
            lines.append(f"         {ex['detail']}")
    lines.append("By POP:")
    lines.append(f"  {'POP':<8} {'requests':>9} {'changed':>8} {'new errors':>10}")
    for pop, e in report["by_pop"].items():
        lines.append(f"  {pop:<8} {e['requests']:>9,} {e['changed']:>8,} {e['new_errors']:>10,}")
    return "\n".join(lines)
