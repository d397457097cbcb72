"""A request runs once when its function is unchanged and every KVS value it read is the same in
the proposed data; the shortcut never hides a change (a meta() call always runs both)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from edgesim.rehearse import rehearse
from edgesim.rehearse.traffic import TrafficRecord, write_traffic

READS_K = """
import cf from 'cloudfront';
async function handler(event) {
  const kvs = cf.kvs();
  let v = 'none';
  try { v = await kvs.get('k'); } catch (e) {}
  event.request.headers['x-k'] = { value: v };
  MORE
  return event.request;
}
"""


def _setup(tmp_path: Path, more: str = "") -> tuple[Path, Path]:
    (tmp_path / "f.js").write_text(READS_K.replace("MORE", more))
    (tmp_path / "data.json").write_text(
        json.dumps({"data": [{"key": "k", "value": "1"}, {"key": "j", "value": "1"}]})
    )
    (tmp_path / "edgesim.toml").write_text(
        textwrap.dedent(
            """
            [[origins]]
            id = "app"
            url = "http://127.0.0.1:9"
            [[kvs]]
            name = "s"
            data = "data.json"
            [[functions]]
            name = "f"
            file = "f.js"
            kvs = "s"
            [default_behavior]
            origin = "app"
            viewer_request = "f"
            """
        )
    )
    traffic = tmp_path / "t.jsonl"
    write_traffic(traffic, [TrafficRecord("GET", f"/{i}", None, [], pop="IAD") for i in range(20)])
    return tmp_path / "edgesim.toml", traffic


def _desired(tmp_path: Path, **items: str) -> Path:
    path = tmp_path / "desired.json"
    path.write_text(json.dumps({"data": [{"key": k, "value": v} for k, v in items.items()]}))
    return path


def test_a_key_the_function_does_not_read_changes_nothing_and_runs_once(tmp_path: Path) -> None:
    config, traffic = _setup(tmp_path)
    report = rehearse(traffic, config, kvs_after=str(_desired(tmp_path, k="1", j="2")), jobs=1)
    assert (report["changed"], report["runs"]) == (0, 20)


def test_a_key_the_function_reads_runs_twice_and_changes(tmp_path: Path) -> None:
    config, traffic = _setup(tmp_path)
    report = rehearse(traffic, config, kvs_after=str(_desired(tmp_path, k="2", j="1")), jobs=1)
    assert (report["changed"], report["runs"]) == (20, 40)
    assert report["by_kind"]["cohort_changed"]["top"] == {"header x-k: 1 → 2": 20}


def test_a_meta_call_always_runs_both_versions(tmp_path: Path) -> None:
    more = (
        "const meta = await kvs.meta();\n"
        "  event.request.headers['x-n'] = { value: String(meta.keyCount) };"
    )
    config, traffic = _setup(tmp_path, more)
    # k is read and unchanged; one key more only shows in meta().keyCount.
    report = rehearse(
        traffic, config, kvs_after=str(_desired(tmp_path, k="1", j="1", extra="x")), jobs=1
    )
    assert (report["changed"], report["runs"]) == (20, 40)
    assert report["by_kind"]["cohort_changed"]["top"] == {"header x-n: 2 → 3": 20}


def test_headers_a_viewer_cannot_send_are_dropped_as_on_arrival(tmp_path: Path) -> None:
    more = (
        "if (event.request.headers['cloudfront-viewer-country']) "
        "{ event.request.headers['x-k'].value += ' spoofed'; }"
    )
    config, _ = _setup(tmp_path, more)
    traffic = tmp_path / "spoofed.jsonl"
    spoofed = [("cloudfront-viewer-country", "FR"), ("x-edgesim-pop", "NRT")]
    write_traffic(traffic, [TrafficRecord("GET", "/", None, spoofed, pop="IAD")])
    report = rehearse(traffic, config, kvs_after=str(_desired(tmp_path, k="2")), jobs=1)
    assert report["by_kind"]["cohort_changed"]["top"] == {"header x-k: 1 → 2": 1}
