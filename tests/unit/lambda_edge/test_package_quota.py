"""The package-size check at start-up: it stops deflating once a package is over the quota, and
a dangling symlink (as node_modules/.bin can hold) is skipped as zip tools skip it."""

from __future__ import annotations

import os
from pathlib import Path

from edgesim.lambda_edge import package


def test_counting_stops_once_over_the_quota(tmp_path: Path) -> None:
    for index in range(4):
        (tmp_path / f"blob{index}.bin").write_bytes(os.urandom(600_000))
    whole = package.compressed_size(tmp_path)
    assert whole > 4 * 600_000
    partial = package.compressed_size(tmp_path, stop_over=1_000_000)
    # Over the cap after the second file: the lower bound stops there.
    assert 1_000_000 < partial < 3 * 600_000 < whole
    message = package.check_package(tmp_path, "viewer-request")
    assert message is not None
    assert "the package is at least " in message
    assert "quota for viewer events is 1,048,576" in message


def test_a_dangling_symlink_is_skipped(tmp_path: Path) -> None:
    linked, alone = tmp_path / "linked", tmp_path / "alone"
    for root in (linked, alone):
        root.mkdir()
        (root / "index.js").write_text("exports.handler = async () => null;\n")
    (linked / "node_modules" / ".bin").mkdir(parents=True)
    (linked / "node_modules" / ".bin" / "tool").symlink_to("../gone/cli.js")
    assert package.compressed_size(linked) == package.compressed_size(alone)
