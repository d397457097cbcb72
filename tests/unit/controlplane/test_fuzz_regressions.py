"""Regressions found by tests/reliability/test_fuzz_kvs_api.py: requests every API on the admin
port must answer in its own error format (or serve), not with aiohttp's plain 404 or a traceback."""

from __future__ import annotations

import logging
import socket
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from edgesim.controlplane.app import BackgroundServer
from edgesim.kvs.service import KvsService


async def test_an_endpoint_url_with_a_path_reaches_the_kvs_api(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    # docs/kvs.md: http://localhost:8081/prefix works as with AWS; the route used to miss it.
    arn = quote(service.create_store("s").arn, safe="")
    for prefix in ("/prefix", "/a/b"):
        response = await client.get(f"{prefix}/key-value-stores/{arn}/keys")
        assert response.status == 200, prefix
        assert await response.json() == {"Items": []}


async def test_a_path_prefix_does_not_take_the_other_apis_paths(
    client: TestClient[Any, Any], service: KvsService
) -> None:
    # A store may be named "key-value-stores": its CloudFront and edgesim paths stay theirs.
    service.create_store("key-value-stores")
    response = await client.get("/2020-05-31/key-value-store/key-value-stores")
    assert response.content_type == "text/xml"
    assert response.status == 200
    response = await client.get("/__edgesim/kvs/stores/key-value-stores/status")
    assert (await response.json())["store"]["name"] == "key-value-stores"


@pytest.mark.parametrize("ref", ["", "%0A", "a%0Ab"])
async def test_odd_store_refs_get_the_store_apis_errors(
    client: TestClient[Any, Any], ref: str
) -> None:
    response = await client.get(f"/__edgesim/kvs/stores/{ref}")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "ResourceNotFoundException"


@pytest.mark.parametrize("name", ["", "%0A"])
async def test_odd_store_names_get_cloudfronts_errors(
    client: TestClient[Any, Any], name: str
) -> None:
    response = await client.get(f"/2020-05-31/key-value-store/{name}")
    assert response.status == 404
    assert "<Code>EntityNotFound</Code>" in await response.text()


async def test_a_newline_in_a_kvs_path_label_gets_the_kvs_apis_error(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/key-value-stores/arn%0A/keys")
    assert response.status == 400
    assert response.headers["x-amzn-ErrorType"] == "ValidationException"


def test_a_request_the_parser_refuses_logs_one_line_not_a_traceback(
    service: KvsService, caplog: pytest.LogCaptureFixture
) -> None:
    # edgesim kvs serve (start_admin_site) with a request line over aiohttp's 8,190 bytes.
    with (
        BackgroundServer(service) as server,
        caplog.at_level(logging.DEBUG, "aiohttp.server"),
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock,
    ):
        sock.sendall(b"GET /key-value-stores/" + b"x" * 9000 + b" HTTP/1.1\r\nHost: h\r\n\r\n")
        answer = sock.recv(4096)
    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    records = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert records, "the refusal is still logged"
    assert all(r.exc_info is None and r.levelno < logging.ERROR for r in records)
    assert "LineTooLong" in records[0].getMessage()
