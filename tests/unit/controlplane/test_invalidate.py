"""edgesim.controlplane.invalidate: ``edgesim cache invalidate``'s request, printout and exit
codes, against a stand-in for serve's admin port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from edgesim.controlplane.endpoint import Endpoint
from edgesim.controlplane.invalidate import invalidate
from tests.admin_stub import Admin, running_admin


@pytest.fixture
def admin() -> Iterator[Admin]:
    with running_admin() as state:
        yield state


def test_the_paths_are_posted_and_what_was_removed_is_printed(
    admin: Admin, capsys: pytest.CaptureFixture[str]
) -> None:
    admin.reply = {"invalidated": {"/index.html": 2, "/images/*": 0}}
    assert invalidate(admin.url + "/", ["/index.html", "/images/*"]) == 0
    assert admin.received == [("/cache/invalidations", {"paths": ["/index.html", "/images/*"]})]
    assert capsys.readouterr().out.splitlines() == [
        "/index.html: 2 object(s) removed",
        "/images/*: 0 object(s) removed",
    ]


def test_proxy_settings_in_the_environment_are_ignored(
    admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The admin endpoint is local: a proxy from the environment must not see the request.
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    admin.reply = {"invalidated": {"/x": 1}}
    assert invalidate(admin.url, ["/x"]) == 0
    assert admin.received == [("/cache/invalidations", {"paths": ["/x"]})]


def test_paths_refused_by_serve_exit_2_with_its_message(
    admin: Admin, capsys: pytest.CaptureFixture[str]
) -> None:
    admin.status, admin.reply = 400, {"message": "'*' may only end a path"}
    assert invalidate(admin.url, ["/a*b"]) == 2
    err = capsys.readouterr().err
    assert f"edgesim: {admin.url}/cache/invalidations: 400 '*' may only end a path" in err


def test_a_failing_serve_exits_1(admin: Admin, capsys: pytest.CaptureFixture[str]) -> None:
    admin.status, admin.reply = 500, {"message": "boom"}
    assert invalidate(admin.url, ["/x"]) == 1
    assert "cache/invalidations: 500 boom" in capsys.readouterr().err


def test_an_unreachable_endpoint_exits_1_like_the_kvs_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    assert invalidate(Endpoint(url, "$EDGESIM_ENDPOINT"), ["/x"]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach the admin endpoint at {url} (from $EDGESIM_ENDPOINT): " in err
