"""edgesim.controlplane.boto: the boto3 client for the local control plane, and its endpoint hook,
without a server (requests are stopped in ``before-send``, after the hook has run)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from botocore.config import Config

from edgesim.controlplane.boto import endpoint_rewriter, kvs_client

ARN = "arn:aws:cloudfront::123456789012:key-value-store/00000000-0000-0000-0000-000000000000"


def test_rewriter_drops_the_account_label() -> None:
    hook = endpoint_rewriter("http://localhost:8081")
    request = SimpleNamespace(
        url="http://123456789012.localhost:8081/key-value-stores/arn%3Ax/keys?MaxResults=5"
    )
    hook(request=request)
    assert request.url == "http://localhost:8081/key-value-stores/arn%3Ax/keys?MaxResults=5"


def test_rewriter_keeps_an_endpoint_path_and_ignores_other_hosts() -> None:
    hook = endpoint_rewriter("http://127.0.0.1:9000/kvs")
    request = SimpleNamespace(url="http://123456789012.127.0.0.1:9000/kvs/key-value-stores/a")
    hook(request=request)
    assert request.url == "http://127.0.0.1:9000/kvs/key-value-stores/a"
    other = SimpleNamespace(url="http://api.example.com:9000/x")
    hook(request=other)
    assert other.url == "http://api.example.com:9000/x"


class Stopped(Exception):
    """Raised from a ``before-send`` handler: the request is seen, never sent."""


def first_request(client: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def stop(request: Any, **_: Any) -> None:
        seen["url"] = request.url
        seen["authorization"] = request.headers["Authorization"].decode()
        raise Stopped

    client.meta.events.register("before-send", stop)
    with pytest.raises(Stopped):
        client.describe_key_value_store(KvsARN=ARN)
    return seen


NO_RETRIES = Config(retries={"max_attempts": 1, "mode": "standard"})


def test_kvs_client_sends_to_the_endpoint_itself_not_the_account_subdomain() -> None:
    client = kvs_client("http://localhost:8081", config=NO_RETRIES)
    seen = first_request(client)
    assert seen["url"].startswith("http://localhost:8081/key-value-stores/arn%3Aaws%3Acloudfront")
    client.close()


def test_kvs_client_signs_with_dummy_credentials_in_us_east_1_by_default() -> None:
    client = kvs_client("http://localhost:8081", config=NO_RETRIES)
    assert client.meta.region_name == "us-east-1"
    assert "Credential=EDGESIMLOCAL/" in first_request(client)["authorization"]
    client.close()


def test_kvs_client_keeps_the_credentials_and_region_it_is_given() -> None:
    client = kvs_client(
        "http://localhost:8081",
        config=NO_RETRIES,
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="secret",
        region_name="eu-west-1",
    )
    assert client.meta.region_name == "eu-west-1"
    assert "Credential=AKIAEXAMPLE/" in first_request(client)["authorization"]
    client.close()
