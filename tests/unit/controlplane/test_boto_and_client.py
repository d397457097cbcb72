"""The boto3 endpoint hook and the CLI's HTTP client, without a server."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest

from edgesim.controlplane.boto import endpoint_rewriter
from edgesim.controlplane.client import (
    ControlPlaneClient,
    EndpointUnreachable,
    _error,
)


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


def test_wire_errors_read_the_error_type_header() -> None:
    error = _error(409, "ConflictException:http://internal", b'{"Message": "stale"}')
    assert (error.code, error.status, error.message) == ("ConflictException", 409, "stale")


def test_store_api_errors_read_the_body() -> None:
    error = _error(404, None, b'{"error": {"code": "ResourceNotFoundException", "message": "no"}}')
    assert (error.code, error.message) == ("ResourceNotFoundException", "no")


def test_unexpected_error_bodies_keep_the_status() -> None:
    error = _error(502, None, b"<html>Bad gateway</html>")
    assert error.code == "HTTP502"
    assert "Bad gateway" in error.message


def test_unreachable_endpoint_is_named() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ControlPlaneClient(f"http://127.0.0.1:{port}", timeout=5)
    with pytest.raises(EndpointUnreachable, match=f"http://127.0.0.1:{port}"):
        client.list_stores()
