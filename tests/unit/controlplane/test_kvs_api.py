"""edgesim.controlplane.kvs_api: the AWS ``cloudfront-keyvaluestore`` wire API. Pure parsing of
paths, bodies and query values first, then the handlers over HTTP (aiohttp test client) for the
wire-format details boto3 cannot produce."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from edgesim.controlplane.kvs_api import (
    KvsPath,
    WireError,
    check_arn,
    parse_json_object,
    parse_max_results,
    parse_path,
    parse_update_body,
)
from edgesim.kvs.service import KvsService

pytestmark = pytest.mark.filterwarnings("error")

ARN = "arn:aws:cloudfront::123456789012:key-value-store/327284aa-bcf8-4fb4-b3a4-d2a9e7e93f26"
RAW_ARN = "arn%3Aaws%3Acloudfront%3A%3A123456789012%3Akey-value-store%2F327284aa-bcf8-4fb4-b3a4-d2a9e7e93f26"


# -- parsing -----------------------------------------------------------------------------------


def test_describe_path_gives_the_arn() -> None:
    assert parse_path(f"/key-value-stores/{RAW_ARN}") == KvsPath(ARN)


def test_keys_path_is_the_list_and_update_resource() -> None:
    assert parse_path(f"/key-value-stores/{RAW_ARN}/keys") == KvsPath(ARN, keys=True)


def test_key_is_split_before_decoding() -> None:
    # botocore's encoding of the key 'a/b c:ü?&'
    path = parse_path(f"/key-value-stores/{RAW_ARN}/keys/a%2Fb%20c%3A%C3%BC%3F%26")
    assert path == KvsPath(ARN, keys=True, key="a/b c:ü?&")


def test_percent_sign_in_key_is_decoded_once() -> None:
    assert parse_path(f"/key-value-stores/{RAW_ARN}/keys/100%2525") == KvsPath(ARN, True, "100%25")


def test_endpoint_path_prefix_is_skipped() -> None:
    assert parse_path(f"/custom/key-value-stores/{RAW_ARN}/keys") == KvsPath(ARN, keys=True)


def test_empty_key_label_is_kept_for_the_model_to_refuse() -> None:
    assert parse_path(f"/key-value-stores/{RAW_ARN}/keys/") == KvsPath(ARN, keys=True, key="")


@pytest.mark.parametrize(
    "raw",
    [
        "/",
        "/key-value-stores",
        "/key-value-stores/",
        f"/key-value-stores/{RAW_ARN}/items",
        f"/key-value-stores/{RAW_ARN}/keys/a/b",
    ],
)
def test_paths_that_are_no_operation_parse_to_none(raw: str) -> None:
    assert parse_path(raw) is None


def test_invalid_utf8_in_key_is_a_validation_error() -> None:
    with pytest.raises(WireError, match="Key in the path is not valid") as info:
        parse_path(f"/key-value-stores/{RAW_ARN}/keys/%FF")
    assert (info.value.code, info.value.status) == ("ValidationException", 400)


@pytest.mark.parametrize("arn", ["my-store", "arn:aws:s3:::bucket", ""])
def test_non_store_arns_are_refused(arn: str) -> None:
    with pytest.raises(WireError, match="is not a key value store ARN"):
        check_arn(arn)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "request body is empty"),
        (b"{", "not valid JSON"),
        (b"[1]", "must be a JSON object"),
        (b'"x"', "must be a JSON object"),
    ],
)
def test_malformed_json_bodies_are_validation_errors(raw: bytes, message: str) -> None:
    with pytest.raises(WireError, match=message) as info:
        parse_json_object(raw, what='{"Value": "..."}')
    assert info.value.code == "ValidationException"


def test_update_body_gives_puts_and_deletes() -> None:
    doc = {"Puts": [{"Key": "a", "Value": "1"}], "Deletes": [{"Key": "b"}]}
    assert parse_update_body(doc) == ([("a", "1")], ["b"])
    assert parse_update_body({}) == ([], [])


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"Puts": {"Key": "a"}}, "Puts must be a list"),
        ({"Puts": ["a"]}, r"Puts\[0\] must be an object"),
        ({"Puts": [{"Key": "a"}]}, r"Puts\[0\]\.Value is required"),
        ({"Puts": [{"Key": 1, "Value": "v"}]}, r"Puts\[0\]\.Key must be a string, not int"),
        ({"Deletes": [{"Key": "a"}, {}]}, r"Deletes\[1\]\.Key is required"),
    ],
)
def test_update_body_errors_name_the_member(doc: dict[str, object], message: str) -> None:
    with pytest.raises(WireError, match=message):
        parse_update_body(doc)


def test_max_results_defaults_to_10_and_must_be_1_to_50() -> None:
    assert parse_max_results(None) == 10
    assert parse_max_results("50") == 50
    for bad in ("0", "51", "ten"):
        with pytest.raises(WireError, match="MaxResults"):
            parse_max_results(bad)


# -- the handlers over HTTP --------------------------------------------------------------------


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


async def test_describe_answers_the_modelled_shape_whatever_the_host(
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
async def test_malformed_put_bodies_are_refused_without_a_write(
    client: TestClient[Any, Any], service: KvsService, body: bytes, message: str
) -> None:
    info = service.create_store("s")
    response = await client.put(kvs_url(info.arn, "k"), data=body, headers={"If-Match": info.etag})
    await expect_error(response, 400, "ValidationException", message)
    assert service.describe("s").etag == info.etag


async def test_update_keys_with_puts_that_is_not_a_list_is_refused(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    info = service.create_store("s")
    response = await client.post(
        kvs_url(info.arn, keys=True), json={"Puts": {"Key": "a"}}, headers={"If-Match": info.etag}
    )
    await expect_error(response, 400, "ValidationException", "Puts must be a list")


async def test_unknown_store_is_404_and_a_name_instead_of_an_arn_is_400(
    client: TestClient[Any, Any],
) -> None:
    unknown = (
        "arn:aws:cloudfront::123456789012:key-value-store/00000000-0000-0000-0000-000000000000"
    )
    await expect_error(await client.get(kvs_url(unknown)), 404, "ResourceNotFoundException")
    await expect_error(
        await client.get(kvs_url("s")), 400, "ValidationException", "not a key value store ARN"
    )


async def test_paths_and_methods_outside_the_api_are_unknown_operations(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    arn = service.create_store("s").arn
    await expect_error(
        await client.get(URL(str(kvs_url(arn)) + "/items", encoded=True)),
        404,
        "UnknownOperationException",
    )
    await expect_error(await client.post(kvs_url(arn)), 405, "UnknownOperationException")


async def test_body_over_8_mb_is_refused_with_413(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    info = service.create_store("s")
    body = io.BytesIO(b'{"Value": "' + b"x" * (9 * 1024 * 1024) + b'"}')
    response = await client.put(kvs_url(info.arn, "k"), data=body, headers={"If-Match": info.etag})
    await expect_error(response, 413, "ValidationException", "exceeds")


async def test_a_bug_in_the_model_is_an_internal_server_error(
    client: TestClient[Any, Any], service: KvsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = service.create_store("s").arn

    def broken(ref: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "describe", broken)
    await expect_error(await client.get(kvs_url(arn)), 500, "InternalServerException", "boom")


async def test_get_key_answers_the_value_and_the_store_totals(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    info = service.create_store("s", items={"a/b c%": "1", "z": "22"})
    response = await client.get(kvs_url(info.arn, "a/b c%"))
    assert response.status == 200
    assert response.headers["x-amzn-RequestId"]
    assert await response.json() == {
        "Key": "a/b c%",
        "Value": "1",
        "ItemCount": 2,
        "TotalSizeInBytes": len("a/b c%") + 1 + 1 + 2,
    }
    await expect_error(
        await client.get(kvs_url(info.arn, "nope")),
        404,
        "ResourceNotFoundException",
        "key 'nope' does not exist",
    )


async def test_list_keys_pages_with_next_token_until_the_last_page(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    info = service.create_store("s", items={f"k{i}": str(i) for i in range(5)})
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        url = kvs_url(info.arn, keys=True).with_query(MaxResults="2", NextToken=token)
        body = await (await client.get(url)).json()
        seen += [item["Key"] for item in body["Items"]]
        pages += 1
        if "NextToken" not in body:
            break
        token = body["NextToken"]
    assert (pages, seen) == (3, ["k0", "k1", "k2", "k3", "k4"])
    response = await client.get(kvs_url(info.arn, keys=True).with_query(MaxResults="51"))
    await expect_error(response, 400, "ValidationException", "MaxResults")


async def test_writes_answer_the_new_etag_and_totals(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    info = service.create_store("s")
    response = await client.put(
        kvs_url(info.arn, "k"), json={"Value": "vv"}, headers={"If-Match": info.etag}
    )
    assert response.status == 200
    etag = response.headers["ETag"]
    assert await response.json() == {"ItemCount": 1, "TotalSizeInBytes": 3}
    response = await client.post(
        kvs_url(info.arn, keys=True),
        json={"Puts": [{"Key": "x", "Value": "1"}], "Deletes": [{"Key": "k"}]},
        headers={"If-Match": etag},
    )
    assert await response.json() == {"ItemCount": 1, "TotalSizeInBytes": 2}
    response = await client.delete(
        kvs_url(info.arn, "x"), headers={"If-Match": response.headers["ETag"]}
    )
    assert await response.json() == {"ItemCount": 0, "TotalSizeInBytes": 0}
    assert service.describe("s").etag == response.headers["ETag"]


async def test_stale_if_match_is_a_conflict_and_changes_nothing(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    info = service.create_store("s", items={"k": "old"})
    service.put_key("s", "k", "new", if_match=info.etag)
    response = await client.put(
        kvs_url(info.arn, "k"), json={"Value": "mine"}, headers={"If-Match": info.etag}
    )
    await expect_error(response, 409, "ConflictException", "does not match the current ETag")
    assert service.get_key("s", "k") == "new"


async def test_an_unknown_store_is_reported_before_a_missing_if_match(
    client: TestClient[Any, Any],
) -> None:
    unknown = (
        "arn:aws:cloudfront::123456789012:key-value-store/00000000-0000-0000-0000-000000000000"
    )
    response = await client.put(kvs_url(unknown, "k"), json={"Value": "v"})
    await expect_error(response, 404, "ResourceNotFoundException")
