"""edgesim.serve_cli: ``edgesim serve``'s refusals, flags and overrides, and
``edgesim cache invalidate`` against a stand-in admin endpoint (serving itself: tests/e2e)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from edgesim.cli import build_parser, main
from edgesim.demo import demo_config
from edgesim.distribution.config import load_config
from edgesim.distribution.model import LocalOrigin
from edgesim.errors import InputError
from edgesim.serve_cli import _record, _with_overrides
from tests.admin_stub import Admin, running_admin


def test_serve_with_a_missing_config_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.toml"
    assert main(["serve", "--config", str(missing)]) == 2
    assert f"--config {missing}: no such file" in capsys.readouterr().err


def serve_args(*flags: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *flags])


def test_flags_override_only_the_server_settings_they_name() -> None:
    dist = demo_config("http://o", port=1, admin_port=2, ephemeral=False)
    assert _with_overrides(dist, serve_args()) == dist
    changed = _with_overrides(dist, serve_args("--ephemeral", "--host", "0.0.0.0"))
    assert (changed.server.ephemeral, changed.server.host) == (True, "0.0.0.0")
    assert (changed.server.port, changed.server.admin_port) == (1, 2)
    assert changed.behaviors == dist.behaviors
    assert not dist.server.ephemeral  # the loaded distribution is left alone


def test_debug_headers_network_origins_and_no_throttle_flags() -> None:
    dist = demo_config("http://o", port=1, admin_port=2, ephemeral=False)
    assert not dist.server.debug_headers
    assert not dist.server.network_origins
    assert dist.throttling.enabled
    changed = _with_overrides(
        dist, serve_args("--debug-headers", "--network-origins", "--no-throttle")
    )
    assert replace(changed.server, debug_headers=False, network_origins=False) == dist.server
    assert (changed.server.debug_headers, changed.server.network_origins) == (True, True)
    assert changed.throttling == replace(dist.throttling, enabled=False)
    only_debug = _with_overrides(dist, serve_args("--debug-headers"))
    assert only_debug.server == replace(dist.server, debug_headers=True)
    assert only_debug.throttling == dist.throttling


def test_https_flags() -> None:
    dist = demo_config("http://o", port=1, admin_port=2, ephemeral=False)
    assert (dist.server.https, dist.server.https_port) == (True, 8443)
    changed = _with_overrides(dist, serve_args("--https-port", "0"))
    assert changed.server == replace(dist.server, https_port=0)
    assert not _with_overrides(dist, serve_args("--no-https")).server.https
    with pytest.raises(InputError, match="--https-port 70000: expected a port from 0 to 65535"):
        _with_overrides(dist, serve_args("--https-port", "70000"))


CONFIG = """
[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[[origins]]
id = "b"
url = "http://b.example.com"

[[origin_groups]]
id = "ha"
primary = "app"
secondary = "b"

[origins_local]
app = "http://127.0.0.1:3001"
"api.example.com" = "site"

[default_behavior]
origin = "app"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "site").mkdir()
    (tmp_path / "edgesim.toml").write_text(CONFIG)
    return tmp_path


def test_origin_flags_replace_and_add_local_origins(project: Path) -> None:
    dist = load_config(project / "edgesim.toml")
    assert dist.origins_local == {
        "app": LocalOrigin("app", url="http://127.0.0.1:3001"),
        "api.example.com": LocalOrigin("api.example.com", directory=project / "site"),
    }
    (project / "elsewhere").mkdir()
    flags = serve_args(
        "--origin",
        "app=http://127.0.0.1:4000/",
        "--origin",
        "API.Example.com=https://localhost:8443",
        "--origin",
        "static.example.com=elsewhere",
        "--origin",
        "b=" + str(project / "site"),
    )
    changed = _with_overrides(dist, flags, base_dir=project)
    assert changed.origins_local == {
        "app": LocalOrigin("app", url="http://127.0.0.1:4000"),
        "api.example.com": LocalOrigin("API.Example.com", url="https://localhost:8443"),
        "static.example.com": LocalOrigin("static.example.com", directory=project / "elsewhere"),
        "b": LocalOrigin("b", directory=project / "site"),
    }
    assert dist.origins_local["app"].url == "http://127.0.0.1:3001"  # the loaded one is kept


