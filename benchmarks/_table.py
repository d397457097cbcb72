"""Issue 12's table for benchmarks/serve.py: one row per target with medians over the rounds,
ratios against the bare proxy and the issue's targets (each with ✓ or ✗)."""

from __future__ import annotations

import http.client
import statistics
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from _procs import Server


@dataclass
class Target:
    name: str
    url: str  # what the load generator asks for
    server: Server | None  # whose process tree's CPU counts
    check: Callable[[http.client.HTTPResponse], str | None]  # a problem with the answer, or None
    goals: str = ""  # issue 12's targets that apply: "ab", "plain", "workers:ab|plain", ""
    optional: bool = False  # a row that may be missing or wrong without stopping the run
    # Started before and stopped after each of this row's runs (e.g. an inspector client).
    during: Callable[[], AbstractContextManager[object]] | None = None
    rates: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    c1: list[tuple[float, float]] = field(default_factory=list)  # (p50, p99) ms per round
    errors: int = 0


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def added(target: Target, origin_c1: list[tuple[float, float]]) -> tuple[float, float]:
    """Median over the rounds of the target's c=1 p50/p99 minus the origin direct's."""
    p50 = [t[0] - o[0] for t, o in zip(target.c1, origin_c1, strict=True)]
    p99 = [t[1] - o[1] for t, o in zip(target.c1, origin_c1, strict=True)]
    return median(p50), median(p99)


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def goals(
    target: Target, bare: Target, miniflare: Target | None, lat: float, bare_lat: float
) -> str:
    """Issue 12's targets that apply to this row, each with ✓ or ✗."""
    if not target.goals:
        return ""
    if target.goals.startswith(("workers:", "capture:")):
        return ""  # see workers_goals, and serve.py's inspector capture line
    rate = ratio(median(target.rates), median(bare.rates))
    cpu = median(target.cpu_us)
    if target.goals == "ab":
        parts = [
            f"req/s ≥ 50%: {rate:.0%} {mark(rate >= 0.5)}",
            f"CPU ≤ 450 µs: {mark(cpu <= 450)}",
        ]
        if miniflare is not None and miniflare.rates:
            vs = ratio(median(target.rates), median(miniflare.rates))
            parts.append(f"≥ 2× miniflare: {vs:.1f}× {mark(vs >= 2)}")
        else:
            parts.append("≥ 2× miniflare: n/a")
    else:
        parts = [
            f"req/s ≥ 80%: {rate:.0%} {mark(rate >= 0.8)}",
            f"CPU ≤ 280 µs: {mark(cpu <= 280)}",
        ]
    latency = lat / bare_lat if bare_lat > 0 else float("inf")
    parts.append(f"c=1 p99 ≤ 2×: {mark(latency <= 2)}")
    return "; ".join(parts)


def ratio(value: float, base: float) -> float:
    """``value / base``; NaN (printed "nan", failing every bound) when ``base`` is 0: a short
    run can finish within one clock tick of /proc's CPU counters."""
    return value / base if base > 0 else float("nan")


def table(targets: list[Target], missing: dict[str, str], origin: Target) -> list[str]:
    bare = targets[0]
    miniflare = next((t for t in targets if t.name.startswith("miniflare")), None)
    bare_p99 = added(bare, origin.c1)[1]
    lines = [
        "| target | req/s | CPU µs/request | c=1 added latency p50 / p99 "
        "| req/s vs bare | CPU vs bare | c=1 p99 vs bare | issue 12's targets |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for target in targets:
        if target.name in missing:
            lines.append(f"| {target.name} | {missing[target.name]} | | | | | | |")
            continue
        rate, cpu = median(target.rates), median(target.cpu_us)
        p50, p99 = added(target, origin.c1)
        flag = f" ({target.errors} errors!)" if target.errors else ""
        lines.append(
            f"| {target.name}{flag} | {rate:,.0f} | {cpu:,.0f} | {p50:.2f} / {p99:.2f} ms "
            f"| {ratio(rate, median(bare.rates)):.2f} | {ratio(cpu, median(bare.cpu_us)):.2f} "
            f"| {ratio(p99, bare_p99):.2f} "
            f"| {goals(target, bare, miniflare, p99, bare_p99) or workers_goals(target, targets)} |"
        )
    return lines


def workers_goals(target: Target, targets: list[Target]) -> str:
    """A ``serve --workers N`` row against the same row with one worker (issue 12: req/s ≥ 1.3×,
    CPU µs/request ≤ 1.1×)."""
    if not target.goals.startswith("workers:"):
        return ""
    kind = target.goals.split(":", 1)[1]
    one = next((t for t in targets if t.goals == kind and t.rates), None)
    if one is None:
        return ""
    rate = ratio(median(target.rates), median(one.rates))
    cpu = ratio(median(target.cpu_us), median(one.cpu_us))
    return (
        f"vs one worker: req/s ≥ 1.3×: {rate:.2f}× {mark(rate >= 1.3)}; "
        f"CPU ≤ 1.1×: {cpu:.2f}× {mark(cpu <= 1.1)}"
    )


def spread(targets: list[Target], missing: dict[str, str]) -> list[str]:
    """Each row's lowest and highest figure over the rounds: how much to trust the medians."""
    lines = ["spread over the rounds (min–max):"]
    for target in targets:
        if target.name in missing or len(target.rates) < 2:
            continue
        p99 = [c[1] for c in target.c1]
        lines.append(
            f"  {target.name}: req/s {min(target.rates):,.0f}–{max(target.rates):,.0f}, "
            f"CPU µs/request {min(target.cpu_us):,.0f}–{max(target.cpu_us):,.0f}, "
            f"c=1 p99 {min(p99):.2f}–{max(p99):.2f} ms"
        )
    return lines if len(lines) > 1 else []
