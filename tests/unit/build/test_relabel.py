"""Relabeling: positions of a built file said in its sources, with build hints on findings."""

from __future__ import annotations

import io
from pathlib import Path

from edgesim.build.relabel import Relabeler, RelabelingStream
from edgesim.build.sourcemap import SourceMap

BUILT = Path("dist/router.js")


def _relabeler() -> Relabeler:
    # Built line 3 from col 5 comes from src/router.ts 14:9; line 4 is the bundler's own code.
    rows: list[list[object]] = [[3, 5, 0, 14, 8, None], [4, 1, -1, 1, 0, None]]
    source_map = SourceMap(BUILT, None, ["src/router.ts"], [None], rows)
    relabeler = Relabeler()
    relabeler.set_map(BUILT, source_map)
    return relabeler


def test_a_position_of_the_built_file_is_given_in_the_source() -> None:
    relabeler = _relabeler()
    assert (
        relabeler.position("at dist/router.js:3:7") == "at src/router.ts:14:9 [dist/router.js:3:7]"
    )
    # The absolute name of the same file too.
    absolute = f"{BUILT.resolve()}:3:7"
    assert relabeler.position(absolute) == f"src/router.ts:14:9 [{absolute}]"


def test_other_files_and_longer_paths_are_left_alone() -> None:
    relabeler = _relabeler()
    for text in ("other/dist/router.js:3:7", "dist/router.jsx:3:7", "lib/x.js:3:7", "no position"):
        assert relabeler.position(text) == text


def test_relabeling_twice_changes_nothing_more() -> None:
    relabeler = _relabeler()
    once = relabeler.text("dist/router.js:3:7: error [class] classes are not supported")
    assert relabeler.text(once) == once


def test_a_finding_that_maps_to_the_source_gets_the_setting_behind_it() -> None:
    text = "dist/router.js:3:7: error [optional-chaining] optional chaining (?.) is not supported"
    lines = _relabeler().text(text).split("\n")
    assert lines[0].startswith("src/router.ts:14:9 [dist/router.js:3:7]: error [optional-chaining]")
    assert lines[1].strip().startswith("build hint: ?. is ES2020")
    assert "--target=es2019" in lines[1]


def test_a_finding_in_the_bundlers_own_code_says_so() -> None:
    text = "    dist/router.js:4:3: error [for-of] for…of loops are not supported"
    lines = _relabeler().text(text).split("\n")
    assert lines[0] == text  # no source to give
    assert "not from your sources" in lines[1]
    assert lines[1].startswith("        build hint:")  # under the finding


def test_findings_of_unbuilt_files_get_no_hint() -> None:
    text = "fn.js:3:7: error [class] classes are not supported"
    assert _relabeler().text(text) == text


def test_an_empty_relabeler_changes_nothing() -> None:
    relabeler = Relabeler()
    assert not relabeler
    assert (
        relabeler.text("dist/router.js:3:7: error [class] x")
        == "dist/router.js:3:7: error [class] x"
    )


def test_the_stream_relabels_whole_lines_as_they_complete() -> None:
    target = io.StringIO()
    stream = RelabelingStream(target, _relabeler())
    stream.write("error at dist/rou")
    assert target.getvalue() == ""  # half a line: held until it is complete
    stream.write("ter.js:3:7\nnext")
    assert target.getvalue() == "error at src/router.ts:14:9 [dist/router.js:3:7]\n"
    stream.flush()
    assert target.getvalue().endswith("\nnext")
