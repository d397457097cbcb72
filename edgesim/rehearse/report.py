"""The rehearsal's report: one JSON-ready object (``total``, ``changed``, ``new_errors``,
``by_kind``, ``by_pop``, …), its text form, and the CI guards (``--max-changed``,
``--no-new-errors``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from edgesim.rehearse.compare import KINDS, classify
from edgesim.rehearse.engine import Diff, Rehearsal, Result
from edgesim.rehearse.traffic import TrafficRecord
from edgesim.rehearse.window import lag_range_ms

EXAMPLES_PER_KIND = 3
TOP_DETAILS = 5


@dataclass
class Source:
    """Where the traffic came from and what it cannot show."""

    path: str
    format: str  # "edgesim-traffic" | "cloudfront-access-log"
    missing_inputs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Summarised(Protocol):
    """An outcome of one request (the rehearsal's or the migration check's)."""

    def summary(self) -> str: ...


@dataclass
class KindTally:
    """The changed requests counted by kind and by POP, with a few examples and the most common
    details of each kind: what the rehearsal and the migration check report alike."""

    by_kind: dict[str, dict[str, Any]] = field(default_factory=dict)
    details: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    changed_at: Counter[str] = field(default_factory=Counter)
    errors_at: Counter[str] = field(default_factory=Counter)
    changed: int = 0
    new_errors: int = 0

    def add(
        self,
        kinds: list[tuple[str, str]],
        index: int,
        pop: str,
        record: TrafficRecord,
        before: Summarised,
        after: Summarised,
    ) -> None:
        """Counts request ``index`` under each of its ``(kind, detail)`` ([]: unchanged)."""
        if not kinds:
            return
        self.changed += 1
        self.changed_at[pop] += 1
        if any(kind == "now_error" for kind, _ in kinds):
            self.new_errors += 1
            self.errors_at[pop] += 1
        for kind in dict.fromkeys(kind for kind, _ in kinds):
            entry = self.by_kind.setdefault(kind, {"count": 0, "examples": []})
            entry["count"] += 1
            detail = "; ".join(d for k, d in kinds if k == kind)
            self.details[kind][detail] += 1
            if len(entry["examples"]) < EXAMPLES_PER_KIND:
                entry["examples"].append({
                    "request": index, "pop": pop, "time": iso(record.time_ms),
                    "method": record.method, "target": record.target,
                    "before": before.summary(), "after": after.summary(), "detail": detail,
                })  # fmt: skip

    def by_kind_in(self, order: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The kinds seen, in ``order``, each with its most common transitions (e.g. "header
        x-cohort: a → b": which cohorts move)."""
        for kind, entry in self.by_kind.items():
            entry["top"] = dict(self.details[kind].most_common(TOP_DETAILS))
        return {kind: self.by_kind[kind] for kind in order if kind in self.by_kind}

    def summary(self, source: Source, warnings: list[str], total: int) -> dict[str, Any]:
        """The report's first fields: where the traffic came from and how much changed."""
        return {
            "traffic": source.path,
            "format": source.format,
            "partial": bool(source.missing_inputs),
            "missing_inputs": source.missing_inputs,
            "warnings": source.warnings + warnings,
            "total": total,
            "changed": self.changed,
            "changed_pct": round(100 * self.changed / total, 2) if total else 0.0,
            "new_errors": self.new_errors,
        }


def build_report(
    source: Source,
    records: Sequence[TrafficRecord],
    rehearsal: Rehearsal,
    result: Result,
) -> dict[str, Any]:
    plan = rehearsal.plan
    pops = [rehearsal.pops.map(r.pop) if r.pop else rehearsal.dist.edges.pops[0] for r in records]
    tally = KindTally()
    for diff in sorted(result.diffs, key=lambda d: d.index):
        index = diff.index
        kinds = classify(diff.before, diff.after)
        tally.add(kinds, index, pops[index], records[index], diff.before, diff.after)
    total = len(records)
    report: dict[str, Any] = {
        **tally.summary(source, sorted(rehearsal.pops.notes.values()), total),
        "errors": {"current": result.errors_before, "proposed": result.errors_after},
        "by_kind": tally.by_kind_in(KINDS),
        "by_pop": _by_pop(rehearsal, records, pops, result.diffs, tally),
        "proposed": {
            "kvs": {name: _kvs_change(rehearsal, name) for name in plan.kvs_after},
            "functions": {name: str(path) for name, path in plan.function_after.items()},
        },
        "runs": result.runs,
    }
    if plan.write_at_ms is not None:
        report["window"] = {
            "write_at": iso(plan.write_at_ms),
            "all_landed_at": iso(plan.write_at_ms + max(plan.lags_ms.values(), default=0.0)),
            "assumes": "the KVS write first; the function change (if any) published once every "
            "POP has the new data, so POPs that got it run the current code on the new data",
        }
    return report


