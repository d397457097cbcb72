"""edgesim.importers.load: telling sources apart, calling front-ends, the whole import."""

from __future__ import annotations

import functools
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from edgesim.errors import InputError
from edgesim.importers.bundle import ImportBundle
from edgesim.importers.load import (
    choose_distribution,
    detect_source,
    import_distribution,
    load_bundle,
    load_distribution,
)
from tests.unit.importers.helpers import DISTCONFIG, config

FIXTURE_FLAGS: dict[str, Any] = {
    "functions": [
        f"router={DISTCONFIG / 'functions/router.js'},kvs=site-config",
        f"api-headers={DISTCONFIG / 'functions/api-headers.js'}",
    ],
    "policies": [str(p) for p in sorted((DISTCONFIG / "policies").glob("*.json"))],
    "kvs": [f"site-config={DISTCONFIG / 'kvs/site-config.json'}"],
    # The fixture's Lambda@Edge association names its code only by ARN.
    "lambdas": [
        "arn:aws:lambda:us-east-1:111122223333:function:api-auth:7="
        f"{DISTCONFIG.parent / 'lambda' / 'api-auth.js'}"
    ],
}
LOCAL = [
    "app=http://127.0.0.1:3000",
    "app-backup=http://127.0.0.1:3001",
    "example-site-assets.s3.us-east-1.amazonaws.com=http://127.0.0.1:3002",
]


def test_detect_source_kinds(tmp_path: Path) -> None:
    cdk = tmp_path / "cdk.out"
    cdk.mkdir()
    (cdk / "manifest.json").write_text('{"version": "36.0.0", "artifacts": {}}')
    tf = tmp_path / "infra"
    tf.mkdir()
    (tf / "main.tf").write_text("")
    (tmp_path / "t.yaml").write_text("Resources: {}")
    (tmp_path / "t.json").write_text('{"Resources": {}}')
    (tmp_path / "d.json").write_text(json.dumps({"ETag": "E", "DistributionConfig": config()}))
    (tmp_path / "show.json").write_text('{"format_version": "1.0", "values": {}}')
    assert detect_source(cdk) == ("cdk", cdk)
    assert detect_source(cdk / "manifest.json") == ("cdk", cdk)
    assert detect_source(tf) == ("terraform", tf)
    assert detect_source(tf / "main.tf") == ("terraform", tf)
    assert detect_source(tmp_path / "t.yaml") == ("cloudformation", tmp_path / "t.yaml")
    assert detect_source(tmp_path / "t.json") == ("cloudformation", tmp_path / "t.json")
    assert detect_source(tmp_path / "d.json") == ("distconfig", tmp_path / "d.json")
    assert detect_source(tmp_path / "show.json") == ("terraform", tmp_path / "show.json")


def test_sources_that_are_none_of_these(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "x.json").write_text("[]")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(InputError, match=r"neither manifest\.json"):
        detect_source(tmp_path / "empty")
    with pytest.raises(InputError, match="JSON with neither Resources"):
        detect_source(tmp_path / "x.json")
    with pytest.raises(InputError, match="not a source edgesim imports"):
        detect_source(tmp_path / "x.txt")
    with pytest.raises(InputError, match="no such file or directory"):
        detect_source(tmp_path / "gone.yaml")


def test_choose_distribution() -> None:
    assert choose_distribution({"A": 1}, None, source="t.yaml") == 1
    assert choose_distribution({"A": 1, "B": 2}, "B", source="t.yaml") == 2
    with pytest.raises(
        InputError, match=r"t\.yaml: 2 distributions \(A, B\); choose one with --distribution NAME"
    ):
        choose_distribution({"A": 1, "B": 2}, None, source="t.yaml")
    with pytest.raises(InputError, match="no distribution 'C'; distributions: A, B"):
        choose_distribution({"A": 1, "B": 2}, "C", source="t.yaml")
    with pytest.raises(InputError, match="no CloudFront distribution found"):
        choose_distribution({}, None, source="t.yaml")


def fake_front_end(
    monkeypatch: pytest.MonkeyPatch, module: str, name: str, fn: Any
) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    @functools.wraps(fn)  # inspect.signature sees fn's parameters
    def loader(path: Path, **kwargs: Any) -> Any:
        calls.append({"path": path, **kwargs})
        return fn(path, **kwargs)

    fake = types.ModuleType(module)
    setattr(fake, name, loader)
    monkeypatch.setitem(sys.modules, module, fake)
    return calls


def test_front_ends_get_their_arguments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("")
    calls = fake_front_end(
        monkeypatch,
        "edgesim.importers.cloudformation",
        "load_template",
        lambda path, parameters: ImportBundle(config()),
    )
    load_bundle(tmp_path / "t.yaml", parameters={"Env": "dev"})
    assert calls == [{"path": tmp_path / "t.yaml", "parameters": {"Env": "dev"}}]
    with pytest.raises(InputError, match="--distribution: not supported for CloudFormation"):
        load_bundle(tmp_path / "t.yaml", distribution="Site")
    with pytest.raises(InputError, match="--var and --var-file are for Terraform"):
        load_bundle(tmp_path / "t.yaml", variables={"a": "b"})
    with pytest.raises(InputError, match="only a CDK cloud assembly has stacks"):
        load_bundle(tmp_path / "t.yaml", stack="S")


