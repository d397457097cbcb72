"""edgesim.controlplane.cloudfront_api: the CloudFront API's store operations (rest-xml), as
provisioning scripts call them; parsing directly, the handlers over HTTP (aiohttp test client)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from edgesim.controlplane.cloudfront_api import BASE, NS, cloudfront_etag, parse_create
from edgesim.controlplane.kvs_api import WireError
from edgesim.kvs.service import KvsService

pytestmark = pytest.mark.filterwarnings("error")


def create_body(name: str | None, comment: str | None = None, extra: str = "") -> bytes:
    parts = [f"<Name>{name}</Name>" if name is not None else ""]
    if comment is not None:
        parts.append(f"<Comment>{comment}</Comment>")
    inner = "".join(parts) + extra
    return f'<CreateKeyValueStoreRequest xmlns="{NS}">{inner}</CreateKeyValueStoreRequest>'.encode()


def text(element: ET.Element, tag: str) -> str | None:
    return element.findtext(f"{{{NS}}}{tag}")


def fields(element: ET.Element) -> dict[str, str | None]:
    """Child texts by local name (with or without the CloudFront namespace)."""
    return {child.tag.rpartition("}")[2]: child.text for child in element}


async def xml_of(response: Any) -> ET.Element:
    assert response.content_type == "text/xml"
    return ET.fromstring(await response.read())


async def expect_error(response: Any, status: int, code: str, message: str = "") -> None:
    assert response.status == status
    root = await xml_of(response)
    assert root.tag == f"{{{NS}}}ErrorResponse"
    error = root.find(f"{{{NS}}}Error")
    assert error is not None
    assert text(error, "Type") == ("Sender" if status < 500 else "Receiver")
    assert text(error, "Code") == code
    assert message in (text(error, "Message") or "")


# -- parsing and ETags ---------------------------------------------------------------------------


def test_cloudfront_etag_is_fixed_per_store_and_unlike_the_kvs_etag() -> None:
    etag = cloudfront_etag("store-1")
    assert re.fullmatch(r"ETV[A-Z2-7]{11}", etag)
    assert cloudfront_etag("store-1") == etag != cloudfront_etag("store-2")


def test_create_request_gives_name_and_comment() -> None:
    assert parse_create(create_body("s", "hello")) == ("s", "hello")
    assert parse_create(create_body("s")) == ("s", "")


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        (b"<not xml", "InvalidArgument", "not valid XML"),
        (b"<Other/>", "InvalidArgument", "expected a CreateKeyValueStoreRequest"),
        (create_body(None), "InvalidArgument", "Name is required"),
        (
            create_body("s", extra="<ImportSource><SourceType>S3</SourceType></ImportSource>"),
            "UnsupportedOperation",
            "edgesim cannot read S3",
        ),
    ],
)
def test_bad_create_requests_say_what_is_wrong(raw: bytes, code: str, message: str) -> None:
    with pytest.raises(WireError, match=message) as info:
        parse_create(raw)
    assert (info.value.code, info.value.status) == (code, 400)


# -- the handlers over HTTP ----------------------------------------------------------------------


async def test_create_then_describe_answers_the_store_with_its_cloudfront_etag(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    response = await client.post(BASE, data=create_body("site", "made here"))
    assert response.status == 201
    info = service.describe("site")
    assert response.headers["ETag"] == cloudfront_etag(info.id)
    assert response.headers["Location"].endswith(f"{BASE}/{info.arn}")
    created = fields(await xml_of(response))
    assert [created[t] for t in ("Name", "Id", "Comment", "ARN", "Status")] == [
        "site",
        info.id,
        "made here",
        info.arn,
        "READY",
    ]
    assert (created["LastModifiedTime"] or "").endswith("Z")
    response = await client.get(f"{BASE}/site")
    assert response.headers["ETag"] == cloudfront_etag(info.id)
    described = await xml_of(response)
    assert described.tag == f"{{{NS}}}KeyValueStore"
    assert text(described, "Id") == info.id


async def test_create_answer_is_in_the_cloudfront_namespace_like_describe(
    client: TestClient[Any, Any],
) -> None:
    created = await xml_of(await client.post(BASE, data=create_body("site")))
    described = await xml_of(await client.get(f"{BASE}/site"))
    assert described.tag == f"{{{NS}}}KeyValueStore"
    assert created.tag == described.tag


async def test_create_errors_map_to_cloudfront_codes(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    service.create_store("taken")
    await expect_error(
        await client.post(BASE, data=create_body("taken")), 409, "EntityAlreadyExists"
    )
    await expect_error(
        await client.post(BASE, data=create_body("bad name")), 400, "InvalidArgument", "is invalid"
    )


async def test_list_pages_by_name_with_max_items_and_marker(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    for name in ("c", "a", "b"):
        service.create_store(name)
    names: list[str | None] = []
    marker = ""
    while True:
        root = await xml_of(await client.get(BASE, params={"MaxItems": "2", "Marker": marker}))
        assert text(root, "MaxItems") == "2"
        items = root.find(f"{{{NS}}}Items")
        assert items is not None
        page = [text(item, "Name") for item in items]
        assert text(root, "Quantity") == str(len(page))
        names += page
        marker = text(root, "NextMarker") or ""
        if not marker:
            break
    assert names == ["a", "b", "c"]
    none = await xml_of(await client.get(BASE, params={"Status": "PROVISIONING"}))
    assert text(none, "Quantity") == "0"
    await expect_error(
        await client.get(BASE, params={"MaxItems": "0"}), 400, "InvalidArgument", "MaxItems"
    )


async def test_delete_needs_the_cloudfront_etag_in_if_match(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    info = service.create_store("s")
    await expect_error(await client.delete(f"{BASE}/s"), 400, "InvalidIfMatchVersion")
    response = await client.delete(f"{BASE}/s", headers={"If-Match": info.etag})  # the KVS one
    await expect_error(response, 412, "PreconditionFailed", "is not the store's ETag")
    response = await client.delete(f"{BASE}/s", headers={"If-Match": cloudfront_etag(info.id)})
    assert response.status == 204
    await expect_error(await client.get(f"{BASE}/s"), 404, "EntityNotFound")


async def test_update_is_reported_as_not_emulated(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    service.create_store("s")
    response = await client.put(f"{BASE}/s", data=b"<UpdateKeyValueStoreRequest/>")
    await expect_error(response, 400, "UnsupportedOperation", "not emulated")


async def test_a_bug_in_the_model_is_an_internal_error_from_the_receiver(
    client: TestClient[Any, Any], service: KvsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "list_stores", broken)
    await expect_error(await client.get(BASE), 500, "InternalError", "boom")
