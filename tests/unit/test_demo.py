"""edgesim.demo: the bundled demo's distribution and its origin, without serving it (the tour
end to end: tests/e2e/test_demo.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from edgesim.demo import demo_config, demo_root, start_demo_origin


def test_demo_root_holds_the_example_functions_and_kvs_data() -> None:
    root = demo_root()
    for name in ("ab_cohort.js", "country_redirect.js", "security_headers.js"):
        assert (root / "functions" / name).is_file()
    assert (root / "fixtures" / "kvs" / "ab_cohort.json").is_file()


def test_demo_config_takes_the_origin_ports_and_ephemeral_flag_it_is_given() -> None:
    dist = demo_config("http://127.0.0.1:5555", port=18080, admin_port=18081, ephemeral=True)
    assert (dist.server.port, dist.server.admin_port, dist.server.ephemeral) == (
        18080,
        18081,
        True,
    )
    assert dist.origins["demo-origin"].url == "http://127.0.0.1:5555"
    assert not demo_config("http://o", port=0, admin_port=0, ephemeral=False).server.ephemeral


def test_demo_config_shows_each_feature_the_tour_walks_through() -> None:
    dist = demo_config("http://127.0.0.1:5555", port=0, admin_port=0, ephemeral=True)
    assert dist.edges.pops == ("IAD", "FRA", "NRT")
    assert list(dist.kvs) == ["experiments"]
    assert set(dist.functions) == {"ab-cohort", "country-redirect", "security-headers"}
    assert [behavior.path for behavior in dist.behaviors] == ["/checkout*", "/shop/*"]


@pytest.fixture
async def demo_origin() -> AsyncIterator[str]:
    runner, url = await start_demo_origin()
    yield url
    await runner.cleanup()


async def test_demo_origin_echoes_what_the_edge_sent_it(demo_origin: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            demo_origin + "/checkout/cart?x=1",
            headers={"X-Cohort": "b", "CloudFront-Viewer-Country": "DE"},
        ) as response,
    ):
        body = await response.json()
        assert response.headers["Cache-Control"] == "no-store"
    assert body["origin"] == "edgesim demo origin"
    assert (body["path"], body["cohort"], body["viewer_country"]) == (
        "/checkout/cart?x=1",
        "b",
        "DE",
    )
    assert "x-cohort" in body["headers_seen"]


async def test_demo_origin_lets_pages_outside_checkout_be_cached(demo_origin: str) -> None:
    async with aiohttp.ClientSession() as session, session.get(demo_origin + "/index.html") as r:
        assert r.headers["Cache-Control"] == "max-age=60"
        assert (await r.json())["cohort"] is None
