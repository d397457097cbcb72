"""Reloading the config while serving: changes that need a restart are refused."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import BASIC, StartEdge


async def test_reload_that_changes_pops_is_refused(start_edge: StartEdge, tmp_path: Path) -> None:
    from edgesim.distribution.config import load_config

    edge = await start_edge(BASIC + '\n[edges]\npops = ["IAD"]\n')
    edge.config.write_text(edge.config.read_text().replace('["IAD"]', '["IAD", "FRA"]'))
    edge.server.reload_config(load_config(edge.config))
    assert edge.server.dist.edges.pops == ("IAD",)
    assert any("restart" in line for line in edge.server.stream.lines)  # type: ignore[attr-defined]
