"""edgesim.controlplane.stores_api: edgesim's own JSON API for managing stores and watching
propagation, over HTTP (aiohttp test client)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from edgesim.controlplane.stores_api import pop_json
from edgesim.kvs.clock import VirtualClock
from edgesim.kvs.replicas import PopStatus
from edgesim.kvs.service import KvsService

pytestmark = pytest.mark.filterwarnings("error")

STORES = "/__edgesim/kvs/stores"


async def test_store_create_list_describe_export_and_delete(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        STORES, json={"name": "site", "comment": "c", "data": [{"key": "a", "value": "1"}]}
    )
    assert response.status == 201
    store = await response.json()
    assert {k: store[k] for k in ("name", "comment", "item_count", "total_size", "status")} == {
        "name": "site",
        "comment": "c",
        "item_count": 1,
        "total_size": 2,
        "status": "READY",
    }
    assert store["arn"].endswith(store["id"])
    assert store["etag"].startswith("KV")
    listing = await (await client.get(STORES)).json()
    assert listing == {"stores": [store]}
    for ref in ("site", store["id"], quote(store["arn"], safe=""), store["arn"]):
        response = await client.get(URL(f"{STORES}/{ref}", encoded=True))
        assert await response.json() == store, ref
    export = await (await client.get(f"{STORES}/site/export")).json()
    assert export == {"data": [{"key": "a", "value": "1"}]}
    response = await client.delete(f"{STORES}/site", headers={"If-Match": "KVSTALE"})
    assert response.status == 409
    response = await client.delete(URL(f"{STORES}/{quote(store['arn'], safe='')}", encoded=True))
    assert response.status == 204
    response = await client.get(f"{STORES}/site")
    assert response.status == 404
    body = await response.json()
    assert body["error"]["code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("doc", "status", "message"),
    [
        ({}, 400, '"name" is required'),
        ({"name": "bad name"}, 400, "store name 'bad name' is invalid"),
        ({"name": "s", "colour": "red"}, 400, "unknown member 'colour'"),
        ({"name": "s", "data": [{"key": "a"}]}, 400, "data[0]"),
        ({"name": "s", "data": [{"key": "k" * 600, "value": "v"}]}, 400, "512"),
    ],
)
async def test_bad_create_requests_are_400_with_the_reason(
    client: TestClient[Any, Any], doc: dict[str, Any], status: int, message: str
) -> None:
    response = await client.post(STORES, json=doc)
    assert response.status == status
    assert message in (await response.json())["error"]["message"]


async def test_duplicate_name_is_a_conflict(client: TestClient[Any, Any]) -> None:
    assert (await client.post(STORES, json={"name": "s"})).status == 201
    response = await client.post(STORES, json={"name": "s"})
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "ConflictException"


async def test_status_shows_each_pops_version_until_the_write_lands(
    client: TestClient[Any, Any], service: KvsService, clock: VirtualClock
) -> None:
    info = service.create_store("s")
    result = service.put_key("s", "k", "v", if_match=info.etag)
    status = await (await client.get(f"{STORES}/s/status")).json()
    assert status["store"]["etag"] == result.etag
    assert [p["pop"] for p in status["pops"]] == ["IAD", "FRA"]
    for pop in status["pops"]:
        assert (pop["version"], pop["etag"], pop["in_sync"]) == (1, info.etag, False)
        assert pop["pending"] == [{"version": 2, "lands_in_seconds": 2.0}]
        assert pop["next_in_seconds"] == 2.0
    clock.advance(2.0)
    status = await (await client.get(f"{STORES}/s/status")).json()
    for pop in status["pops"]:
        assert (pop["version"], pop["in_sync"], pop["pending"], pop["next_in_seconds"]) == (
            2,
            True,
            [],
            None,
        )


def test_next_landing_is_the_soonest_not_the_lowest_version() -> None:
    status = PopStatus(pop="FRA", version=1, etag="KV1", pending=((2, 8.444), (3, 7.58)))
    assert pop_json(status, "KV3")["next_in_seconds"] == 7.58


def test_pop_json_rounds_landing_times_to_milliseconds_and_compares_etags() -> None:
    status = PopStatus(pop="IAD", version=2, etag="KV2", pending=((3, 1.23456),))
    assert pop_json(status, "KV2") == {
        "pop": "IAD",
        "version": 2,
        "etag": "KV2",
        "in_sync": True,
        "pending": [{"version": 3, "lands_in_seconds": 1.235}],
        "next_in_seconds": 1.235,
    }
    assert pop_json(status, "KV3")["in_sync"] is False


async def test_store_times_are_iso_8601_utc_with_milliseconds(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    service.create_store("s")
    store = await (await client.get(f"{STORES}/s")).json()
    assert store["created"] == store["last_modified"]
    assert store["created"].endswith("Z")
    assert len(store["created"]) == len("2025-01-02T03:04:05.678Z")


async def test_unknown_store_is_404_for_describe_export_and_status(
    client: TestClient[Any, Any],
) -> None:
    for path in ("nope", "nope/export", "nope/status"):
        response = await client.get(f"{STORES}/{path}")
        assert response.status == 404, path
        error = (await response.json())["error"]
        assert error["code"] == "ResourceNotFoundException"
        assert "no key value store 'nope'" in error["message"]


async def test_unsupported_method_on_a_store_is_405(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    service.create_store("s")
    response = await client.put(f"{STORES}/s", json={})
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "UnknownOperationException"


async def test_a_body_that_is_not_a_json_object_is_400(client: TestClient[Any, Any]) -> None:
    response = await client.post(STORES, data=b"[1, 2]")
    assert response.status == 400
    assert "must be a JSON object" in (await response.json())["error"]["message"]


async def test_a_bug_in_the_model_is_a_500_in_the_same_error_shape(
    client: TestClient[Any, Any], service: KvsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "list_stores", broken)
    response = await client.get(STORES)
    assert response.status == 500
    error = (await response.json())["error"]
    assert error["code"] == "InternalServerException"
    assert "boom" in error["message"]
