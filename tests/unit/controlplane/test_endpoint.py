"""edgesim.controlplane.endpoint: where every admin client finds the admin endpoint — the
flag, then --config, then $EDGESIM_ENDPOINT (or its older name), then ./edgesim.toml, then the
default — and the exit codes they share."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from edgesim.controlplane.endpoint import (
    DEFAULT_ENDPOINT,
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_UNREACHABLE,
    Endpoint,
    add_endpoint_arguments,
    endpoint_of,
    resolve_endpoint,
)
from edgesim.errors import InputError


def config(directory: Path, server: str = "", name: str = "edgesim.toml") -> Path:
    path = directory / name
    path.write_text(
        f'[server]\n{server}\n\n[[origins]]\nid = "web"\nurl = "http://127.0.0.1:3000"\n\n'
        '[default_behavior]\norigin = "web"\n'
    )
    return path


def test_nothing_set_is_the_default(tmp_path: Path) -> None:
    assert resolve_endpoint(environ={}, cwd=tmp_path) == Endpoint(DEFAULT_ENDPOINT, "the default")


def test_the_flag_wins_over_everything(tmp_path: Path) -> None:
    config(tmp_path, "admin_port = 9000")
    got = resolve_endpoint(
        "http://127.0.0.1:7000/",
        config=tmp_path / "edgesim.toml",
        environ={"EDGESIM_ENDPOINT": "http://127.0.0.1:8000"},
        cwd=tmp_path,
    )
    assert got == Endpoint("http://127.0.0.1:7000", "--endpoint")


def test_the_environment_wins_over_the_config_in_the_working_directory(tmp_path: Path) -> None:
    config(tmp_path, "admin_port = 9000")
    env = {"EDGESIM_ENDPOINT": "http://127.0.0.1:8000"}
    assert resolve_endpoint(environ=env, cwd=tmp_path).url == "http://127.0.0.1:8000"
    assert resolve_endpoint(environ={}, cwd=tmp_path).url == "http://127.0.0.1:9000"


def test_the_older_variable_name_still_works_and_the_new_one_wins() -> None:
    old = {"EDGESIM_KVS_ENDPOINT": "http://127.0.0.1:8001"}
    got = resolve_endpoint(environ=old, cwd=Path("/nonexistent"))
    assert got == Endpoint("http://127.0.0.1:8001", "$EDGESIM_KVS_ENDPOINT")
    both = {**old, "EDGESIM_ENDPOINT": "http://127.0.0.1:8002"}
    assert resolve_endpoint(environ=both, cwd=Path("/nonexistent")).source == "$EDGESIM_ENDPOINT"


def test_a_config_given_on_the_command_line_wins_over_the_environment(tmp_path: Path) -> None:
    path = config(tmp_path, 'host = "127.0.0.2"\nadmin_port = 9001', name="other.toml")
    got = resolve_endpoint(config=path, environ={"EDGESIM_ENDPOINT": "http://127.0.0.1:8000"})
    assert got == Endpoint("http://127.0.0.2:9001", f"--config {path} [server] admin_port")


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:9002"),  # bound to every address: reached on loopback
        ("::", "http://[::1]:9002"),
        ("::1", "http://[::1]:9002"),
        ("localhost", "http://localhost:9002"),
    ],
)
def test_the_configs_host_is_made_reachable(tmp_path: Path, host: str, url: str) -> None:
    config(tmp_path, f'host = "{host}"\nadmin_port = 9002')
    assert resolve_endpoint(environ={}, cwd=tmp_path).url == url


def test_a_config_without_a_server_table_means_the_default_admin_port(tmp_path: Path) -> None:
    config(tmp_path)
    got = resolve_endpoint(environ={}, cwd=tmp_path)
    assert got == Endpoint(DEFAULT_ENDPOINT, "./edgesim.toml [server] admin_port")


def test_admin_port_0_cannot_be_known_in_advance(tmp_path: Path) -> None:
    config(tmp_path, "admin_port = 0")
    with pytest.raises(InputError, match=r"admin_port is 0 .*pass --endpoint"):
        resolve_endpoint(environ={}, cwd=tmp_path)


def test_a_missing_or_broken_config_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"--config nope\.toml: no such file"):
        resolve_endpoint(config="nope.toml", environ={})
    (tmp_path / "edgesim.toml").write_text("[server\n")
    with pytest.raises(InputError, match=r"invalid TOML(.|\n)*pass --endpoint URL to skip it"):
        resolve_endpoint(environ={}, cwd=tmp_path)


@pytest.mark.parametrize("url", ["127.0.0.1:8081", "ftp://host"])
def test_an_endpoint_that_is_not_an_http_url_is_refused(url: str) -> None:
    with pytest.raises(InputError, match=r"--endpoint .*expected an http\(s\) URL"):
        resolve_endpoint(url)
    with pytest.raises(InputError, match=r"\$EDGESIM_ENDPOINT .*expected an http\(s\) URL"):
        resolve_endpoint(environ={"EDGESIM_ENDPOINT": url})


def test_the_arguments_resolve_through_endpoint_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parser = argparse.ArgumentParser()
    add_endpoint_arguments(parser)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDGESIM_KVS_ENDPOINT", raising=False)
    monkeypatch.setenv("EDGESIM_ENDPOINT", "http://127.0.0.1:8003")
    assert endpoint_of(parser.parse_args([])).url == "http://127.0.0.1:8003"
    path = config(tmp_path, "admin_port = 9003", name="c.toml")
    assert endpoint_of(parser.parse_args(["--config", str(path)])).url == "http://127.0.0.1:9003"
    assert endpoint_of(argparse.Namespace()).url == "http://127.0.0.1:8003"


def test_one_set_of_exit_codes() -> None:
    assert (EXIT_UNREACHABLE, EXIT_FAILED, EXIT_BAD_INPUT) == (1, 1, 2)
