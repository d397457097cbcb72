"""edgesim.controlplane.client: the ``edgesim kvs`` commands' HTTP client. Error decoding without a
server; then against the real admin app on a loopback port, and against servers that are not
edgesim's."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from edgesim.controlplane.app import BackgroundServer
from edgesim.controlplane.client import (
    ControlPlaneClient,
    ControlPlaneError,
    EndpointUnreachable,
    _error,
)
from edgesim.controlplane.plan import Batch
from edgesim.kvs.service import KvsService


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


@pytest.fixture
def service() -> Iterator[KvsService]:
    with KvsService() as svc:
        yield svc


@pytest.fixture
def control_plane(service: KvsService) -> Iterator[ControlPlaneClient]:
    with BackgroundServer(service) as server:
        yield ControlPlaneClient(server.url + "/", timeout=10)


def test_store_and_key_round_trip(control_plane: ControlPlaneClient) -> None:
    store = control_plane.create_store("s", comment="c", items={"a": "1"})
    assert (store["name"], store["comment"], store["item_count"]) == ("s", "c", 1)
    assert control_plane.store("s") == control_plane.store(store["arn"]) == store
    assert [s["name"] for s in control_plane.list_stores()] == ["s"]
    arn, etag = store["arn"], control_plane.etag(store["arn"])
    assert etag == store["etag"]
    reply = control_plane.put_key(arn, "b", "2", if_match=etag)
    assert (reply.status, reply.body) == (200, {"ItemCount": 2, "TotalSizeInBytes": 4})
    assert control_plane.get_key(arn, "b")["Value"] == "2"
    reply = control_plane.update_keys(
        arn, Batch(puts=[("c", "3")], deletes=["a"]), if_match=reply.etag
    )
    reply = control_plane.delete_key(arn, "b", if_match=reply.etag or "")
    assert control_plane.export("s") == {"c": "3"}
    control_plane.delete_store("s", if_match=reply.etag)
    assert control_plane.list_stores() == []


@pytest.mark.parametrize("key", ["a/b", "100%", "with space", "q?x=1&y", "ünï"])
def test_keys_with_reserved_characters_reach_the_store_intact(
    control_plane: ControlPlaneClient, service: KvsService, key: str
) -> None:
    store = control_plane.create_store("s")
    control_plane.put_key(store["arn"], key, "v", if_match=store["etag"])
    assert service.export("s") == {key: "v"}
    assert control_plane.get_key(store["arn"], key)["Key"] == key


def test_iter_keys_follows_next_token_across_pages(
    control_plane: ControlPlaneClient, service: KvsService
) -> None:
    items = {f"k{i:02d}": str(i) for i in range(7)}
    arn = service.create_store("s", items=items).arn
    assert dict(control_plane.iter_keys(arn, page_size=3)) == items
    assert list(control_plane.iter_keys(service.create_store("empty").arn)) == []


def test_refusals_carry_the_aws_code_and_status(
    control_plane: ControlPlaneClient, service: KvsService
) -> None:
    info = service.create_store("s")
    service.put_key("s", "k", "v", if_match=info.etag)
    with pytest.raises(ControlPlaneError) as conflict:
        control_plane.put_key(info.arn, "k", "w", if_match=info.etag)
    assert (conflict.value.code, conflict.value.status) == ("ConflictException", 409)
    assert str(conflict.value).startswith("ConflictException: If-Match")
    with pytest.raises(ControlPlaneError) as missing:
        control_plane.store("nope")
    assert (missing.value.code, missing.value.status) == ("ResourceNotFoundException", 404)


def test_proxy_settings_in_the_environment_are_ignored(
    control_plane: ControlPlaneClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert ControlPlaneClient(control_plane.endpoint, timeout=10).list_stores() == []


class _HtmlHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>a web server</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_server_that_answers_html_is_not_taken_for_a_control_plane() -> None:
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HtmlHandler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            client = ControlPlaneClient(f"http://127.0.0.1:{server.server_port}", timeout=5)
            with pytest.raises(EndpointUnreachable, match="the answer is not JSON"):
                client.list_stores()
        finally:
            server.shutdown()
            thread.join()


def test_a_server_that_does_not_speak_http_is_named() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def answer_garbage() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

        thread = threading.Thread(target=answer_garbage, daemon=True)
        thread.start()
        client = ControlPlaneClient(f"http://127.0.0.1:{port}", timeout=5)
        with pytest.raises(EndpointUnreachable, match=f"127.0.0.1:{port}.*does not speak HTTP"):
            client.list_stores()
        thread.join()


def test_the_client_and_plan_do_not_import_the_server_side() -> None:
    # `edgesim kvs get/put/...` start a fresh process each time: aiohttp would cost start-up time.
    code = (
        "import sys, edgesim.controlplane.client, edgesim.controlplane.plan; "
        "print(sorted(m for m in ('aiohttp', 'edgesim.controlplane.app') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
