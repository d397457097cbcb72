"""The clients docs/kvs.md describes keep working against serve's guarded admin port, without
the inspector's token: boto3 (SigV4A, account-id prefixed Host, with kvs_client's hook and with
the proxy recipe on a loopback name), boto3's CloudFront client, the ``edgesim`` CLI's client and
the AWS CLI (when installed); a client that sends a Host outside the allow-list gets a message
naming the fix. Real sockets on loopback: the admin server as ``edgesim serve`` starts it."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from edgesim.app import EdgeServer
from edgesim.controlplane.boto import kvs_client
from edgesim.controlplane.client import ControlPlaneClient

CONFIG_SERVER = "[server]\nport = 0\nadmin_port = 0\nhttps = false\n"
NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture
async def running(make_server: Any) -> EdgeServer:
    from tests.unit.inspector.conftest import CONFIG

    server: EdgeServer = make_server(CONFIG.replace("[server]\n", CONFIG_SERVER))
    await server.start()
    return server


def _in_thread(fn: Any) -> Any:
    import asyncio

    return asyncio.to_thread(fn)


async def test_boto3_kvs_client_with_localhost_endpoint(running: EdgeServer) -> None:
    arn = running.kvs.describe("site").arn

    def work() -> str:
        client = kvs_client(f"http://localhost:{running.admin_port}", config=NO_RETRIES)
        try:
            etag = client.describe_key_value_store(KvsARN=arn)["ETag"]
            client.put_key(KvsARN=arn, Key="size", Value="L", IfMatch=etag)
            return str(client.get_key(KvsARN=arn, Key="size")["Value"])
        finally:
            client.close()

    assert await _in_thread(work) == "L"


async def test_boto3_with_a_loopback_ip_endpoint(running: EdgeServer) -> None:
    # botocore sends Host: 123456789012.127.0.0.1:<port>: allowed (account-id prefix).
    arn = running.kvs.describe("site").arn

    def work() -> str:
        client = kvs_client(f"http://127.0.0.1:{running.admin_port}", config=NO_RETRIES)
        try:
            return str(client.describe_key_value_store(KvsARN=arn)["ETag"])
        finally:
            client.close()

    assert await _in_thread(work) == running.kvs.describe("site").etag


async def test_the_proxy_recipe_with_a_localhost_name(running: EdgeServer) -> None:
    arn = running.kvs.describe("site").arn
    url = f"http://127.0.0.1:{running.admin_port}"

    def work(endpoint: str) -> Any:
        client = kvs_client(
            endpoint, config=Config(proxies={"http": url}, retries={"max_attempts": 1})
        )
        try:
            return client.describe_key_value_store(KvsARN=arn)["ETag"]
        finally:
            client.close()

    assert (
        await _in_thread(lambda: work("http://kvs.localhost")) == running.kvs.describe("site").etag
    )
    # Another name is refused with the reason and the fix.
    with pytest.raises(ClientError) as info:
        await _in_thread(lambda: work("http://kvs.invalid"))
    assert "ForbiddenHost" in str(info.value)
    assert "admin_allowed_hosts" in str(info.value)


async def test_boto3_cloudfront_client(running: EdgeServer) -> None:
    def work() -> str:
        client = boto3.client(
            "cloudfront",
            endpoint_url=f"http://127.0.0.1:{running.admin_port}",
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="y",
            config=NO_RETRIES,
        )
        try:
            made = client.create_key_value_store(Name="made-by-boto3")
            return str(made["KeyValueStore"]["Name"])
        finally:
            client.close()

    assert await _in_thread(work) == "made-by-boto3"


async def test_the_edgesim_cli_client(running: EdgeServer) -> None:
    def work() -> dict[str, int]:
        client = ControlPlaneClient(f"http://127.0.0.1:{running.admin_port}")
        arn = client.store("site")["arn"]
        client.put_key(arn, "size", "M", if_match=client.etag(arn))
        return client.invalidate_cache(["/*"])

    assert await _in_thread(work) == {"/*": 0}
    assert running.kvs.export("site")["size"] == "M"


async def test_the_edgesim_cli_client_through_localhost(running: EdgeServer) -> None:
    def work() -> list[dict[str, Any]]:
        return ControlPlaneClient(f"http://localhost:{running.admin_port}").list_stores()

    assert [s["name"] for s in await _in_thread(work)] == ["site"]


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
async def test_aws_cli_with_http_proxy_and_a_localhost_name(running: EdgeServer) -> None:
    info = running.kvs.describe("site")
    env = dict(os.environ, HTTP_PROXY=f"http://127.0.0.1:{running.admin_port}",
               AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")  # fmt: skip
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    common = ["--endpoint-url", "http://kvs.localhost", "--region", "us-east-1",
              "--no-sign-request"]  # fmt: skip

    def work() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["aws", "cloudfront-keyvaluestore", "list-keys", "--kvs-arn", info.arn, *common],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    done = await _in_thread(work)
    assert done.returncode == 0, done.stderr
    assert "colour" in done.stdout