def test_a_front_end_that_takes_distribution_gets_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "main.tf").write_text("")
    found = {"aws_cloudfront_distribution.a": 1, "aws_cloudfront_distribution.b": 2}

    def load(
        path: Path, variables: dict[str, str], distribution: str | None = None
    ) -> ImportBundle:
        choose_distribution(found, distribution, source=str(path))
        return ImportBundle(config())

    calls = fake_front_end(monkeypatch, "edgesim.importers.terraform", "load_terraform", load)
    load_bundle(tmp_path, variables={"x": "1"}, distribution="aws_cloudfront_distribution.b")
    assert calls[0]["distribution"] == "aws_cloudfront_distribution.b"
    with pytest.raises(InputError, match="choose one with --distribution NAME"):
        load_bundle(tmp_path)


def test_a_list_of_named_bundles_is_chosen_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "main.tf").write_text("")

    def load(
        path: Path, variables: dict[str, str], var_files: list[Path], mapped_origins: list[str]
    ) -> list[ImportBundle]:
        return [
            ImportBundle(config(), name="aws_cloudfront_distribution.a"),
            ImportBundle({}, name="aws_cloudfront_distribution.b"),
        ]

    calls = fake_front_end(monkeypatch, "edgesim.importers.terraform", "load_terraform", load)
    bundle = load_bundle(
        tmp_path,
        variables={"env": "dev"},
        var_files=[tmp_path / "prod.tfvars"],
        distribution="aws_cloudfront_distribution.a",
        mapped_origins=["app"],
    )
    assert bundle.name == "aws_cloudfront_distribution.a"
    assert calls == [
        {
            "path": tmp_path,
            "variables": {"env": "dev"},
            "var_files": [tmp_path / "prod.tfvars"],
            "mapped_origins": ["app"],
        }
    ]
    with pytest.raises(
        InputError,
        match=r"2 distributions \(aws_cloudfront_distribution.a, aws_cloudfront_distribution.b\)",
    ):
        load_bundle(tmp_path)


def test_origins_the_command_line_and_overlay_map_reach_the_front_end(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "main.tf").write_text("")
    overlay = tmp_path / "o.toml"
    overlay.write_text('[origins_local]\n"api.example.com" = "http://127.0.0.1:2"\n')

    def load(path: Path, mapped_origins: list[str]) -> list[ImportBundle]:
        return [ImportBundle(config(), name="d")]

    calls = fake_front_end(monkeypatch, "edgesim.importers.terraform", "load_terraform", load)
    load_distribution(
        tmp_path, workdir=tmp_path / "w", overlay=overlay, origins=["app=http://127.0.0.1:1"]
    )
    assert calls[0]["mapped_origins"] == ["app", "api.example.com"]


def test_a_missing_front_end_is_an_input_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "t.yaml").write_text("")
    monkeypatch.setitem(sys.modules, "edgesim.importers.cloudformation", None)
    with pytest.raises(InputError, match="importing CloudFormation templates is not available yet"):
        load_bundle(tmp_path / "t.yaml")


def test_distconfig_takes_no_parameters(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="do not apply to a DistributionConfig"):
        load_bundle(DISTCONFIG / "distribution-config.json", parameters={"a": "b"})


def test_the_fixture_imports_whole(tmp_path: Path) -> None:
    overlay = tmp_path / "edgesim.local.toml"
    overlay.write_text(
        '[server]\nport = 0\nadmin_port = 0\n[origins_local]\napp = "http://127.0.0.1:9"\n'
    )
    imported = import_distribution(
        DISTCONFIG / "distribution-config.json",
        workdir=tmp_path / "work",
        overlay=overlay,
        origins=LOCAL,
        base_dir=tmp_path,
        **FIXTURE_FLAGS,
    )
    dist = imported.dist
    assert dist.server.port == 0
    assert dist.server.ephemeral
    assert dist.origins_local["app"].url == "http://127.0.0.1:3000"  # the flag over the overlay
    assert [b.path for b in dist.behaviors] == ["/api/*", "/legacy/*", "/static/*"]
    assert dist.behaviors[0].cache_policy.name == "api-by-auth"
    assert dist.behaviors[2].response_headers_policy is not None
    assert dist.default_behavior.viewer_request == "router"
    assert dist.functions["router"].kvs == "site-config"
    assert dist.default_root_object == "index.html"
    assert overlay in dist.sources
    assert DISTCONFIG / "distribution-config.json" in dist.sources
    assert DISTCONFIG / "functions" / "router.js" in dist.sources
    assert not (tmp_path / "work").exists()  # nothing inline: nothing written


def test_an_unmapped_origin_stops_the_import(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_distribution(
            DISTCONFIG / "distribution-config.json",
            workdir=tmp_path,
            origins=LOCAL[:1],
            **FIXTURE_FLAGS,
        )
    text = str(info.value)
    assert "--origin app-backup=http://127.0.0.1:PORT" in text
    assert "--origin assets=http://127.0.0.1:PORT" in text
    assert "--origin app=" not in text


def test_a_store_named_only_by_a_function_flag_starts_empty_with_a_note(tmp_path: Path) -> None:
    flags = dict(FIXTURE_FLAGS, kvs=[])
    dist = load_distribution(
        DISTCONFIG / "distribution-config.json", workdir=tmp_path, origins=LOCAL, **flags
    )
    assert dist.kvs["site-config"].data is None
    assert (
        "accepted, not emulated: key value store site-config starts empty (no data given): "
        "seed it with --kvs site-config=data.json" in dist.notes
    )
