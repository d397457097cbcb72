"""`edgesim kvs …` end to end against a control plane on a loopback port."""

from __future__ import annotations

import argparse
import inspect
import json
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import edgesim.cli
from edgesim import kvs_cli
from edgesim.controlplane import BackgroundServer
from edgesim.controlplane.client import ControlPlaneClient
from edgesim.kvs.clock import VirtualClock
from edgesim.kvs.propagation import FixedLag
from edgesim.kvs.service import KvsService

CLI_HAS_KVS = "kvs_cli" in inspect.getsource(edgesim.cli)
# How a user starts edgesim; before cli.py registers `kvs`, an equivalent entry point.
ENTRY = (
    [sys.executable, "-m", "edgesim"]
    if CLI_HAS_KVS
    else [
        sys.executable,
        "-c",
        "import argparse, sys; from edgesim import kvs_cli; p = argparse.ArgumentParser();"
        "kvs_cli.register(p.add_subparsers(required=True)); a = p.parse_args();"
        "sys.exit(a.handler(a))",
    ]
)


def main(argv: list[str]) -> int:
    if CLI_HAS_KVS:
        return edgesim.cli.main(argv)
    parser = argparse.ArgumentParser(prog="edgesim")
    kvs_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with KvsService() as service, BackgroundServer(service) as srv:
        yield srv


class Cli:
    def __init__(self, endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.endpoint, self.capsys = endpoint, capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        code = main(["kvs", argv[0], "--endpoint", self.endpoint, *argv[1:]])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *argv: str) -> Any:
        code, out, err = self(*argv, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(server: BackgroundServer, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(server.url, capsys)


@pytest.fixture
def name() -> str:
    return f"s-{uuid.uuid4().hex[:10]}"


def import_file(tmp_path: Path, items: dict[str, str], filename: str = "data.json") -> str:
    path = tmp_path / filename
    path.write_text(json.dumps({"data": [{"key": k, "value": v} for k, v in items.items()]}))
    return str(path)


def test_create_list_describe(cli: Cli, name: str, tmp_path: Path) -> None:
    created = cli.json(
        "create", name, "--comment", "hi", "--import", import_file(tmp_path, {"a": "1"})
    )
    assert (created["name"], created["comment"], created["item_count"]) == (name, "hi", 1)
    stores = cli.json("list")
    assert isinstance(stores, list)
    mine = [s for s in stores if s["name"] == name]
    assert mine == [created]
    assert {"name", "id", "arn"} <= set(mine[0])
    code, out, _ = cli("describe", created["arn"])
    assert code == 0
    assert f"name: {name}\n" in out
    code, out, _ = cli("list")
    assert code == 0
    assert out.startswith("NAME")
    assert name in out


def test_key_commands(cli: Cli, name: str) -> None:
    cli.json("create", name)
    key = "päth/with space"
    written = cli.json("put", name, key, "välue")
    assert written["item_count"] == 1
    code, out, _ = cli("get", name, key)
    assert (code, out) == (0, "välue\n")
    assert cli.json("get", name, key) == {
        "key": key,
        "value": "välue",
        "item_count": 1,
        "total_size": written["total_size"],
    }
    code, out, _ = cli("delete", name, key)
    assert code == 0
    assert out.startswith('deleted "päth/with space"; store now KV')
    code, _, err = cli("get", name, key)
    assert code == 1
    assert "ResourceNotFoundException" in err


def test_stale_if_match_is_a_conflict(cli: Cli, name: str) -> None:
    etag = cli.json("create", name)["etag"]
    cli.json("put", name, "k", "1", "--if-match", etag)
    code, _, err = cli("put", name, "k", "2", "--if-match", etag)
    assert code == kvs_cli.EXIT_CONFLICT
    assert "ConflictException" in err


def test_bad_input_exits_2(cli: Cli, name: str, tmp_path: Path) -> None:
    cli.json("create", name)
    code, _, err = cli("put", name, "k", "v" * 1025)
    assert code == 2
    assert "1025 bytes" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"key": "a"}]}')
    code, _, err = cli("import", name, str(bad))
    assert code == 2
    assert f"{bad}: data[0]" in err
    code, _, err = cli("delete", name)
    assert code == 2
    assert "--store" in err
    code, _, err = cli("create", "not a valid name")
    assert code == 2
    assert "ValidationException" in err