def test_origin_directories_are_relative_to_the_working_directory(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project / "site")
    (project / "site" / "public").mkdir()
    dist = load_config(project / "edgesim.toml")
    changed = _with_overrides(dist, serve_args("--origin", "app=public"))
    assert changed.origins_local["app"] == LocalOrigin("app", directory=project / "site" / "public")


BAD_ORIGINS = [
    pytest.param(
        ["app"],
        "edgesim: --origin 'app': expected ID_OR_DOMAIN=URL|DIR, "
        "e.g. api.example.com=http://127.0.0.1:9000",
        id="no-equals",
    ),
    pytest.param(
        ["=http://127.0.0.1:9000"],
        "edgesim: --origin '=http://127.0.0.1:9000': expected ID_OR_DOMAIN=URL|DIR, "
        "e.g. api.example.com=http://127.0.0.1:9000",
        id="no-key",
    ),
    pytest.param(
        ["ap=http://127.0.0.1:9000"],
        "edgesim: --origin ap=http://127.0.0.1:9000: 'ap' is neither an origin id nor a domain "
        "name such as 'api.example.com' (did you mean 'app'?); origin ids: app, b",
        id="unknown-key",
    ),
    pytest.param(
        ["ha=http://127.0.0.1:9000"],
        "edgesim: --origin ha=http://127.0.0.1:9000: 'ha' is an origin group; map its origins "
        "('app' and 'b') instead",
        id="group",
    ),
    pytest.param(
        ["app=ftp://127.0.0.1"],
        "edgesim: --origin app=ftp://127.0.0.1: 'ftp://127.0.0.1': the scheme must be http or https",
        id="scheme",
    ),
    pytest.param(
        ["app=http://127.0.0.1:9000/v1"],
        "edgesim: --origin app=http://127.0.0.1:9000/v1: 'http://127.0.0.1:9000/v1': a local URL "
        "has no path (the origin's origin_path is still added)",
        id="path",
    ),
    pytest.param(
        ["app=127.0.0.1:9000"],
        "edgesim: --origin app=127.0.0.1:9000: '127.0.0.1:9000' is neither a URL nor a directory "
        "(did you mean 'http://127.0.0.1:9000'?)",
        id="host-port",
    ),
    pytest.param(
        ["app="],
        "edgesim: --origin app=: expected a URL or a directory, got an empty string",
        id="empty-value",
    ),
]


@pytest.mark.parametrize(("flags", "expected"), BAD_ORIGINS)
def test_a_bad_origin_flag_exits_2_with_one_clear_line(
    project: Path, capsys: pytest.CaptureFixture[str], flags: list[str], expected: str
) -> None:
    argv = ["serve", "--config", str(project / "edgesim.toml"), "--no-reload"]
    for flag in flags:
        argv += ["--origin", flag]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == expected + "\n"


def test_every_bad_origin_flag_is_reported_and_a_missing_directory_named(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    argv = ["serve", "--config", "edgesim.toml", "--origin", "app=nope", "--origin", "b=x"]
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        "edgesim: --origin app=nope: 'nope' is neither a URL (http:// or https://) nor a "
        f"directory: {project / 'nope'} does not exist",
        "--origin b=x: 'x' is neither a URL (http:// or https://) nor a directory: "
        f"{project / 'x'} does not exist",
    ]


