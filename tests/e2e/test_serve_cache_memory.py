"""serve keeps its cache within ``[cache] memory_limit_mb`` counting each entry's real cost, and
shows entries and bytes per POP in /status and /metrics (issue 17 part 4)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from edgesim.cli import main
from edgesim.distribution.config import load_config
from tests.e2e.conftest import BASIC, Edge, StartEdge

MiB = 1_048_576

CONFIG = (
    BASIC
    + """
[edges]
pops = ["IAD", "NRT"]
propagation = { model = "fixed", lag_ms = 0 }

[cache]
memory_limit_mb = 1
"""
)


async def fetch_unique(edge: Edge, count: int, pop: str, start: int = 0) -> list[str]:
    """GET ``count`` distinct URLs through ``pop``, 16 at a time; their X-Cache values."""
    results: list[str] = []
    for first in range(start, start + count, 16):
        batch = range(first, min(first + 16, start + count))
        replies = await asyncio.gather(
            *(edge.get(f"/u/{i}", **{"x-edgesim-pop": pop}) for i in batch)
        )
        for status, headers, _ in replies:
            assert status == 200
            results.append(headers["x-cache"])
    return results


async def status(edge: Edge) -> dict[str, Any]:
    async with edge.session.get(edge.admin + "/status") as reply:
        doc: dict[str, Any] = await reply.json()
        return doc["cache"]


async def metrics(edge: Edge) -> dict[str, float]:
    async with edge.session.get(edge.admin + "/metrics") as reply:
        text = await reply.text()
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(r"(edgesim_cache_\w+(?:\{[^}]*\})?) (\S+)", line)
        if match:
            found[match[1]] = float(match[2])
    return found


async def test_many_small_objects_stay_within_the_memory_limit(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG)
    edge.origin.body = b"small"
    await fetch_unique(edge, 800, "IAD")
    await fetch_unique(edge, 800, "NRT")
    cache = await status(edge)
    assert cache["memory_limit_bytes"] == MiB
    # Counting bodies only, 1,600 bodies of 5 bytes would all fit in 1 MiB (8 KB of bodies).
    assert cache["memory_used_bytes"] <= MiB
    assert cache["evictions"] > 0
    assert 0 < cache["entries"] < 1_600
    assert cache["memory_used_bytes"] > MiB * 0.9  # full, not emptied
    pops = cache["pops"]
    assert set(pops) == {"IAD", "NRT"}
    assert pops["NRT"]["entries"] > 0
    assert sum(p["entries"] for p in pops.values()) == cache["entries"]
    assert sum(p["memory_bytes"] for p in pops.values()) == cache["memory_used_bytes"]
    # LRU: the NRT objects just fetched are hits, IAD's first ones were evicted.
    assert set(await fetch_unique(edge, 16, "NRT", start=784)) == {"Hit from cloudfront"}
    assert set(await fetch_unique(edge, 16, "IAD")) == {"Miss from cloudfront"}

    shown = await metrics(edge)
    after = await status(edge)
    for pop in ("IAD", "NRT"):
        assert shown[f'edgesim_cache_entries{{pop="{pop}"}}'] == after["pops"][pop]["entries"]
        assert (
            shown[f'edgesim_cache_memory_bytes{{pop="{pop}"}}']
            == after["pops"][pop]["memory_bytes"]
        )
        assert shown[f'edgesim_cache_disk_bytes{{pop="{pop}"}}'] == 0
    assert shown["edgesim_cache_memory_limit_bytes"] == MiB
    assert shown["edgesim_cache_disk_limit_bytes"] == 8_192 * MiB
    assert shown["edgesim_cache_evictions"] == after["evictions"]


async def test_every_configured_pop_is_listed_before_it_caches(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG)
    cache = await status(edge)
    assert cache["pops"] == {
        "IAD": {"entries": 0, "memory_bytes": 0, "disk_bytes": 0},
        "NRT": {"entries": 0, "memory_bytes": 0, "disk_bytes": 0},
    }
    assert (await metrics(edge))['edgesim_cache_entries{pop="NRT"}'] == 0


async def test_a_reload_with_a_smaller_limit_evicts(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG.replace("memory_limit_mb = 1", "memory_limit_mb = 2"))
    await fetch_unique(edge, 1_000, "IAD")
    before = await status(edge)
    assert before["memory_used_bytes"] > MiB
    edge.config.write_text(
        edge.config.read_text().replace("memory_limit_mb = 2", "memory_limit_mb = 1")
    )
    edge.server.reload_config(load_config(edge.config))
    after = await status(edge)
    assert after["memory_limit_bytes"] == MiB
    assert after["memory_used_bytes"] <= MiB
    assert after["entries"] < before["entries"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"64MB"', "cache.memory_limit_mb: expected an integer, got string '64MB'"),
        ("0", "cache.memory_limit_mb: 0 is out of range"),
    ],
)
def test_a_bad_cache_setting_stops_serve_with_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, expected: str
) -> None:
    config = tmp_path / "edgesim.toml"
    config.write_text(
        "[server]\nport = 0\nadmin_port = 0\nhttps = false\nephemeral = true\n"
        + BASIC.replace("{origin}", "http://127.0.0.1:9")
        + f"\n[cache]\nmemory_limit_mb = {value}\n"
    )
    assert main(["serve", "--config", str(config), "--no-reload"]) == 2
    err = capsys.readouterr().err
    assert f"edgesim.toml: {expected}" in err
    assert "Traceback" not in err
