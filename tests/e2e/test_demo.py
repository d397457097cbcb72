"""The bundled demo that `make demo` runs: it must start and its tour must show each feature."""

from __future__ import annotations

import io

from edgesim.app import EdgeServer
from edgesim.demo import demo_config, start_demo_origin, tour
from edgesim.kvs.clock import VirtualClock
from edgesim.stores import kvs_service_for


async def test_demo_tour_shows_cohorts_redirect_cache_and_propagation() -> None:
    origin_runner, origin_url = await start_demo_origin()
    dist = demo_config(origin_url, port=0, admin_port=0, https_port=0, ephemeral=True)
    clock = VirtualClock()
    kvs = kvs_service_for(dist, clock=clock)
    server = EdgeServer(dist, kvs=kvs, stream=io.StringIO())
    lines: list[str] = []

    async def wait(seconds: float) -> None:
        clock.advance(seconds)

    try:
        await server.start()
        await tour(
            f"http://127.0.0.1:{server.viewer_port}",
            f"http://127.0.0.1:{server.admin_port}",
            lines.append,
            wait=wait,
        )
    finally:
        await server.stop()
        kvs.close()
        await origin_runner.cleanup()
    text = "\n".join(lines)
    assert "IAD: 200 cohort=a" in text
    assert "NRT: 200 cohort=a" in text
    assert "location=https://de.example.com/shop/shoes" in text
    assert "x-cache=Hit from cloudfront" in text
    assert "PutKey → 200" in text
    # Right after the write every POP still has the old experiment; at the end none has.
    propagation = [line.strip() for line in lines if line.strip().startswith("IAD=")]
    assert propagation[0] == "IAD=a FRA=a NRT=a"
    assert propagation[-1] == "IAD=None FRA=None NRT=None"
