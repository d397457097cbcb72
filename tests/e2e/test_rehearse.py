"""Record traffic through a real ``serve``, then rehearse a change on it: an A/B rollout raised
from 30% to 100% and a rewrite rule changed. The counted changes match an independent
computation, and the rehearsal's view of the current version agrees with what the origin saw."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from edgesim.devloop.recorder import TrafficRecorder
from edgesim.rehearse.traffic import read_traffic
from edgesim.testing import rehearse
from tests.e2e.conftest import StartEdge

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[kvs]]
name = "experiments"
data = "ab_30.json"

[[kvs]]
name = "rewrites"
data = "rewrites.json"

[[functions]]
name = "ab-test"
file = "ab_cohort.js"
kvs = "experiments"

[[functions]]
name = "rewrites"
file = "rewrite_table.js"
kvs = "rewrites"

[[behaviors]]
path = "/checkout*"
origin = "app"
viewer_request = "ab-test"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"

[default_behavior]
origin = "app"
viewer_request = "rewrites"
cache_policy = "CachingDisabled"

[edges]
pops = ["IAD", "FRA"]
propagation = { model = "fixed", lag_ms = 0 }
"""


def _bucket(uid: str) -> int:
    return int(hashlib.sha256(uid.encode()).hexdigest()[:8], 16) % 100


async def test_recorded_traffic_rehearses_a_rollout_and_a_rule_change(
    start_edge: StartEdge, tmp_path: Path
) -> None:
    fixtures = ROOT / "fixtures" / "rehearse"
    files = {
        "ab_cohort.js": (ROOT / "functions" / "ab_cohort.js").read_text(),
        "rewrite_table.js": (ROOT / "functions" / "rewrite_table.js").read_text(),
        "ab_30.json": (fixtures / "ab_30.json").read_text(),
        "rewrites.json": (ROOT / "fixtures" / "kvs" / "rewrite_table.json").read_text(),
    }
    edge = await start_edge(CONFIG, files=files)
    recording = tmp_path / "traffic.jsonl"
    recorder = TrafficRecorder(recording)
    edge.server.proxy.observers.append(recorder)

    rng = random.Random(3)
    sent = []
    for i in range(80):
        path = rng.choice(["/checkout", "/checkout/pay", "/promo", "/home"])
        uid = f"viewer-{i}"
        pop = rng.choice(["IAD", "FRA"])
        status, _, _ = await edge.get(path, Cookie=f"uid={uid}", **{"X-Edgesim-Pop": pop})
        sent.append((path, uid, pop, status))
    await recorder.aclose()

    recorded = read_traffic(recording)
    assert [(r.uri, r.pop) for r in recorded] == [(p, pop) for p, _, pop, _ in sent]
    assert all(("cookie", f"uid={uid}") in r.headers for r, (_, uid, _, _) in
               zip(recorded, sent, strict=True))  # fmt: skip
    # Function-made redirects have no origin; everything else recorded the origin's 200.
    assert {r.origin.status for r in recorded if r.origin is not None} == {200}
    assert sum(r.origin is None for r in recorded) == sum(p == "/promo" for p, *_ in sent)
    # The origin saw each checkout viewer's current cohort.
    seen = [s["path_qs"] for s in edge.origin.seen if "/checkout" in s["path_qs"]]
    cohorts = [
        ("/b" if _bucket(uid) < 30 else "/a") + path
        for path, uid, _, _ in sent
        if path.startswith("/checkout")
    ]
    assert seen == cohorts

    desired = tmp_path / "rewrites_after.json"
    table = json.loads(files["rewrites.json"])
    for entry in table["data"]:
        if entry["key"] == "rw:/promo":
            entry["value"] = "301 /offers/autumn"
    desired.write_text(json.dumps(table))
    report = rehearse(
        recording,
        edge.config,
        kvs_after={"experiments": fixtures / "ab_100.json", "rewrites": desired},
        jobs=1,
    )
    moved = [uid for path, uid, _, _ in sent if path.startswith("/checkout") and _bucket(uid) >= 30]
    promos = sum(1 for path, *_ in sent if path == "/promo")
    assert report["total"] == 80
    assert report["changed"] == len(moved) + promos
    assert report["by_kind"]["cohort_changed"]["count"] == len(moved)
    assert report["by_kind"]["uri_rewritten"]["count"] == len(moved)
    assert report["by_kind"]["redirect_target_changed"]["count"] == promos
    assert report["by_kind"]["status_changed"]["count"] == promos  # 302 → 301
    assert report["new_errors"] == 0
    assert not report["partial"]
    example = report["by_kind"]["cohort_changed"]["examples"][0]
    assert example["before"].startswith("200 via app GET /a/checkout")
    assert example["after"].startswith("200 via app GET /b/checkout")
