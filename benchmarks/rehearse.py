"""Rehearsal speed: ``edgesim rehearse`` over 100,000 recorded requests (issue 14's target: under
a minute on a 2-core machine), next to the plain invocation rate of the same functions measured
in the same run.

The distribution is fixtures/rehearse/edgesim.toml (the cookbook's A/B cohort function on
/checkout*, its KVS rewrite table elsewhere, three POPs); the change is the A/B rollout raised
from 30% to 100% plus one rewrite rule changed and one added. The traffic is generated: 40% of
requests on /checkout paths (85% with a uid cookie), the rest on paths with and without rules.

    python benchmarks/rehearse.py [--count 100000] [--jobs N]

Prints the rehearsal's wall time, its CPU time (this process's and its workers' apart), the
machine's load average, the runs it made
(a request whose function and KVS reads are unchanged runs once), and the plain rate: one
process invoking the same functions on the same kind of events, without the pipeline around.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edgesim.rehearse import rehearse  # noqa: E402
from edgesim.rehearse.traffic import TrafficRecord, write_traffic  # noqa: E402
from edgesim.runtime.event import build_event  # noqa: E402
from edgesim.testing import load_function, viewer_request  # noqa: E402

FIXTURES = ROOT / "fixtures" / "rehearse"
CONFIG = FIXTURES / "edgesim.toml"
T0 = 1_764_700_000_000.0
CHECKOUT = ("/checkout", "/checkout/cart", "/checkout/pay")
OTHER = ("/promo", "/old-docs", "/old-pricing", "/home", "/docs/v1/intro", "/about", "/blog")


def traffic(count: int, seed: int = 14) -> list[TrafficRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        uri = rng.choice(CHECKOUT) if rng.random() < 0.4 else rng.choice(OTHER)
        headers = [
            ("host", "www.example.com"),
            ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"),
            ("accept", "text/html"),
            ("accept-language", "en-GB,en;q=0.8"),
        ]
        if rng.random() < 0.85:
            headers.append(("cookie", f"uid=u{rng.randrange(10**9)}; theme=dark"))
        out.append(
            TrafficRecord(
                "GET", uri, "utm_source=x" if rng.random() < 0.2 else None, headers,
                ip=f"198.51.100.{rng.randrange(1, 255)}", pop=rng.choice(("IAD", "FRA", "NRT")),
                time_ms=T0 + i * 10,
            )
        )  # fmt: skip
    return out


def plain_rate(sample: list[TrafficRecord], rounds: int = 3) -> float:
    """Invocations per CPU second of the two functions called directly on events built from
    the sample (no pipeline, no comparison), in this one process."""
    functions = {
        "checkout": load_function(
            ROOT / "functions" / "ab_cohort.js", kvs=FIXTURES / "ab_30.json"
        ),
        "other": load_function(
            ROOT / "functions" / "rewrite_table.js",
            kvs=ROOT / "fixtures" / "kvs" / "rewrite_table.json",
        ),
    }  # fmt: skip
    calls = []
    for record in sample:
        cookies = dict(
            part.strip().split("=", 1)
            for name, value in record.headers
            if name == "cookie"
            for part in value.split(";")
        )
        event = viewer_request(
            uri=record.uri,
            headers={n: v for n, v in record.headers if n != "cookie"},
            cookies=cookies,
        )
        fn = functions["checkout" if record.uri.startswith("/checkout") else "other"]
        calls.append((fn, build_event(dict(event))))
    best = 0.0
    for _ in range(rounds):
        start = time.process_time()
        for fn, event in calls:
            fn.loaded.invoke(event, now=T0)  # the store it was loaded with
        best = max(best, len(calls) / (time.process_time() - start))
    return best


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process and of its (finished) child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=None, help="default: one per CPU")
    args = parser.parse_args()
    records = traffic(args.count)
    rate = plain_rate(records[:2000])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "traffic.jsonl"
        write_traffic(path, records)
        (own0, kids0), wall0 = cpu_seconds(), time.perf_counter()
        report = rehearse(
            path,
            CONFIG,
            kvs_after={
                "experiments": FIXTURES / "ab_100.json",
                "rewrites": FIXTURES / "rewrites_after.json",
            },
            jobs=args.jobs,
        )
        wall = time.perf_counter() - wall0
        own, kids = (now - then for now, then in zip(cpu_seconds(), (own0, kids0), strict=True))
        cpu = own + kids
    runs = report["runs"]
    target = "✓" if wall < 60 else "✗"
    print(f"requests rehearsed     {report['total']:>10,}   changed {report['changed']:,}")
    print(f"rehearsal wall time    {wall:>10.1f} s  ({report['total'] / wall:,.0f} requests/s)"
          f"   target < 60 s {target}")  # fmt: skip
    print(f"rehearsal CPU time     {cpu:>10.1f} s  (this process {own:.1f} s, its workers "
          f"{kids:.1f} s)")  # fmt: skip
    print(f"version runs           {runs:>10,}   ({runs / report['total']:.2f} per request)")
    jobs = args.jobs or os.cpu_count() or 1
    print(f"  on {jobs} worker(s), machine load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs: {kids / jobs:.1f} s of CPU per worker")  # fmt: skip
    print(f"plain invocation rate  {rate:>10,.0f} /CPU-s (one process, same functions)")
    print(f"  → the runs alone     {runs / rate:>10.1f} CPU-s at the plain rate")


if __name__ == "__main__":
    main()
