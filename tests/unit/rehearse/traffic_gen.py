"""Recorded traffic for the rehearsal tests, and the independent computation of what the
fixture change (A/B rollout 30% → 100%, one rewrite rule changed, one added) must change.

The expectation is computed here from the functions' documented rules (SHA-256 bucket of the
``uid`` cookie; the rewrite table's keys), not by running them."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from edgesim.rehearse.traffic import TrafficRecord

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "fixtures" / "rehearse"
CONFIG = FIXTURES / "edgesim.toml"
AB_AFTER = FIXTURES / "ab_100.json"
REWRITES_AFTER = FIXTURES / "rewrites_after.json"
T0 = 1_764_700_000_000.0
PATHS = ("/checkout", "/checkout/cart", "/promo", "/old-docs", "/old-pricing", "/home")
POPS = ("IAD", "FRA", "NRT")


def records(count: int, *, seed: int = 7, step_ms: float = 100.0) -> list[TrafficRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        headers = [("host", "www.example.com"), ("user-agent", "rehearsal-test")]
        if rng.random() < 0.85:
            headers.append(("cookie", f"uid=user-{rng.randrange(10**9)}; theme=dark"))
        query = "utm=1" if rng.random() < 0.3 else None
        out.append(
            TrafficRecord(
                method="GET",
                uri=rng.choice(PATHS),
                query=query,
                headers=headers,
                ip=f"198.51.100.{rng.randrange(1, 255)}",
                pop=rng.choice(POPS),
                time_ms=T0 + i * step_ms,
            )
        )
    return out


def bucket(uid: str) -> int:
    return int(hashlib.sha256(uid.encode()).hexdigest()[:8], 16) % 100


def uid_of(record: TrafficRecord) -> str | None:
    for name, value in record.headers:
        if name == "cookie":
            for part in value.split(";"):
                key, _, val = part.strip().partition("=")
                if key == "uid":
                    return val
    return None


def expected_kinds(record: TrafficRecord, *, ab: bool = True, rewrites: bool = True) -> set[str]:
    """The kinds of change the fixture change makes to ``record`` (empty: unchanged)."""
    if record.uri.startswith("/checkout"):
        uid = uid_of(record)
        # Before: b for buckets 0-29, a for 30-99; after: b for everyone.
        if ab and uid is not None and bucket(uid) >= 30:
            return {"uri_rewritten", "cohort_changed"}
        return set()
    if rewrites and record.uri == "/promo":
        return {"redirect_target_changed"}
    if rewrites and record.uri == "/old-docs":
        return {"uri_rewritten"}
    return set()
