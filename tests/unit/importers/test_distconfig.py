"""edgesim.importers.distconfig: get-distribution-config JSON, --function and --policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgesim.errors import InputError
from edgesim.importers.bundle import FunctionSource, ImportBundle
from edgesim.importers.distconfig import (
    apply_function_flags,
    apply_policy_flags,
    load_distconfig,
    read_policy,
)
from tests.unit.importers.helpers import DISTCONFIG, config


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("wrap", "inside"),
    [
        (lambda c: {"ETag": "E1", "DistributionConfig": c}, "DistributionConfig"),
        (lambda c: c, "(DistributionConfig)"),
        (
            lambda c: {"Distribution": {"Id": "E1", "DistributionConfig": c}},
            "Distribution.DistributionConfig",
        ),
    ],
)
def test_the_three_shapes_a_distribution_config_comes_in(
    tmp_path: Path, wrap: object, inside: str
) -> None:
    path = write(tmp_path / "d.json", wrap(config()))  # type: ignore[operator]
    bundle = load_distconfig(path)
    assert bundle.distribution_config == config()
    assert bundle.sources == [path]
    assert bundle.where == {"": f"{path}: {inside}"}
    assert bundle.functions == {}
    assert bundle.kvs == {}


def test_json_that_is_not_a_distribution_config(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a DistributionConfig"):
        load_distconfig(write(tmp_path / "d.json", {"Resources": {}}))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError, match=r"bad\.json: not valid JSON"):
        load_distconfig(tmp_path / "bad.json")


def test_function_flags_add_functions_and_their_stores(tmp_path: Path) -> None:
    (tmp_path / "r.js").write_text("function handler(e) { return e.request; }")
    bundle = ImportBundle({})
    apply_function_flags(
        bundle, ["router=r.js,kvs=cfg", "old=r.js,runtime=cloudfront-js-1.0"], base_dir=tmp_path
    )
    router, old = bundle.functions["router"], bundle.functions["old"]
    assert (router.file, router.kvs, router.runtime) == (
        tmp_path / "r.js",
        ["cfg"],
        "cloudfront-js-2.0",
    )
    assert (old.kvs, old.runtime) == ([], "cloudfront-js-1.0")
    assert set(bundle.kvs) == {"cfg"}
    assert bundle.kvs["cfg"].data is None
    assert bundle.where["functions.router"] == "--function router=r.js,kvs=cfg"
    assert bundle.sources == [tmp_path / "r.js", tmp_path / "r.js"]


def test_a_function_flag_replaces_the_code_of_a_source_function(tmp_path: Path) -> None:
    (tmp_path / "r.js").write_text("")
    bundle = ImportBundle({})
    bundle.functions["router"] = FunctionSource(
        "router", "cloudfront-js-1.0", code="inline", kvs=["s"], auto_publish=False
    )
    apply_function_flags(bundle, ["router=r.js"], base_dir=tmp_path)
    router = bundle.functions["router"]
    assert (router.code, router.file) == (None, tmp_path / "r.js")
    assert (router.runtime, router.kvs, router.auto_publish) == ("cloudfront-js-1.0", ["s"], False)


def test_every_bad_function_flag_is_reported(tmp_path: Path) -> None:
    (tmp_path / "r.js").write_text("")
    with pytest.raises(InputError) as info:
        apply_function_flags(
            ImportBundle({}),
            ["router", "a=missing.js", "b=r.js,runtime=node", "c=r.js,store=x"],
            base_dir=tmp_path,
        )
    lines = str(info.value).splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("--function 'router': expected NAME=PATH.js")
    assert "missing.js does not exist" in lines[1]
    assert "unknown runtime 'node'" in lines[2]
    assert "unknown option 'store'" in lines[3]


def policy_answer(kind: str, policy_id: str, cfg: dict[str, object]) -> dict[str, object]:
    return {"ETag": "E1", kind: {"Id": policy_id, "LastModifiedTime": "2025", f"{kind}Config": cfg}}


def test_policy_kinds_are_told_apart_and_ids_read_from_the_file(tmp_path: Path) -> None:
    cache = write(tmp_path / "c.json", policy_answer("CachePolicy", "c1", {"Name": "c"}))
    origin = write(tmp_path / "o.json", policy_answer("OriginRequestPolicy", "o1", {"Name": "o"}))
    rhp = write(tmp_path / "r.json", policy_answer("ResponseHeadersPolicy", "r1", {"Name": "r"}))
    config_only = write(tmp_path / "cc.json", {"ETag": "E", "CachePolicyConfig": {"Name": "x"}})
    bundle = ImportBundle({})
    apply_policy_flags(bundle, ["c.json", "o1=o.json", "r.json", "c2=cc.json"], base_dir=tmp_path)
    assert bundle.cache_policies == {"c1": {"Name": "c"}, "c2": {"Name": "x"}}
    assert bundle.origin_request_policies == {"o1": {"Name": "o"}}
    assert bundle.response_headers_policies == {"r1": {"Name": "r"}}
    assert bundle.where["cache_policies.c1"] == "c.json: CachePolicy.CachePolicyConfig"
    assert bundle.where["cache_policies.c2"] == "cc.json: CachePolicyConfig"
    assert bundle.sources == [cache, origin, rhp, config_only]


@pytest.mark.parametrize(
    ("doc", "kind"),
    [
        ({"Name": "a", "MinTTL": 0}, "cache_policies"),
        (
            {"Name": "a", "HeadersConfig": {}, "CookiesConfig": {}, "QueryStringsConfig": {}},
            "origin_request_policies",
        ),
        ({"Name": "a", "CorsConfig": {}}, "response_headers_policies"),
    ],
)
def test_bare_policy_configs_are_recognised(
    tmp_path: Path, doc: dict[str, object], kind: str
) -> None:
    assert read_policy(write(tmp_path / "p.json", doc))[1] == kind


def test_policy_flag_problems(tmp_path: Path) -> None:
    write(tmp_path / "c.json", policy_answer("CachePolicy", "c1", {"Name": "c"}))
    write(tmp_path / "cc.json", {"CachePolicyConfig": {"Name": "x"}})
    write(tmp_path / "n.json", {"Name": "x"})
    with pytest.raises(InputError) as info:
        apply_policy_flags(
            ImportBundle({}), ["other=c.json", "cc.json", "n.json", "gone.json"], base_dir=tmp_path
        )
    text = str(info.value)
    assert "--policy other=c.json: the file is policy 'c1', not 'other'" in text
    assert (
        "--policy cc.json: the file has no Id (a …-config answer): write --policy ID=cc.json"
        in text
    )
    assert "n.json: not a policy" in text
    assert "gone.json: cannot read the policy" in text


def test_the_fixture_is_a_get_distribution_config_answer() -> None:
    bundle = load_distconfig(DISTCONFIG / "distribution-config.json")
    cfg = bundle.distribution_config
    assert cfg["Origins"]["Quantity"] == len(cfg["Origins"]["Items"]) == 3
    assert cfg["CacheBehaviors"]["Quantity"] == 3
    for name in ("api-cache-policy.json", "static-headers-policy.json"):
        policy_id, _, _, _ = read_policy(DISTCONFIG / "policies" / name)
        assert policy_id