def _kvs_change(rehearsal: Rehearsal, name: str) -> dict[str, int]:
    old, new = rehearsal.before.data.get(name, {}), rehearsal.after.data.get(name, {})
    return {
        "added": len(new.keys() - old.keys()),
        "removed": len(old.keys() - new.keys()),
        "changed": sum(1 for k in old.keys() & new.keys() if old[k] != new[k]),
    }


def _by_pop(
    rehearsal: Rehearsal,
    records: Sequence[TrafficRecord],
    pops: list[str],
    diffs: list[Diff],
    tally: KindTally,
) -> dict[str, dict[str, Any]]:
    plan = rehearsal.plan
    spec = rehearsal.dist.edges.propagation
    requests = Counter(pops)
    out: dict[str, dict[str, Any]] = {}
    for pop in rehearsal.dist.edges.pops:
        entry: dict[str, Any] = {
            "requests": requests[pop],
            "changed": tally.changed_at[pop],
            "new_errors": tally.errors_at[pop],
        }
        if plan.write_at_ms is not None:
            lag = plan.lags_ms.get(pop, 0.0)
            entry["lag_ms"] = lag
            entry["lag_range_ms"] = list(lag_range_ms(spec, pop))
            entry["new_data_at"] = iso(plan.write_at_ms + lag)
            entry["window"] = {"requests": 0, "old_data": 0, "new_data": 0, "changed_early": 0,
                               "pending": 0, "errors_current_code_new_data": 0,
                               "examples": []}  # fmt: skip
        out[pop] = entry
    if plan.write_at_ms is None:
        return out
    start = plan.write_at_ms
    end = start + max(plan.lags_ms.values(), default=0.0)
    differs = {d.index: d for d in diffs}
    for index, record in enumerate(records):
        if not start <= record.time_ms < end:
            continue
        pop = pops[index]
        window = out[pop]["window"]
        window["requests"] += 1
        landed = record.time_ms >= start + plan.lags_ms.get(pop, 0.0)
        window["new_data" if landed else "old_data"] += 1
        diff = differs.get(index)
        if diff is None:
            continue
        # What the new data does under the current code (the same as the proposed version
        # when only the data changes).
        seen = diff.mixed if rehearsal.mixed is not None else diff.after
        if seen is None or seen == diff.before:
            continue
        if landed:
            # Changed here while POPs that have not got the data still answer the old way.
            window["changed_early"] += 1
            if len(window["examples"]) < EXAMPLES_PER_KIND:
                window["examples"].append(
                    {"request": index, "time": iso(record.time_ms), "target": record.target,
                     "before": diff.before.summary(), "after": seen.summary()}
                )  # fmt: skip
            if seen.error is not None and diff.before.error is None:
                window["errors_current_code_new_data"] += 1
        else:
            window["pending"] += 1  # will change once the data lands here
    return out


