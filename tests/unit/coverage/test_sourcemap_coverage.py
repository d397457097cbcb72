"""Coverage of built functions reported in their sources through the build's source maps, on
a project written by hand (tests/unit/coverage/sourcemap_project.py): two "compiled" files
sharing a helper module, with glue that maps to nothing."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from edgesim.build import sourcemap
from edgesim.coverage import formats, html
from edgesim.coverage.collector import Collector
from edgesim.coverage.reports import parse_spec, write_reports
from edgesim.coverage.sourcemaps import summaries_in_sources
from edgesim.coverage.summary import FileSummary, total
from edgesim.runtime.function import LoadedFunction
from edgesim.runtime.source import read_function
from edgesim.testing import viewer_request
from edgesim.testing.loading import EdgeFunction
from tests.unit.build.conftest import needs_node
from tests.unit.build.mapkit import write_map
from tests.unit.coverage.sourcemap_project import GLUE_COUNTERS, line_of, write_project
from tests.unit.coverage.test_reports import check_against_dtd, parse_lcov

pytestmark = needs_node

SOURCES = ["src/a.ts", "src/b.ts", "src/shared/cohort.ts"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_project(tmp_path)
    monkeypatch.chdir(tmp_path)  # reports show paths relative to where coverage started
    return tmp_path


def _load(path: str, collector: Collector) -> EdgeFunction:
    return EdgeFunction(LoadedFunction(read_function(path), coverage=collector), None)


def exercised() -> Collector:
    """a.js with an odd-length URI, b.js with an even one; "/skip" never."""
    collector = Collector()
    a = _load("dist/a.js", collector)
    b = _load("dist/b.js", collector)
    odd, even = a.run(viewer_request("/ab")).request, b.run(viewer_request("/abc")).request
    assert odd is not None
    assert even is not None
    assert odd["headers"]["x-cohort"] == {"value": "odd"}
    assert even["headers"]["x-b"] == {"value": "even"}
    return collector


def _by_path(summaries: list[FileSummary]) -> dict[str, FileSummary]:
    return {s.path: s for s in summaries}


def test_the_report_lists_the_sources_at_their_lines(project: Path) -> None:
    summaries, notes = summaries_in_sources(exercised())
    files = _by_path(summaries)
    assert sorted(files) == SOURCES  # no dist/ entry: everything else maps or is glue
    b = files["src/b.ts"]
    skip_if = line_of("src/b.ts", 'if (request.uri === "/skip")')
    # The branch no test took, at its line in the .ts file; its body's line missed.
    assert [(br.line, br.kind, arm.label) for br, arm in b.missed_arms] == [(skip_if, "if", "then")]
    assert b.missed_lines == [line_of("src/b.ts", "return request;\n  }")]
    assert b.lines[skip_if] == 1
    assert [(f.name, f.line) for f in b.functions] == [
        ("handler", line_of("src/b.ts", "export function handler"))
    ]
    for path, glue in GLUE_COUNTERS.items():
        noun = "probe" if glue == 1 else "probes"
        assert f"{path}: {glue} {noun} in generated code without a source, not counted" in notes


def test_a_shared_module_adds_up_across_both_functions(project: Path) -> None:
    cohort = _by_path(summaries_in_sources(exercised())[0])["src/shared/cohort.ts"]
    # a.js took the odd arm, b.js the even one: merged, the if is fully covered.
    assert cohort.missed_arms == []
    assert cohort.missed_lines == []
    assert cohort.lines[line_of("src/shared/cohort.ts", "if (id.length")] == 2
    assert cohort.lines[line_of("src/shared/cohort.ts", 'return "even"')] == 1
    assert cohort.lines[line_of("src/shared/cohort.ts", 'return "odd"')] == 1
    assert [(f.name, f.count) for f in cohort.functions] == [("cohort", 2)]


def test_only_one_function_leaves_the_shared_branch_half_taken(project: Path) -> None:
    collector = Collector()
    _load("dist/a.js", collector).run(viewer_request("/ab"))
    cohort = _by_path(summaries_in_sources(collector)[0])["src/shared/cohort.ts"]
    line = line_of("src/shared/cohort.ts", "if (id.length")
    assert [(b.line, arm.label) for b, arm in cohort.missed_arms] == [(line, "then")]
    assert cohort.missing() == f"{line + 1}, {line}:if then"


def test_lcov_and_cobertura_name_the_sources(project: Path) -> None:
    summaries, _notes = summaries_in_sources(exercised())
    records = parse_lcov(formats.lcov(summaries))
    assert sorted(records) == SOURCES
    skip_if = line_of("src/b.ts", 'if (request.uri === "/skip")')
    assert f"{skip_if},0,0,0" in records["src/b.ts"]["BRDA"]  # then: never taken
    assert f"{skip_if},0,1,1" in records["src/b.ts"]["BRDA"]  # else: once
    assert (
        f"{line_of('src/shared/cohort.ts', 'if (id.length')},2"
        in (records["src/shared/cohort.ts"]["DA"])
    )
    root = ET.fromstring(formats.cobertura(summaries).split("\n", 2)[2])
    check_against_dtd(root)
    assert sorted(c.attrib["filename"] for c in root.iter("class")) == SOURCES


def test_html_shows_the_source_text(project: Path) -> None:
    files = _by_path(summaries_in_sources(exercised())[0])
    # a.js's map embeds the sources; b.js's does not: read from disk next to the map's sources.
    page = html.file_page(files["src/b.ts"])
    assert "if (request.uri === &quot;/skip&quot;)" in page
    assert "never taken: if then" in page
    assert "return &quot;even&quot;;" in html.file_page(files["src/shared/cohort.ts"])


def test_fail_under_takes_the_sources_figures_and_the_option_turns_maps_off(
    project: Path,
) -> None:
    collector = exercised()
    spec = [parse_spec("term-missing")]
    text, share = write_reports(collector, spec)
    assert share == total(summaries_in_sources(collector)[0])
    assert "src/shared/cohort.ts" in text
    assert "dist/" not in text.split("Note:")[0]
    plain, plain_share = write_reports(collector, spec, sourcemaps=False)
    assert [line.split()[0] for line in plain.splitlines()[2:4]] == ["dist/a.js", "dist/b.js"]
    assert "src/" not in plain
    assert plain_share != share  # glue counted, the shared module twice


def test_a_file_rebuilt_since_it_was_measured_keeps_its_own_lines(project: Path) -> None:
    collector = exercised()
    built = project / "dist" / "a.js"
    built.write_text(built.read_text().replace("__wrap", "__wrap2"))
    files, notes = summaries_in_sources(collector)
    assert "dist/a.js" in _by_path(files)
    assert any(n.startswith("dist/a.js: changed on disk since it was measured") for n in notes)


def test_without_node_the_built_files_are_reported_and_a_note_says_why(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sourcemap, "_DECODED", OrderedDict())
    monkeypatch.setattr(sourcemap, "node_executable", lambda: None)
    files, notes = summaries_in_sources(exercised())
    assert sorted(_by_path(files)) == ["dist/a.js", "dist/b.js"]
    assert any("dist/a.js: decoding a source map needs Node.js" in n for n in notes)


def test_each_map_is_decoded_once_in_one_node_process(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sourcemap, "_DECODED", OrderedDict())
    calls: list[int] = []
    decode = sourcemap.decode_many

    def counted(requests: list[tuple[dict[str, object], str]]) -> list[list[list[object]]]:
        calls.append(len(requests))
        return decode(requests)

    monkeypatch.setattr(sourcemap, "decode_many", counted)
    collector = exercised()
    summaries_in_sources(collector)
    summaries_in_sources(collector)
    assert calls == [2]  # both maps in one Node process, and not again


# -- in a user's suite: --edgesim-cov-fail-under and --edgesim-cov-no-sourcemaps ---------------

SUITE = """
from edgesim.testing import load_function, viewer_request