def test_unknown_store(cli: Cli) -> None:
    code, _, err = cli("describe", "no-such-store")
    assert code == 1
    assert "ResourceNotFoundException: no key value store 'no-such-store'" in err


def test_unreachable_endpoint_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    code = main(["kvs", "list", "--endpoint", endpoint])
    err = capsys.readouterr().err
    assert code == 1
    assert f"cannot reach the admin endpoint at {endpoint}: " in err


def test_import_export_in_batches(cli: Cli, name: str, tmp_path: Path) -> None:
    cli.json("create", name)
    items = {f"key/{i:03d}": f"value {i}" for i in range(120)}
    reply = cli.json("import", name, import_file(tmp_path, items))
    assert reply["batches"] == 3
    out = tmp_path / "out.json"
    code, _, _ = cli("export", name, "-o", str(out))
    assert code == 0
    assert json.loads(out.read_text()) == {
        "data": [{"key": k, "value": v} for k, v in items.items()]
    }
    code, stdout, _ = cli("export", name)
    assert json.loads(stdout) == json.loads(out.read_text())


def test_import_create(cli: Cli, name: str, tmp_path: Path) -> None:
    code, _, err = cli("import", name, import_file(tmp_path, {"a": "1"}))
    assert code == 1
    assert "ResourceNotFoundException" in err
    reply = cli.json("import", name, import_file(tmp_path, {"a": "1"}), "--create")
    assert reply["batches"] == 0
    assert cli.json("get", name, "a")["value"] == "1"


def test_diff(cli: Cli, name: str, tmp_path: Path) -> None:
    cli.json(
        "create", name, "--import", import_file(tmp_path, {"same": "1", "old": "x", "gone": "g"})
    )
    desired = import_file(tmp_path, {"same": "1", "old": "y", "new": "n"}, "desired.json")
    code, out, _ = cli("diff", name, desired)
    assert code == 0
    assert '  + "new"\n  ~ "old"\n  - "gone"\n' in out
    assert cli("diff", name, desired, "--exit-code")[0] == 1
    plan = cli.json("diff", name, desired)
    assert plan == {
        "add": {"new": "n"},
        "change": {"old": {"from": "x", "to": "y"}},
        "delete": ["gone"],
        "keep_extra": [],
        "unchanged": 1,
    }


def test_apply_dry_run_then_apply_then_prune(cli: Cli, name: str, tmp_path: Path) -> None:
    live = {f"k{i:03d}": "old" for i in range(80)}
    cli.json("create", name, "--import", import_file(tmp_path, live))
    desired_items = {f"k{i:03d}": "new" for i in range(30, 130)}  # 50 changed, 50 new, 30 extra
    desired = import_file(tmp_path, desired_items, "desired.json")

    code, out, _ = cli("apply", name, desired, "--dry-run")
    assert code == 0
    assert "50 to add, 50 to change, 0 to delete, 0 unchanged; 30 not in the file kept" in out
    assert "dry run: 2 UpdateKeys batch(es) not sent" in out
    assert cli.json("describe", name)["item_count"] == 80

    code, out, _ = cli("apply", name, desired)
    assert code == 0
    assert "applied in 2 UpdateKeys batch(es)" in out
    assert len(_export(cli, name)) == 130

    reply = cli.json("apply", name, desired, "--prune")
    assert reply["applied"] is True
    assert reply["batches"] == 1
    assert reply["plan"]["delete"] == [f"k{i:03d}" for i in range(30)]
    assert _export(cli, name) == desired_items
    assert reply["etag"] == cli.json("describe", name)["etag"]

    code, out, _ = cli("apply", name, desired, "--prune")
    assert code == 0
    assert out.endswith("nothing to do\n")


def _export(cli: Cli, name: str) -> dict[str, str]:
    code, out, _ = cli("export", name)
    assert code == 0
    return {item["key"]: item["value"] for item in json.loads(out)["data"]}


