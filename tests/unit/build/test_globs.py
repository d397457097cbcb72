"""watch globs: which changed files rerun a build, and which folders are watched."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from edgesim.build.globs import WatchGlobs, glob_problem


def test_double_star_spans_folders_and_star_stays_in_one(tmp_path: Path) -> None:
    globs = WatchGlobs(tmp_path, ["src/**/*.ts"])
    assert globs.matches(tmp_path / "src/router.ts")
    assert globs.matches(tmp_path / "src/lib/deep/util.ts")
    assert not globs.matches(tmp_path / "src/router.js")
    assert not globs.matches(tmp_path / "dist/router.ts")
    assert not globs.matches(tmp_path / "other/src/router.ts")
    single = WatchGlobs(tmp_path, ["src/*.ts"])
    assert single.matches(tmp_path / "src/a.ts")
    assert not single.matches(tmp_path / "src/lib/a.ts")


def test_only_the_folders_before_the_first_wildcard_are_watched(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "shared").mkdir()
    globs = WatchGlobs(tmp_path, ["src/**/*.ts", "shared/util.ts", "tsconfig.json", "gone/*.ts"])
    # A folder that does not exist yet: its nearest existing parent within the project.
    assert globs.roots() == {tmp_path / "src", tmp_path / "shared", tmp_path}


def test_globs_that_cannot_work_are_explained() -> None:
    assert glob_problem("src/**/*.ts") is None
    assert "relative" in (glob_problem("/abs/src/*.ts") or "")
    assert "whole path segment" in (glob_problem("src/**.ts") or "")
    assert "use /" in (glob_problem("src\\a.ts") or "")


_NAMES = st.text(st.sampled_from("abcxyz01_-."), min_size=1, max_size=6).filter(
    lambda n: n not in (".", "..")
)


@given(parts=st.lists(_NAMES, min_size=1, max_size=4))
def test_a_plain_path_matches_itself_and_double_star_matches_everything(parts: list[str]) -> None:
    base = Path("/project")
    path = base.joinpath(*parts)
    assert WatchGlobs(base, ["/".join(parts)]).matches(path)
    assert WatchGlobs(base, ["**/*"]).matches(path)
    assert WatchGlobs(base, ["**"]).matches(path)
    assert not WatchGlobs(base, ["/".join(parts) + "x"]).matches(path)
