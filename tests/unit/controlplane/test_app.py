"""edgesim.controlplane.app: the admin app's three ways of being served (a standalone app, routes
added to another app, a background thread) and what each promises."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from edgesim.controlplane.app import (
    BackgroundServer,
    make_admin_app,
    setup_admin,
    start_admin_site,
)
from edgesim.kvs.service import KvsService

STORES = "/__edgesim/kvs/stores"


@pytest.fixture
def service() -> Iterator[KvsService]:
    with KvsService() as svc:
        yield svc


def get_json(url: str) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return json.loads(response.read())


async def test_standalone_app_serves_all_three_apis(
    aiohttp_client: Any, service: KvsService
) -> None:
    arn = service.create_store("s").arn
    client = await aiohttp_client(make_admin_app(service))
    assert (await client.get(STORES)).status == 200
    response = await client.get("/key-value-stores/" + arn.replace("/", "%2F"))
    assert response.headers["ETag"] == service.describe("s").etag
    assert (await client.get("/2020-05-31/key-value-store/s")).content_type == "text/xml"


async def test_routes_added_under_a_prefix_live_only_there(
    aiohttp_client: Any, service: KvsService
) -> None:
    service.create_store("s")
    app = web.Application()
    setup_admin(app, service, prefix="/admin")
    client = await aiohttp_client(app)
    assert (await client.get(f"/admin{STORES}/s")).status == 200
    assert (await client.get("/admin/2020-05-31/key-value-store/s")).status == 200
    assert (await client.get(f"{STORES}/s")).status == 404


async def test_routes_in_a_sub_application_find_the_service(
    aiohttp_client: Any, service: KvsService
) -> None:
    service.create_store("s")
    admin = web.Application()
    setup_admin(admin, service)
    parent = web.Application()
    parent.add_subapp("/admin", admin)
    client = await aiohttp_client(parent)
    response = await client.get(f"/admin{STORES}/s")
    assert (await response.json())["name"] == "s"


async def test_start_admin_site_on_port_0_reports_the_bound_port(service: KvsService) -> None:
    runner, port = await start_admin_site(service, port=0)
    try:
        assert port > 0
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
    finally:
        await runner.cleanup()


def test_background_server_serves_from_a_thread_until_stopped(service: KvsService) -> None:
    service.create_store("s")
    with BackgroundServer(service) as server:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert [s["name"] for s in get_json(server.url + STORES)["stores"]] == ["s"]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    server.stop()  # stopping again is harmless


def test_background_server_on_a_busy_port_raises_in_the_caller(service: KvsService) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=rf"\b{port}\b"):
            BackgroundServer(service, port=port).start()