def test_apply_refuses_to_overwrite_a_concurrent_write(
    cli: Cli, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.json("create", name, "--import", import_file(tmp_path, {"a": "1"}))
    real_export = ControlPlaneClient.export

    def export_then_someone_writes(self: ControlPlaneClient, ref: str) -> dict[str, str]:
        items = real_export(self, ref)
        store = self.store(ref)
        self.put_key(store["arn"], "a", "theirs", if_match=store["etag"])
        return items

    monkeypatch.setattr(ControlPlaneClient, "export", export_then_someone_writes)
    code, _, err = cli("apply", name, import_file(tmp_path, {"a": "mine"}, "d.json"))
    assert code == kvs_cli.EXIT_CONFLICT
    assert "changed since it was read; re-run" in err
    monkeypatch.undo()
    assert cli.json("get", name, "a")["value"] == "theirs"


def test_delete_store(cli: Cli, name: str) -> None:
    cli.json("create", name)
    code, out, _ = cli("delete", name, "--store")
    assert code == 0
    assert out.startswith(f"deleted store {name}")
    assert cli("describe", name)[0] == 1


def test_status_shows_each_pop(capsys: pytest.CaptureFixture[str]) -> None:
    clock = VirtualClock()
    with (
        KvsService(clock=clock, pops=("IAD", "FRA"), lag=FixedLag(5.0)) as service,
        BackgroundServer(service) as srv,
    ):
        cli = Cli(srv.url, capsys)
        cli.json("create", "lagged")
        cli.json("put", "lagged", "k", "v")
        status = cli.json("status", "lagged")
        assert [
            (p["pop"], p["version"], p["in_sync"], p["next_in_seconds"]) for p in status["pops"]
        ] == [
            ("IAD", 1, False, 5.0),
            ("FRA", 1, False, 5.0),
        ]
        code, out, _ = cli("status", "lagged")
        assert code == 0
        assert re.search(r"^IAD\s+1\s+KV\w+\s+no\s+5\.000s\s+1$", out, re.M)
        clock.advance(5.0)
        code, out, _ = cli("status", "lagged")
        assert re.search(r"^FRA\s+2\s+KV\w+\s+yes\s+-\s+0$", out, re.M)


def _start_serve(*argv: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*ENTRY, "kvs", "serve", "--port", "0", *argv],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    banner = proc.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", banner)
    if found is None:
        proc.kill()
        proc.wait()
        proc.stderr.close()
        pytest.fail(f"no banner from `edgesim kvs serve`: {banner!r}")
    return proc, found.group(0)


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=10)
    assert proc.stderr is not None
    proc.stderr.close()
    return code


def test_serve_persists_in_the_state_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    proc, url = _start_serve("--state-dir", str(state), "--pops", "iad,fra", "--lag-ms", "0")
    try:
        cli = Cli(url, capsys)
        cli.json("create", "kept")
        cli.json("put", "kept", "k", "v")
        assert [p["pop"] for p in cli.json("status", "kept")["pops"]] == ["IAD", "FRA"]
    finally:
        assert _stop(proc) == 0
    assert (state / kvs_cli.STATE_FILE).exists()
    proc, url = _start_serve("--state-dir", str(state))
    try:
        assert Cli(url, capsys).json("get", "kept", "k")["value"] == "v"
    finally:
        assert _stop(proc) == 0


def test_serve_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        code = main(["kvs", "serve", "--ephemeral", "--port", str(port)])
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_serve_rejects_bad_pops(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kvs", "serve", "--ephemeral", "--pops", "IAD,,FRA"]) == 2
    assert "--pops" in capsys.readouterr().err


def test_apply_over_the_store_limit_sends_nothing(cli: Cli, name: str, tmp_path: Path) -> None:
    # 3 MB live, then 3 MB of other keys applied without --prune: 6 MB, over the 5 MB limit.
    live = {f"a{i:05d}": "v" * 1000 for i in range(3000)}
    more = {f"b{i:05d}": "w" * 1000 for i in range(3000)}
    assert cli("import", name, import_file(tmp_path, live), "--create")[0] == 0
    code, _, err = cli("apply", name, import_file(tmp_path, more, "more.json"))
    assert code == 2
    assert "over the 5242880-byte limit; nothing was sent" in err
    assert len(cli.json("export", name)["data"]) == 3000


def test_a_server_that_is_not_edgesim_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    import http.server
    import threading

    class Html(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>hello</html>")

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Html) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            code = main(["kvs", "list", "--endpoint", f"http://127.0.0.1:{httpd.server_port}"])
        finally:
            httpd.shutdown()
            thread.join()
    assert code == 1
    assert "is this an edgesim admin endpoint?" in capsys.readouterr().err


def test_state_dir_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    from edgesim.errors import KvsError
    from edgesim.kvs.service import KvsService

    blocker = tmp_path / "state"
    blocker.write_text("not a directory")
    with pytest.raises(KvsError, match="cannot create the state directory"):
        KvsService(path=blocker / "kvs.sqlite3")
