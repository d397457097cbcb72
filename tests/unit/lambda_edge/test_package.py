"""Deployment packages: zips unpacked safely, the compressed-size quota per event, and the
runtime checked against the Node.js that runs the function."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from edgesim.errors import InputError
from edgesim.lambda_edge import package
from edgesim.lambda_edge.spec import resolve_source, runtime_mismatch

from .conftest import NODE, needs_node


def make_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def test_a_zip_is_unpacked_once_into_a_directory_named_after_its_content(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "fn.zip", {"index.js": b"exports.handler = 1;", "lib/a.js": b"1"})
    root = resolve_source(archive)
    assert (root / "index.js").read_bytes() == b"exports.handler = 1;"
    assert (root / "lib" / "a.js").exists()
    again = package.unpack(archive)
    assert again == root
    make_zip(archive, {"index.js": b"exports.handler = 2;"})
    assert package.unpack(archive) != root


def test_entries_that_would_leave_the_package_are_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "evil.zip", {"../../outside.js": b"x"})
    with pytest.raises(InputError, match="outside the package"):
        package.unpack(archive, cache_root=tmp_path / "cache")
    assert not (tmp_path / "outside.js").exists()


def test_a_file_that_is_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a zip archive"):
        package.unpack(bad, cache_root=tmp_path / "cache")


def test_the_size_of_a_directory_estimates_its_zip_within_a_few_percent(tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = {
        "index.js": b"exports.handler = async (e) => e;\n" * 200,
        "node_modules/lib/index.js": os.urandom(20_000),
        "node_modules/lib/package.json": b'{"name": "lib", "version": "1.0.0"}',
    }
    for name, data in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    real = io.BytesIO()
    with zipfile.ZipFile(real, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    estimate = package.compressed_size(src)
    assert abs(estimate - len(real.getvalue())) <= 0.05 * len(real.getvalue())
    archive = make_zip(tmp_path / "fn.zip", files)
    assert package.compressed_size(archive) == archive.stat().st_size


def test_the_package_quota_is_1_mb_for_viewer_and_50_mb_for_origin_events(tmp_path: Path) -> None:
    fn = tmp_path / "big.js"
    fn.write_bytes(os.urandom(1_100_000))  # incompressible: about 1.1 MB zipped
    message = package.check_package(fn, "viewer-request")
    assert message is not None
    assert "quota for viewer events is 1,048,576" in message
    assert package.check_package(fn, "origin-request") is None


@needs_node
def test_a_runtime_other_than_the_nodes_major_version_is_reported() -> None:
    assert NODE is not None
    from edgesim.lambda_edge.spec import node_major

    major = node_major(NODE)
    assert major is not None
    assert runtime_mismatch(f"nodejs{major}.x", NODE) is None
    other = "nodejs18.x" if major != 18 else "nodejs22.x"
    message = runtime_mismatch(other, NODE)
    assert message is not None
    assert f"Node.js {major}" in message
