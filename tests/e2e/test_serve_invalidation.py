"""Cache invalidation on the admin port: bad path patterns are refused."""

from __future__ import annotations

from tests.e2e.conftest import BASIC, StartEdge


async def test_bad_invalidation_pattern_is_400(start_edge: StartEdge) -> None:
    edge = await start_edge(BASIC)
    async with edge.session.post(
        edge.admin + "/cache/invalidations", json={"paths": ["/a*b"]}
    ) as response:
        assert response.status == 400
        assert "*" in (await response.json())["message"]