def test_serve_help_describes_the_command_and_every_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    serve = sub.choices["serve"]
    assert serve.description is not None
    assert "edgesim.toml" in serve.description
    undocumented = [
        action.option_strings
        for action in serve._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert undocumented == []
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for flag in ("--origin", "--debug-headers", "--no-throttle", "--network-origins", "--host"):
        assert flag in out


@pytest.fixture
def admin() -> Iterator[Admin]:
    with running_admin() as state:
        yield state


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


def test_invalidate_without_a_running_serve_exits_1_naming_the_endpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # One set of exit codes for every admin client: an unreachable endpoint is 1, as for kvs.
    assert main(["cache", "invalidate", "/x", "--endpoint", "http://127.0.0.1:9"]) == 1
    assert "cannot reach the admin endpoint at http://127.0.0.1:9" in capsys.readouterr().err


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


# --------------------------------------------------------------------------------------------
# serve --from and edgesim import (the importers themselves: tests/unit/importers)
# --------------------------------------------------------------------------------------------

DISTCONFIG = Path(__file__).resolve().parents[2] / "fixtures" / "import" / "distconfig"
FIXTURE_FLAGS = [
    "--function",
    "router=functions/router.js,kvs=site-config",
    "--function",
    "api-headers=functions/api-headers.js",
    "--policy",
    "policies/api-cache-policy.json",
    "--policy",
    "policies/static-headers-policy.json",
    "--kvs",
    "site-config=kvs/site-config.json",
    "--lambda",
    "arn:aws:lambda:us-east-1:111122223333:function:api-auth:7=../lambda/api-auth.js",
]


@pytest.mark.parametrize(
    "flags",
    [["--kvs", "a=b.json"], ["--overlay", "o.toml"], ["--stack", "S"], ["--parameter", "a=b"]],
)
def test_import_flags_without_from_exit_2(
    capsys: pytest.CaptureFixture[str], flags: list[str]
) -> None:
    assert main(["serve", *flags]) == 2
    assert f"{flags[0]} applies to an imported distribution: add --from SOURCE" in (
        capsys.readouterr().err
    )


def test_from_and_config_together_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--from", "x.json", "--config", "edgesim.toml"]) == 2
    assert "--from and --config: give one" in capsys.readouterr().err


def test_serve_from_with_unmapped_origins_exits_2_listing_each_flag(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(DISTCONFIG)
    argv = ["serve", "--from", "distribution-config.json", *FIXTURE_FLAGS, "--no-reload"]
    assert main([*argv, "--origin", "app=http://127.0.0.1:3000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgesim: 2 origins of the imported distribution are not mapped")
    assert "--origin app-backup=http://127.0.0.1:PORT" in err
    assert "--origin assets=http://127.0.0.1:PORT" in err
    assert "Traceback" not in err


def test_serve_from_a_broken_source_exits_2_with_the_property_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = json.loads((DISTCONFIG / "distribution-config.json").read_text())
    doc["DistributionConfig"]["CacheBehaviors"]["Items"][1]["TargetOriginId"] = "nowhere"
    (tmp_path / "d.json").write_text(json.dumps(doc))
    assert main(["serve", "--from", str(tmp_path / "d.json"), "--no-reload"]) == 2
    err = capsys.readouterr().err
    assert (
        f"{tmp_path / 'd.json'}: DistributionConfig.CacheBehaviors.Items.1.TargetOriginId: "
        "unknown origin or origin group 'nowhere'" in err
    )
    assert "--function router=PATH.js" in err  # the functions were not given either
    assert "Traceback" not in err


def test_import_prints_the_toml(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(DISTCONFIG)
    flags = [*FIXTURE_FLAGS, "--origin", "app=http://127.0.0.1:3000"]
    assert main(["import", "distribution-config.json", *flags]) == 0
    out, err = capsys.readouterr()
    doc = tomllib.loads(out)
    assert doc["origins_local"] == {"app": "http://127.0.0.1:3000"}
    assert [b["path"] for b in doc["behaviors"]] == ["/api/*", "/legacy/*", "/static/*"]
    assert doc["functions"][1]["file"] == "functions/router.js"
    assert out.startswith("# edgesim.toml written by `edgesim import distribution-config.json`")
    assert "2 origin(s) not mapped yet" in err
    assert not (DISTCONFIG / "edgesim-imported").exists()


def test_import_out_refuses_to_overwrite_without_force(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(DISTCONFIG)
    out = tmp_path / "edgesim.toml"
    out.write_text("# mine\n")
    argv = ["import", "distribution-config.json", *FIXTURE_FLAGS, "--out", str(out)]
    assert main(argv) == 2
    assert "the file exists; add --force" in capsys.readouterr().err
    assert out.read_text() == "# mine\n"
    assert main([*argv, "--force"]) == 0
    dist = load_config(out)  # a config that loads, paths relative to it
    assert dist.functions["router"].file == DISTCONFIG / "functions" / "router.js"
    assert f"wrote {out}" in capsys.readouterr().err


def test_import_writes_inline_code_to_the_files_dir(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import types

    from edgesim.importers.bundle import FunctionSource, ImportBundle, function_arn

    cfg = json.loads((DISTCONFIG / "distribution-config.json").read_text())["DistributionConfig"]
    for item in cfg["CacheBehaviors"]["Items"]:
        item["FunctionAssociations"] = {"Quantity": 0}
        item["LambdaFunctionAssociations"] = {"Quantity": 0}
    cfg["DefaultCacheBehavior"]["FunctionAssociations"] = {
        "Quantity": 1,
        "Items": [{"EventType": "viewer-request", "FunctionARN": function_arn("inline")}],
    }
    code = "function handler(e) { return e.request; }"
    fake = types.ModuleType("edgesim.importers.cloudformation")

    def load_template(path: Path, parameters: dict[str, str]) -> ImportBundle:
        return ImportBundle(
            cfg,
            functions={"inline": FunctionSource("inline", "cloudfront-js-2.0", code=code)},
            where={"": f"{path.name}: Resources.Site.Properties.DistributionConfig"},
            sources=[path],
        )

    fake.load_template = load_template  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "edgesim.importers.cloudformation", fake)
    (tmp_path / "template.yaml").write_text("")
    monkeypatch.chdir(tmp_path)
    policies = [f"--policy={p}" for p in sorted((DISTCONFIG / "policies").glob("*.json"))]
    assert main(["import", "template.yaml", *policies, "--out", "edgesim.toml"]) == 0
    written = tmp_path / "edgesim-imported" / "functions" / "inline.js"
    assert written.read_text() == code
    assert f"wrote {written} (held inline in the source)" in capsys.readouterr().err
    text = (tmp_path / "edgesim.toml").read_text()
    assert 'file = "edgesim-imported/functions/inline.js"' in text
    assert (
        "# from template.yaml: Resources.Site.Properties.DistributionConfig.DefaultCacheBehavior"
        in text
    )


def test_import_help_describes_the_command_and_every_flag() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in ("import", "serve"):
        command = sub.choices[name]
        assert command.description is not None
        assert "docs/import.md" in command.description
        undocumented = [
            action.option_strings
            for action in command._actions
            if not isinstance(action, argparse._HelpAction) and not action.help
        ]
        assert undocumented == []
    flags = {s for a in sub.choices["serve"]._actions for s in a.option_strings}
    assert {"--from", "--stack", "--parameter", "--var", "--overlay", "--function"} <= flags
    assert {"--policy", "--kvs", "--distribution"} <= flags


def test_record_flag_names_the_recording(tmp_path: Path) -> None:
    assert serve_args().record is None
    assert _record(serve_args("--record", "t.jsonl")) == Path("t.jsonl")


def test_record_into_a_file_that_is_not_a_recording_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "edgesim.toml"
    config.write_text(
        "[server]\nephemeral = true\nport = 0\nadmin_port = 0\nhttps = false\n"
        '[[origins]]\nid = "app"\nurl = "http://127.0.0.1:9"\n'
        '[default_behavior]\norigin = "app"\n'
    )
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    assert main(["serve", "--config", str(config), "--record", str(notes)]) == 2
    assert "not an edgesim recording" in capsys.readouterr().err
    assert notes.read_text() == "my notes\n"  # nothing already stored is lost
