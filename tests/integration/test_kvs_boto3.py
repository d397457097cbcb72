"""Real boto3 (botocore[crt], SigV4A) against the control plane on a loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from edgesim.controlplane import BackgroundServer
from edgesim.controlplane.boto import kvs_client
from edgesim.kvs.service import KvsService, StoreInfo

UNKNOWN_ARN = (
    "arn:aws:cloudfront::123456789012:key-value-store/00000000-0000-0000-0000-000000000000"
)
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def service() -> Iterator[KvsService]:
    with KvsService() as svc:
        yield svc


@pytest.fixture(scope="module")
def server(service: KvsService) -> Iterator[BackgroundServer]:
    with BackgroundServer(service) as srv:
        yield srv


@pytest.fixture(scope="module")
def kvs(server: BackgroundServer) -> Iterator[Any]:
    # "localhost", as users write it: boto3 then targets 123456789012.localhost, which
    # kvs_client's hook routes back to the endpoint.
    client = kvs_client(f"http://localhost:{server.port}", config=NO_RETRIES)
    yield client
    client.close()


@pytest.fixture
def store(service: KvsService) -> StoreInfo:
    return service.create_store(f"s-{uuid.uuid4().hex[:12]}", items={"seed": "1"})


def etag(kvs: Any, store: StoreInfo) -> str:
    tag: str = kvs.describe_key_value_store(KvsARN=store.arn)["ETag"]
    return tag


def test_describe(kvs: Any, store: StoreInfo) -> None:
    reply = kvs.describe_key_value_store(KvsARN=store.arn)
    assert reply["ETag"] == store.etag
    assert reply["KvsARN"] == store.arn
    assert len(reply["ResponseMetadata"]["RequestId"]) == 36
    assert (reply["ItemCount"], reply["TotalSizeInBytes"], reply["Status"]) == (1, 5, "READY")
    assert reply["Created"].timestamp() == pytest.approx(store.created.timestamp())
    assert reply["LastModified"].timestamp() == pytest.approx(store.last_modified.timestamp())


@pytest.mark.parametrize(
    "key",
    ["a/b", "with space", "ünïcødé/日本語", "100%", "q?x=1&y#z", "+plus", "..", "a//b/", "~ok-._"],
)
def test_put_get_delete_keys_with_awkward_characters(kvs: Any, store: StoreInfo, key: str) -> None:
    put = kvs.put_key(KvsARN=store.arn, Key=key, Value="välue", IfMatch=store.etag)
    assert (put["ItemCount"], put["TotalSizeInBytes"]) == (2, 5 + len(key.encode()) + 6)
    got = kvs.get_key(KvsARN=store.arn, Key=key)
    assert (got["Key"], got["Value"], got["ItemCount"]) == (key, "välue", 2)
    deleted = kvs.delete_key(KvsARN=store.arn, Key=key, IfMatch=put["ETag"])
    assert deleted["ItemCount"] == 1
    assert deleted["ETag"] not in (store.etag, put["ETag"])
    with pytest.raises(kvs.exceptions.ResourceNotFoundException):
        kvs.get_key(KvsARN=store.arn, Key=key)


def test_update_keys_applies_puts_and_deletes_together(kvs: Any, store: StoreInfo) -> None:
    reply = kvs.update_keys(
        KvsARN=store.arn,
        IfMatch=store.etag,
        Puts=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
        Deletes=[{"Key": "seed"}],
    )
    assert (reply["ItemCount"], reply["TotalSizeInBytes"]) == (2, 4)
    assert reply["ETag"] == etag(kvs, store)
    items = kvs.list_keys(KvsARN=store.arn)["Items"]
    assert items == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]


def test_stale_etag_is_a_conflict_for_every_write(kvs: Any, store: StoreInfo) -> None:
    kvs.put_key(KvsARN=store.arn, Key="k", Value="v", IfMatch=store.etag)
    stale = store.etag
    with pytest.raises(kvs.exceptions.ConflictException) as info:
        kvs.put_key(KvsARN=store.arn, Key="k", Value="w", IfMatch=stale)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert "does not match the current ETag" in info.value.response["Error"]["Message"]
    with pytest.raises(kvs.exceptions.ConflictException):
        kvs.delete_key(KvsARN=store.arn, Key="k", IfMatch=stale)
    with pytest.raises(kvs.exceptions.ConflictException):
        kvs.update_keys(KvsARN=store.arn, IfMatch=stale, Puts=[{"Key": "x", "Value": "y"}])
    assert kvs.get_key(KvsARN=store.arn, Key="k")["Value"] == "v"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"Key": "k" * 513, "Value": "v"}, "513 bytes"),
        ({"Key": "é" * 257, "Value": "v"}, "514 bytes"),
        ({"Key": "k", "Value": "v" * 1025}, "1025 bytes"),
    ],
)
def test_oversize_keys_and_values(
    kvs: Any, store: StoreInfo, call: dict[str, str], message: str
) -> None:
    with pytest.raises(kvs.exceptions.ValidationException, match=message) as info:
        kvs.put_key(KvsARN=store.arn, IfMatch=store.etag, **call)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_largest_allowed_key_and_value(kvs: Any, store: StoreInfo) -> None:
    key, value = "k" * 512, "v" * 1024
    kvs.put_key(KvsARN=store.arn, Key=key, Value=value, IfMatch=store.etag)
    assert kvs.get_key(KvsARN=store.arn, Key=key)["Value"] == value


def test_more_than_50_operations(kvs: Any, store: StoreInfo) -> None:
    puts = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    with pytest.raises(kvs.exceptions.ValidationException, match="51 operations"):
        kvs.update_keys(KvsARN=store.arn, IfMatch=store.etag, Puts=puts, Deletes=[{"Key": "x"}])
    reply = kvs.update_keys(KvsARN=store.arn, IfMatch=store.etag, Puts=puts)
    assert reply["ItemCount"] == 51


def test_store_overflow_is_a_quota_error(kvs: Any, service: KvsService) -> None:
    # 3413 items of 1536 bytes = 5,242,368 bytes: 512 below the 5 MB store limit.
    items = {f"{i:0512d}": "v" * 1024 for i in range(3413)}
    full = service.create_store(f"full-{uuid.uuid4().hex[:8]}", items=items)
    with pytest.raises(kvs.exceptions.ServiceQuotaExceededException) as info:
        kvs.put_key(KvsARN=full.arn, Key="k" * 100, Value="v" * 500, IfMatch=full.etag)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
    assert etag(kvs, full) == full.etag  # nothing written
    kvs.put_key(KvsARN=full.arn, Key="k" * 100, Value="v" * 400, IfMatch=full.etag)


def test_paginator_walks_every_key_in_order(kvs: Any, store: StoreInfo) -> None:
    keys = [f"key/{i:02d}" for i in range(23)]
    kvs.update_keys(
        KvsARN=store.arn, IfMatch=store.etag, Puts=[{"Key": k, "Value": k} for k in keys]
    )
    pages = list(
        kvs.get_paginator("list_keys").paginate(KvsARN=store.arn, PaginationConfig={"PageSize": 5})
    )
    assert [len(p["Items"]) for p in pages] == [5, 5, 5, 5, 4]
    assert [i["Key"] for p in pages for i in p["Items"]] == [*keys, "seed"]
    assert "NextToken" not in pages[-1]


def test_max_results_out_of_range(kvs: Any, store: StoreInfo) -> None:
    with pytest.raises(kvs.exceptions.ValidationException, match="MaxResults"):
        kvs.list_keys(KvsARN=store.arn, MaxResults=51)


def test_unknown_store(kvs: Any) -> None:
    with pytest.raises(kvs.exceptions.ResourceNotFoundException) as info:
        kvs.describe_key_value_store(KvsARN=UNKNOWN_ARN)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(kvs.exceptions.ResourceNotFoundException):
        kvs.put_key(KvsARN=UNKNOWN_ARN, Key="k", Value="v", IfMatch="KV1")


def test_proxies_config_works_too(server: BackgroundServer, store: StoreInfo) -> None:
    # The alternative recipe: an endpoint on a loopback name, the connection sent to the emulator
    # as a proxy (a name outside loopback would be refused: DNS-rebinding protection).
    client = kvs_client(
        "http://kvs.localhost",
        config=Config(proxies={"http": server.url}, retries=NO_RETRIES.retries),
    )
    try:
        assert client.describe_key_value_store(KvsARN=store.arn)["ETag"] == store.etag
    finally:
        client.close()


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_aws_cli_with_http_proxy(server: BackgroundServer, store: StoreInfo) -> None:
    env = dict(os.environ, HTTP_PROXY=server.url, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    # --no-sign-request: AWS CLI v1 signs SigV4A only with awscrt installed; v2 bundles it.
    common = [
        "--endpoint-url",
        "http://kvs.localhost",
        "--region",
        "us-east-1",
        "--no-sign-request",
    ]
    done = subprocess.run(
        ["aws", "cloudfront-keyvaluestore", "put-key", "--kvs-arn", store.arn, "--key", "a b/ü",
         "--value", "v", "--if-match", store.etag, *common],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"ItemCount": 2' in done.stdout


# The CloudFront API's store operations (rest-xml), through boto3's `cloudfront` client.


@pytest.fixture(scope="module")
def cloudfront(server: BackgroundServer) -> Iterator[Any]:
    client = boto3.client(
        "cloudfront",
        endpoint_url=server.url,  # no account prefix for this API
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=NO_RETRIES,
    )
    yield client
    client.close()


def test_cloudfront_store_lifecycle(cloudfront: Any, kvs: Any) -> None:
    name = f"cf-{uuid.uuid4().hex[:10]}"
    created = cloudfront.create_key_value_store(Name=name, Comment="made by boto3")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    store = created["KeyValueStore"]
    assert (store["Name"], store["Comment"], store["Status"]) == (name, "made by boto3", "READY")
    assert created["Location"].endswith(f"/2020-05-31/key-value-store/{store['ARN']}")
    assert created["ETag"].startswith("ETV")
    described = cloudfront.describe_key_value_store(Name=name)
    assert described["KeyValueStore"] == store
    assert described["ETag"] == created["ETag"]
    # The store is usable on the KVS API at once, with its own ETag.
    kvs_etag = kvs.describe_key_value_store(KvsARN=store["ARN"])["ETag"]
    assert kvs_etag.startswith("KV")
    kvs.put_key(KvsARN=store["ARN"], Key="k", Value="v", IfMatch=kvs_etag)

    names = [
        s["Name"]
        for page in cloudfront.get_paginator("list_key_value_stores").paginate(
            PaginationConfig={"PageSize": 1}
        )
        for s in page["KeyValueStoreList"].get("Items", [])
    ]
    assert name in names
    assert names == sorted(names)

    with pytest.raises(cloudfront.exceptions.PreconditionFailed):
        cloudfront.delete_key_value_store(Name=name, IfMatch=kvs_etag)
    cloudfront.delete_key_value_store(Name=name, IfMatch=created["ETag"])
    with pytest.raises(cloudfront.exceptions.EntityNotFound):
        cloudfront.describe_key_value_store(Name=name)


def test_cloudfront_create_errors(cloudfront: Any, store: StoreInfo) -> None:
    with pytest.raises(cloudfront.exceptions.EntityAlreadyExists):
        cloudfront.create_key_value_store(Name=store.name)
    with pytest.raises(cloudfront.exceptions.InvalidArgument, match="is invalid"):
        cloudfront.create_key_value_store(Name="no spaces allowed")
    with pytest.raises(cloudfront.exceptions.UnsupportedOperation, match="cannot read S3"):
        cloudfront.create_key_value_store(
            Name="from-s3", ImportSource={"SourceType": "S3", "SourceARN": "arn:aws:s3:::b/k.json"}
        )


def test_a_foreign_host_is_refused_by_kvs_serve_too(
    server: BackgroundServer, store: StoreInfo
) -> None:
    client = kvs_client(
        "http://kvs.invalid",
        config=Config(proxies={"http": server.url}, retries=NO_RETRIES.retries),
    )
    try:
        with pytest.raises(ClientError) as info:
            client.describe_key_value_store(KvsARN=store.arn)
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    finally:
        client.close()
