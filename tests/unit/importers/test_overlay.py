"""edgesim.importers.overlay: the overlay file, --origin mappings, unmapped origins, --kvs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgesim.distribution.model import LocalOrigin
from edgesim.errors import InputError
from edgesim.importers.bundle import ImportBundle, KvsSource
from edgesim.importers.overlay import (
    apply_kvs_flags,
    map_origins,
    read_overlay,
    require_mapped,
    unmapped_origins,
)
from tests.unit.importers.helpers import APP_ORIGIN, behavior, config, convert, listing

BUCKET = {"Id": "site", "DomainName": "assets.s3.amazonaws.com", "OriginAccessControlId": "E1"}
SPARE = {**APP_ORIGIN, "Id": "spare", "DomainName": "spare.example.com"}


def three_origins(tmp_path: Path) -> object:
    cfg = config(
        Origins=listing(APP_ORIGIN, BUCKET, SPARE),
        CacheBehaviors=listing(behavior("/s/*", TargetOriginId="site")),
    )
    return convert(tmp_path / "work", cfg).dist


def test_no_overlay_keeps_state_in_memory(tmp_path: Path) -> None:
    overlay = read_overlay(None, base_dir=tmp_path)
    assert overlay.server.ephemeral
    assert overlay.server.state_dir == tmp_path / ".edgesim"
    assert overlay.edges.pops == ("IAD",)
    assert overlay.origins_local == {}


def test_an_overlay_sets_server_edges_throttling_and_origins(tmp_path: Path) -> None:
    path = tmp_path / "edgesim.local.toml"
    path.write_text(
        '[server]\nport = 9000\nstate_dir = "state"\n\n[edges]\npops = ["FRA"]\n\n'
        '[throttling]\nenabled = false\n\n[origins_local]\napp = "http://127.0.0.1:3000"\n'
        "[cache]\nmemory_limit_mb = 32\n"
    )
    overlay = read_overlay(path)
    assert overlay.cache.memory_limit_mb == 32
    assert (overlay.server.port, overlay.server.ephemeral) == (9000, False)
    assert overlay.server.state_dir == tmp_path / "state"
    assert overlay.edges.pops == ("FRA",)
    assert not overlay.throttling.enabled
    assert overlay.origins_local == {"app": "http://127.0.0.1:3000"}


def test_overlay_problems_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    path.write_text("[server]\nport = 'x'\n[origins]\n")
    with pytest.raises(InputError) as info:
        read_overlay(path)
    text = str(info.value)
    assert f"{path}: server.port: expected an integer" in text
    assert f"{path}: origins: unknown key" in text
    path.write_text("[server")
    with pytest.raises(InputError, match="invalid TOML"):
        read_overlay(path)
    with pytest.raises(InputError, match="cannot read it"):
        read_overlay(tmp_path / "missing.toml")


def test_origins_are_mapped_by_id_domain_or_construct_path(tmp_path: Path) -> None:
    dist = three_origins(tmp_path)
    public = tmp_path / "public"
    public.mkdir()
    overlay_file = tmp_path / "o.toml"
    overlay_file.write_text(
        '[origins_local]\n"Stack/Site/Bucket" = "public"\napp = "http://127.0.0.1:1"\n'
    )
    mapped = map_origins(
        dist,  # type: ignore[arg-type]
        overlay=read_overlay(overlay_file),
        flags=["app=http://127.0.0.1:3000", "Spare.Example.com=http://127.0.0.1:4000"],
        hints={"site": "Stack/Site/Bucket"},
        base_dir=tmp_path,
    )
    assert mapped.origins_local == {
        "site": LocalOrigin("site", directory=public),
        "app": LocalOrigin("app", url="http://127.0.0.1:3000"),  # the flag wins
        "spare.example.com": LocalOrigin("Spare.Example.com", url="http://127.0.0.1:4000"),
    }
    assert unmapped_origins(mapped) == []


def test_bad_mappings_are_all_reported(tmp_path: Path) -> None:
    dist = three_origins(tmp_path)
    with pytest.raises(InputError) as info:
        map_origins(
            dist,  # type: ignore[arg-type]
            flags=["app", "ap=http://127.0.0.1:1", "site=127.0.0.1:3000"],
            hints={"site": "Stack/Site/Bucket"},
            base_dir=tmp_path,
        )
    lines = str(info.value).splitlines()
    assert lines[0].startswith("--origin 'app': expected ID_OR_DOMAIN=URL|DIR")
    assert "(did you mean 'app'?)" in lines[1]
    assert "construct paths: Stack/Site/Bucket" in lines[1]
    assert "did you mean 'http://127.0.0.1:3000'" in lines[2]


def test_every_reachable_unmapped_origin_is_listed_with_a_flag(tmp_path: Path) -> None:
    dist = three_origins(tmp_path)
    with pytest.raises(InputError) as info:
        require_mapped(dist, hints={"site": "Stack/Site/Bucket"})  # type: ignore[arg-type]
    text = str(info.value)
    assert text.startswith("2 origins of the imported distribution are not mapped")
    assert "  --origin app=http://127.0.0.1:PORT    # app.example.com\n" in text
    assert (
        "  --origin site=http://127.0.0.1:PORT   # assets.s3.amazonaws.com, Stack/Site/Bucket, "
        "an S3 origin: or a directory, --origin ID=./dir" in text
    )
    assert "spare" not in text  # no behaviour reaches it
    mapped = map_origins(dist, flags=["app=http://127.0.0.1:1"], base_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"^1 origin of the imported distribution is not mapped"):
        require_mapped(mapped)


def test_origins_behind_a_group_must_be_mapped(tmp_path: Path) -> None:
    group = {
        "Id": "ha",
        "FailoverCriteria": {"StatusCodes": listing(500)},
        "Members": listing({"OriginId": "app"}, {"OriginId": "spare"}),
    }
    cfg = config(Origins=listing(APP_ORIGIN, SPARE), OriginGroups=listing(group))
    cfg["DefaultCacheBehavior"]["TargetOriginId"] = "ha"
    dist = convert(tmp_path, cfg).dist
    assert [o.id for o in unmapped_origins(dist)] == ["app", "spare"]


def test_origin_ids_that_need_quoting_get_a_quoted_flag(tmp_path: Path) -> None:
    cfg = config(Origins=listing({**APP_ORIGIN, "Id": "my origin"}))
    cfg["DefaultCacheBehavior"]["TargetOriginId"] = "my origin"
    with pytest.raises(InputError, match=r"--origin 'my origin=http://127\.0\.0\.1:PORT'"):
        require_mapped(convert(tmp_path, cfg).dist)


def test_kvs_flags_seed_stores(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_text('{"data": []}')
    bundle = ImportBundle({}, kvs={"cfg": KvsSource("cfg", items={"a": "b"})})
    apply_kvs_flags(bundle, ["cfg=d.json"], base_dir=tmp_path)
    assert bundle.kvs["cfg"] == KvsSource("cfg", data=tmp_path / "d.json", where="--kvs cfg=d.json")
    assert bundle.sources == [tmp_path / "d.json"]
    with pytest.raises(InputError) as info:
        apply_kvs_flags(bundle, ["other=d.json", "cfg=gone.json", "cfg"], base_dir=tmp_path)
    lines = str(info.value).splitlines()
    assert "no key value store 'other' (stores: cfg)" in lines[0]
    assert "gone.json does not exist" in lines[1]
    assert "expected NAME=DATA.json" in lines[2]


def test_bucket_deployment_content_maps_an_unmapped_s3_origin(tmp_path: Path) -> None:
    dist = three_origins(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    hints = {"site": "Stack/Bucket", "content:site": str(site), "distribution": "Stack/Site"}
    mapped = map_origins(dist, hints=hints, base_dir=tmp_path)  # type: ignore[arg-type]
    assert mapped.origins_local["site"] == LocalOrigin("site", directory=site)
    # An explicit mapping wins over the deployed content.
    flags = ["assets.s3.amazonaws.com=http://127.0.0.1:9"]
    mapped = map_origins(dist, flags=flags, hints=hints, base_dir=tmp_path)  # type: ignore[arg-type]
    assert "site" not in mapped.origins_local


def test_several_deployments_and_prefixes_become_a_tree_of_links(tmp_path: Path) -> None:
    dist = three_origins(tmp_path)
    first, second = tmp_path / "a", tmp_path / "b"
    (first / "css").mkdir(parents=True)
    (first / "index.html").write_text("first")
    (first / "css" / "x.css").write_text("css")
    second.mkdir()
    (second / "index.html").write_text("second")
    hints = {
        "content:site": os.pathsep.join([str(first), str(second)]),
        "content-prefix:site": os.pathsep.join(["", "docs/"]),
    }
    mapped = map_origins(dist, hints=hints, base_dir=tmp_path, workdir=tmp_path / "w")  # type: ignore[arg-type]
    root = mapped.origins_local["site"].directory
    assert root == tmp_path / "w" / "buckets" / "site"
    assert (root / "index.html").read_text() == "first"
    assert (root / "css" / "x.css").read_text() == "css"
    assert (root / "docs" / "index.html").read_text() == "second"
    hints["content-prefix:site"] = os.pathsep.join(["", ""])
    mapped = map_origins(dist, hints=hints, base_dir=tmp_path, workdir=tmp_path / "w")  # type: ignore[arg-type]
    assert (root / "index.html").read_text() == "second"  # a later deployment wins
    assert not (root / "docs").exists()


def test_a_zip_deployment_is_noted_and_left_to_the_user(tmp_path: Path) -> None:
    dist = three_origins(tmp_path)
    (tmp_path / "site.zip").write_bytes(b"PK")
    mapped = map_origins(
        dist, hints={"content:site": str(tmp_path / "site.zip")}, base_dir=tmp_path
    )  # type: ignore[arg-type]
    assert "site" not in mapped.origins_local
    assert any("extract: false" in note for note in mapped.notes)