def test_a():
    assert load_function("dist/a.js").run(viewer_request("/ab")).request is not None

def test_b():
    assert load_function("dist/b.js").run(viewer_request("/abc")).request is not None
"""


def test_the_pytest_options(pytester: pytest.Pytester) -> None:
    from tests.unit.coverage.test_pytest_plugin import INI, PLUGIN_ARGS

    pytester.makeini(INI)
    write_project(pytester.path)
    pytester.makepyfile(test_suite=SUITE)
    options = ("--edgesim-cov=dist", "--edgesim-cov-report=term-missing")
    result = pytester.runpytest(*PLUGIN_ARGS, *options, "--edgesim-cov-fail-under=100")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    skip_if = line_of("src/b.ts", 'if (request.uri === "/skip")')
    result.stdout.fnmatch_lines(
        [
            "src/a.ts * 100%",
            f"src/b.ts * {skip_if + 1}, {skip_if}:if then",
            "src/shared/cohort.ts * 100%",
            "Note: dist/a.js: 3 probes in generated code without a source, not counted",
            "Note: dist/b.js: 1 probe in generated code without a source, not counted",
            # (3 + 4 + 3 lines run, 1 + 2 arms taken) of (11 lines, 4 arms): 13/15.
            "FAIL Required function coverage of 100% not reached. Total coverage: 86.67%",
        ]
    )
    plain = pytester.runpytest(*PLUGIN_ARGS, *options, "--edgesim-cov-no-sourcemaps")
    plain.stdout.fnmatch_lines(["dist/a.js *", "dist/b.js *"])
    assert "src/" not in plain.stdout.str()


def test_edgesim_test_coverage_in_the_sources_or_not(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from edgesim.cli import main

    (project / "event.json").write_text(json.dumps(viewer_request("/skip")))
    command = ["test", "dist/b.js", "--event", "event.json", "--coverage"]
    assert main(command) == 0
    rows = [line.split()[0] for line in capsys.readouterr().err.splitlines()]
    assert "src/b.ts" in rows
    assert "src/shared/cohort.ts" in rows  # loaded, never called: 0%
    assert main([*command, "--coverage-no-sourcemaps"]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert "dist/b.js" in rows
    assert not [row for row in rows if row.startswith("src/")]


@pytest.mark.parametrize(("setting", "shown"), [(None, "src/b.ts"), ("1", "dist/b.js")])
def test_serve_reports_follow_edgesim_coverage_no_sourcemaps(
    project: Path, monkeypatch: pytest.MonkeyPatch, setting: str | None, shown: str
) -> None:
    import atexit
    import io

    from edgesim import coverage
    from edgesim.coverage.reports import record_until_exit
    from edgesim.testing import load_function

    if setting is None:
        monkeypatch.delenv("EDGESIM_COVERAGE_NO_SOURCEMAPS", raising=False)
    else:
        monkeypatch.setenv("EDGESIM_COVERAGE_NO_SOURCEMAPS", setting)
    at_exit: list[object] = []
    monkeypatch.setattr(atexit, "register", at_exit.append)
    out = io.StringIO()
    record_until_exit(["term"], out=out)
    try:
        load_function("dist/b.js").run(viewer_request("/abc"))
    finally:
        coverage.stop()
    (write,) = at_exit
    write()  # type: ignore[operator]
    assert shown in [line.split()[0] for line in out.getvalue().splitlines() if line.strip()]


def test_a_source_whose_text_is_nowhere_shows_its_counts_by_line(project: Path) -> None:
    collector = exercised()
    (project / "src" / "b.ts").unlink()  # b.js's map does not embed it either
    b = _by_path(summaries_in_sources(collector)[0])["src/b.ts"]
    assert b.text == ""
    page = html.file_page(b)
    assert "The source's text is not available" in page
    last = max(b.lines)
    assert f'<td class="n">{last}</td><td class="c">{b.lines[last]}</td>' in page


def test_including_the_sources_measures_the_functions_built_from_them(project: Path) -> None:
    (project / "plain.js").write_text("function handler(event) { return event.request; }\n")

    def measured(*include: str) -> Collector:
        collector = Collector(include)
        a = _load("dist/a.js", collector)
        a.run(viewer_request("/ab"))
        _load("plain.js", collector).run(viewer_request("/"))  # no map, not under include
        return collector

    shared = measured("src/shared")
    assert [s.path for s in summaries_in_sources(shared)[0]] == ["src/shared/cohort.ts"]
    # Built from sources elsewhere: not measured at all (decided from the map's source list).
    other = project / "dist" / "other.js"
    other.write_text("function handler(event) { return event.request; }\n")
    write_map(other, [(0, 0, 0, 0, 0)], ["../lib/other.ts"])
    _load("dist/other.js", shared).run(viewer_request("/"))
    assert sorted(shared.files) == ["dist/a.js"]
    assert summaries_in_sources(shared, sourcemaps=False)[0] == []  # dist/ is not included
    every = measured("src")
    assert [s.path for s in summaries_in_sources(every)[0]] == ["src/a.ts", "src/shared/cohort.ts"]
    # Across pytest-xdist workers, the controller knows why the built file was measured.
    combined = Collector(["src/shared"])
    combined.merge(shared.to_dict())
    assert [s.path for s in summaries_in_sources(combined)[0]] == ["src/shared/cohort.ts"]
    # The built files' own folder included: every source of theirs, as without include.
    built = measured("dist")
    assert [s.path for s in summaries_in_sources(built)[0]] == ["src/a.ts", "src/shared/cohort.ts"]
