"""The admin app over HTTP (aiohttp test client): wire-format details boto3 cannot produce."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from edgesim.controlplane.app import make_admin_app
from edgesim.kvs.clock import VirtualClock
from edgesim.kvs.propagation import FixedLag
from edgesim.kvs.service import KvsService

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def service(clock: VirtualClock) -> Iterator[KvsService]:
    with KvsService(clock=clock, pops=("IAD", "FRA"), lag=FixedLag(2.0)) as svc:
        yield svc


@pytest.fixture
async def client(aiohttp_client: Any, service: KvsService) -> TestClient[Any, Any]:
    return await aiohttp_client(make_admin_app(service))


def kvs_url(arn: str, key: str | None = None, *, keys: bool = False) -> URL:
    path = "/key-value-stores/" + quote(arn, safe="")
    if key is not None:
        path += "/keys/" + quote(key, safe="")
    elif keys:
        path += "/keys"
    return URL(path, encoded=True)


async def expect_error(response: Any, status: int, code: str, message: str = "") -> None:
    assert response.status == status
    assert response.headers["x-amzn-ErrorType"] == code
    body = await response.json()
    assert message in body["Message"]


async def test_describe_shape_and_any_host(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    info = service.create_store("s", items={"k": "vv"})
    response = await client.get(kvs_url(info.arn), headers={"Host": "123456789012.localhost:1"})
    assert response.status == 200
    assert response.headers["ETag"] == info.etag
    body = await response.json()
    assert body == {
        "ItemCount": 1,
        "TotalSizeInBytes": 3,
        "KvsARN": info.arn,
        "Created": info.created.timestamp(),
        "LastModified": info.last_modified.timestamp(),
        "Status": "READY",
    }


async def test_writes_without_if_match_are_validation_errors(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    arn = service.create_store("s").arn
    response = await client.put(kvs_url(arn, "k"), json={"Value": "v"})
    await expect_error(response, 400, "ValidationException", "If-Match header is required")
    response = await client.delete(kvs_url(arn, "k"))
    await expect_error(response, 400, "ValidationException", "If-Match")
    response = await client.post(kvs_url(arn, keys=True), json={"Puts": []})
    await expect_error(response, 400, "ValidationException", "If-Match")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{oops", "not valid JSON"),
        (b"", "request body is empty"),
        (b'{"Value": 5}', "Value must be a string, not int"),
        (b'{"value": "v"}', "Value is required"),
    ],
)
async def test_malformed_put_bodies(
    client: TestClient[Any, Any], service: KvsService, body: bytes, message: str
) -> None:
    info = service.create_store("s")
    response = await client.put(kvs_url(info.arn, "k"), data=body, headers={"If-Match": info.etag})
    await expect_error(response, 400, "ValidationException", message)
    assert service.describe("s").etag == info.etag


async def test_malformed_update_body(client: TestClient[Any, Any], service: KvsService) -> None:
    info = service.create_store("s")
    response = await client.post(
        kvs_url(info.arn, keys=True), json={"Puts": {"Key": "a"}}, headers={"If-Match": info.etag}
    )
    await expect_error(response, 400, "ValidationException", "Puts must be a list")


async def test_unknown_store_and_bad_arn(client: TestClient[Any, Any]) -> None:
    unknown = (
        "arn:aws:cloudfront::123456789012:key-value-store/00000000-0000-0000-0000-000000000000"
    )
    await expect_error(await client.get(kvs_url(unknown)), 404, "ResourceNotFoundException")
    await expect_error(
        await client.get(kvs_url("s")), 400, "ValidationException", "not a key value store ARN"
    )


async def test_routes_outside_the_api(client: TestClient[Any, Any], service: KvsService) -> None:
    arn = service.create_store("s").arn
    await expect_error(
        await client.get(URL(str(kvs_url(arn)) + "/items", encoded=True)),
        404,
        "UnknownOperationException",
    )
    await expect_error(await client.post(kvs_url(arn)), 405, "UnknownOperationException")


async def test_oversized_body_is_refused(client: TestClient[Any, Any], service: KvsService) -> None:
    info = service.create_store("s")
    body = io.BytesIO(b'{"Value": "' + b"x" * (9 * 1024 * 1024) + b'"}')
    response = await client.put(kvs_url(info.arn, "k"), data=body, headers={"If-Match": info.etag})
    await expect_error(response, 413, "ValidationException", "exceeds")


async def test_model_bug_is_an_internal_server_error(
    client: TestClient[Any, Any], service: KvsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = service.create_store("s").arn

    def broken(ref: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "describe", broken)
    await expect_error(await client.get(kvs_url(arn)), 500, "InternalServerException", "boom")


# edgesim's store API

STORES = "/__edgesim/kvs/stores"


async def test_store_lifecycle(client: TestClient[Any, Any]) -> None:
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
async def test_create_errors(
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


async def test_propagation_status(
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