def iso(ms: float) -> str:
    """``ms`` since the epoch as an ISO 8601 UTC time, to the millisecond."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


# -- guards -------------------------------------------------------------------------------------
def check_guards(
    report: dict[str, Any], *, max_changed_pct: float | None, no_new_errors: bool
) -> list[str]:
    """One line per failed guard ([] when all hold)."""
    failed = []
    if max_changed_pct is not None and report["changed_pct"] > max_changed_pct:
        failed.append(
            f"--max-changed {max_changed_pct:g}%: {report['changed']} of {report['total']} "
            f"requests changed ({report['changed_pct']:g}%)"
        )
    if no_new_errors and report["new_errors"]:
        failed.append(f"--no-new-errors: {report['new_errors']} requests now fail")
    return failed


# -- text ---------------------------------------------------------------------------------------
def render_text(report: dict[str, Any]) -> str:
    lines = [f"Rehearsal of {report['total']:,} requests from {report['traffic']} "
             f"({report['format']})"]  # fmt: skip
    proposed = report["proposed"]
    for name, change in proposed["kvs"].items():
        lines.append(
            f"  proposed KVS {name}: {change['added']} added, {change['removed']} removed, "
            f"{change['changed']} changed keys"
        )
    for name, path in proposed["functions"].items():
        lines.append(f"  proposed function {name}: {path}")
    lines += render_changes(report, reader="a function")
    lines += render_kinds(report)
    lines += _render_pops(report)
    return "\n".join(lines)


def render_changes(report: dict[str, Any], *, reader: str) -> list[str]:
    """What the traffic cannot show (``reader``: what may read those inputs), the warnings and
    the count of changed requests."""
    lines = []
    if report["partial"]:
        lines.append(f"PARTIAL: the traffic lacks inputs {reader} may read, so decisions made")
        lines.append("on them cannot be seen (a change there is not counted):")
        lines += [f"  - {item}" for item in report["missing_inputs"]]
    lines += [f"warning: {w}" for w in report["warnings"]]
    lines.append(
        f"Changed: {report['changed']:,} of {report['total']:,} ({report['changed_pct']:g}%)"
        f"   new errors: {report['new_errors']:,}"
        f"   (errors: {report['errors']['current']:,} now, {report['errors']['proposed']:,} "
        "proposed)"
    )
    return lines


def render_kinds(report: dict[str, Any]) -> list[str]:
    """The changes by kind: counts, the most common details and a few examples."""
    lines = ["By kind:"] if report["by_kind"] else []
    for kind, entry in report["by_kind"].items():
        lines.append(f"  {kind:<24} {entry['count']:>8,}")
        if len(entry["top"]) > 1 or entry["count"] > len(entry["examples"]):
            lines += [f"      {n:>8,} × {detail}" for detail, n in entry["top"].items()]
        lines.append("    for example:")
        for ex in entry["examples"]:
            lines.append(f"      #{ex['request']} {ex['pop']} {ex['method']} {ex['target']}")
            lines.append(f"         {ex['before']}  →  {ex['after']}")
            lines.append(f"         {ex['detail']}")
    return lines


def render_pop_counts(report: dict[str, Any]) -> list[str]:
    """Requests, changed requests and new errors at each POP, as a table."""
    lines = [f"  {'POP':<8} {'requests':>9} {'changed':>8} {'new errors':>10}"]
    for pop, e in report["by_pop"].items():
        lines.append(f"  {pop:<8} {e['requests']:>9,} {e['changed']:>8,} {e['new_errors']:>10,}")
    return lines


def _render_pops(report: dict[str, Any]) -> list[str]:
    window = report.get("window")
    if window is None:
        return ["By POP (no KVS change: nothing propagates):", *render_pop_counts(report)]
    lines = [
        f"By POP (the KVS write at {window['write_at']}; every POP has it at "
        f"{window['all_landed_at']}):"
    ]
    lines.append(
        f"  {'POP':<8} {'lag':>8} {'requests':>9} {'changed':>8} {'in window':>9} "
        f"{'old data':>8} {'new data':>8} {'changed early':>13} {'pending':>7}"
    )
    for pop, e in report["by_pop"].items():
        w = e["window"]
        lines.append(
            f"  {pop:<8} {e['lag_ms'] / 1000:>7.1f}s {e['requests']:>9,} {e['changed']:>8,} "
            f"{w['requests']:>9,} {w['old_data']:>8,} {w['new_data']:>8,} "
            f"{w['changed_early']:>13,} {w['pending']:>7,}"
        )
        if w["errors_current_code_new_data"]:
            lines.append(
                f"  {'':<8} ! {w['errors_current_code_new_data']:,} requests fail with the "
                "current code on the new data"
            )
    lines.append(
        "  changed early: requests that got the new outcome while other POPs still served the "
        "old one; pending: requests still served the old way because the data had not landed"
    )
    return lines
