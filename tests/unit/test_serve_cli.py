"""edgesim.serve_cli: ``edgesim serve``'s refusals and overrides, and ``edgesim cache invalidate``
against a stand-in admin endpoint (serving itself: tests/e2e)."""

from __future__ import annotations

import argparse
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from edgesim.cli import main
from edgesim.demo import demo_config
from edgesim.serve_cli import _with_overrides


def test_serve_with_a_missing_config_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.toml"
    assert main(["serve", "--config", str(missing)]) == 2
    assert f"--config {missing}: no such file" in capsys.readouterr().err


def overrides(**given: Any) -> argparse.Namespace:
    return argparse.Namespace(**{"ephemeral": False, "host": None, **given})


def test_flags_override_only_the_server_settings_they_name() -> None:
    dist = demo_config("http://o", port=1, admin_port=2, ephemeral=False)
    assert _with_overrides(dist, overrides()) == dist
    changed = _with_overrides(dist, overrides(ephemeral=True, host="0.0.0.0"))
    assert (changed.server.ephemeral, changed.server.host) == (True, "0.0.0.0")
    assert (changed.server.port, changed.server.admin_port) == (1, 2)
    assert changed.behaviors == dist.behaviors
    assert not dist.server.ephemeral  # the loaded distribution is left alone


@dataclass
class Admin:
    """A stand-in for serve's admin port: records invalidation requests, answers ``reply``."""

    url: str = ""
    status: int = 200
    reply: dict[str, Any] = field(default_factory=dict)
    received: list[tuple[str, Any]] = field(default_factory=list)


@pytest.fixture
def admin() -> Iterator[Admin]:
    state = Admin()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            state.received.append((self.path, json.loads(self.rfile.read(length))))
            body = json.dumps(state.reply).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        state.url = f"http://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield state
        server.shutdown()
        thread.join()


def test_invalidate_posts_the_paths_and_prints_what_was_removed(
    admin: Admin, capsys: pytest.CaptureFixture[str]
) -> None:
    admin.reply = {"invalidated": {"/index.html": 2, "/images/*": 0}}
    code = main(["cache", "invalidate", "/index.html", "/images/*", "--endpoint", admin.url + "/"])
    assert code == 0
    assert admin.received == [("/cache/invalidations", {"paths": ["/index.html", "/images/*"]})]
    assert capsys.readouterr().out.splitlines() == [
        "/index.html: 2 object(s) removed",
        "/images/*: 0 object(s) removed",
    ]


def test_invalidate_refused_by_serve_exits_2_with_its_answer(
    admin: Admin, capsys: pytest.CaptureFixture[str]
) -> None:
    admin.status, admin.reply = 400, {"message": "'*' may only end a path"}
    assert main(["cache", "invalidate", "/a*b", "--endpoint", admin.url]) == 2
    err = capsys.readouterr().err
    assert f"{admin.url}/cache/invalidations: 400" in err
    assert "may only end a path" in err


def test_invalidate_without_a_running_serve_exits_2_naming_the_endpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cache", "invalidate", "/x", "--endpoint", "http://127.0.0.1:9"]) == 2
    assert "cannot reach the admin endpoint http://127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.xfail(
    strict=True,
    reason="bug: cache invalidate uses urllib.request.urlopen, which sends the local admin "
    "request to $http_proxy (the kvs client ignores proxies for the same reason)",
)
def test_invalidate_ignores_proxy_settings_in_the_environment(admin: Admin) -> None:
    # A fresh process: urllib builds its default opener (and reads the proxies) once.
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["http_proxy"] = env["HTTP_PROXY"] = "http://127.0.0.1:9"
    done = subprocess.run(
        [sys.executable, "-m", "edgesim", "cache", "invalidate", "/x", "--endpoint", admin.url],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stderr
