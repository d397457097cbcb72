"""The package-size check at start-up: it deflates nothing when the raw sizes already fit, stops
once a package is over the quota, and skips a dangling symlink (as node_modules/.bin can hold)
as zip tools skip it."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgesim.lambda_edge import limits, package


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


FILES = st.lists(
    st.tuples(
        st.integers(0, 4_000),  # size
        st.integers(0, 2**32),  # seed of incompressible content
        st.booleans(),  # incompressible, or a repeated pattern
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60)
@given(files=FILES, cap=st.integers(100, 16_000))
def test_the_size_shortcut_never_changes_the_verdict(
    files: list[tuple[int, int, bool]], cap: int
) -> None:
    """check_package skips deflating when the files' raw sizes already fit: its verdict must
    still be the estimate's (compressed_size <= quota)."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setitem(limits.MAX_PACKAGE_BYTES, "viewer", cap)
        root = Path(tmp)
        for index, (size, seed, random_bytes) in enumerate(files):
            data = random.Random(seed).randbytes(size) if random_bytes else b"ab" * (size // 2)
            (root / f"f{index}.js").write_bytes(data)
        fits = package.compressed_size(root) <= cap
        assert (package.check_package(root, "viewer-request") is None) == fits
