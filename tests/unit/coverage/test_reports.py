"""Coverage through LoadedFunction, and its reports read back by ordinary readers: an lcov
parser (and lcov's own tools when installed), xml.etree against Cobertura's DTD (and xmllint
when installed), the HTML pages."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from edgesim.coverage import formats, html
from edgesim.coverage.collector import Collector
from edgesim.coverage.reports import fail_under_message, parse_spec, write_reports
from edgesim.coverage.summary import summarise, total
from edgesim.errors import InputError
from edgesim.runtime.function import BudgetPolicy, LoadedFunction
from edgesim.runtime.source import read_function
from edgesim.testing import viewer_request
from edgesim.testing.loading import EdgeFunction

FUNCTION = """\
function pick(uri) {
  if (uri === '/a') {
    return 'a';
  }
  return uri.length > 3 ? 'long' : 'short';
}

function handler(event) {
  var request = event.request;
  var flag = request.headers['x-flag'] && request.headers['x-flag'].value;
  request.headers['x-pick'] = { value: pick(request.uri) };
  if (flag === 'boom') {
    throw new Error('boom');
  }
  return request;
}
"""


@pytest.fixture
def function_file(tmp_path: Path) -> Path:
    path = tmp_path / "fn.js"
    path.write_text(FUNCTION)
    return path


def load(path: Path, collector: Collector | bool, **options: object) -> EdgeFunction:
    return EdgeFunction(LoadedFunction(read_function(path), coverage=collector, **options), None)  # type: ignore[arg-type]


def exercised(path: Path) -> Collector:
    collector = Collector()
    fn = load(path, collector)
    for uri in ("/a", "/long-path"):
        fn.run(viewer_request(uri))
    fn.run(viewer_request("/boom-path", headers={"x-flag": "boom"}))
    return collector


def test_counts_add_up_across_loads_and_invocations(function_file: Path) -> None:
    collector = exercised(function_file)
    load(function_file, collector).run(viewer_request("/a"))  # a second load of the same file
    (summary,) = summarise(collector)
    assert summary.lines[9] == 4  # every invocation ran `var request`
    assert summary.lines[3] == 2  # '/a' twice
    assert summary.missed_lines == []
    missed = {(b.line, b.kind, arm.label) for b, arm in summary.missed_arms}
    assert missed == {(5, "?:", "else")}  # no short URI other than '/a'
    assert {f.name: f.count for f in summary.functions} == {"pick": 4, "handler": 4}


def test_a_file_loaded_with_other_text_starts_over(function_file: Path) -> None:
    collector = exercised(function_file)
    function_file.write_text(FUNCTION.replace("'long'", "'LONG'"))
    load(function_file, collector).run(viewer_request("/a"))
    (summary,) = summarise(collector)
    assert summary.lines[9] == 1
    assert "'LONG'" in summary.text


def test_errors_keep_their_positions_and_contexts_are_not_rebuilt(function_file: Path) -> None:
    plain = load(function_file, False)
    covered = load(function_file, Collector())
    event = viewer_request("/", headers={"x-flag": "boom"})
    errors = [fn.run(event).error for fn in (plain, covered)]
    assert errors[0] is not None
    assert errors[1] is not None
    assert errors[0].position == errors[1].position
    assert str(errors[0].position).startswith(f"{function_file}:13:")
    assert errors[0].stack == errors[1].stack
    for _ in range(5):
        covered.run(viewer_request("/x"))
    # The counters' global is not something the function left behind.
    assert covered.loaded.sessions_built == plain.loaded.sessions_built


def test_deterministic_compute_is_unchanged_by_the_counters(function_file: Path) -> None:
    budget = BudgetPolicy(deterministic=True, budget_ns=10_000)
    runs = [
        load(function_file, collector, budget=budget).run(viewer_request("/long-path"))
        for collector in (False, Collector())
    ]
    assert runs[0].compute_utilization == runs[1].compute_utilization > 0


def test_only_included_files_are_measured(function_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "fn.js"
    other.parent.mkdir()
    other.write_text(FUNCTION)
    collector = Collector(include=[other.parent])
    load(function_file, collector).run(viewer_request("/a"))
    load(other, collector).run(viewer_request("/a"))
    assert [s.path.endswith("elsewhere/fn.js") for s in summarise(collector)] == [True]


def test_counts_survive_the_trip_between_processes(function_file: Path) -> None:
    collector = exercised(function_file)
    combined = Collector()
    combined.merge(collector.to_dict())
    combined.merge(collector.to_dict())
    (one,) = collector.files.values()
    (two,) = combined.files.values()
    assert two.counts == [2 * c for c in one.counts]


# -- lcov ------------------------------------------------------------------------------------


def parse_lcov(text: str) -> dict[str, dict[str, list[str]]]:
    """An lcov tracefile as {SF: {record type: [values]}}, checking its record structure."""
    files: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in text.splitlines():
        if line == "end_of_record":
            assert current is not None
            current = None
            continue
        kind, sep, value = line.partition(":")
        assert sep, f"not an lcov record: {line!r}"
        if kind == "SF":
            current = files[value] = {}
        elif kind != "TN":
            assert current is not None, f"{kind} outside a file record"
            current.setdefault(kind, []).append(value)
    assert current is None, "the last record is not ended"
    return files


def test_lcov_records_agree_with_their_totals(function_file: Path) -> None:
    (record,) = parse_lcov(formats.lcov(summarise(exercised(function_file)))).values()
    da = [tuple(map(int, v.split(","))) for v in record["DA"]]
    assert int(record["LF"][0]) == len(da)
    assert int(record["LH"][0]) == sum(1 for _, hits in da if hits > 0)
    brda = [v.split(",") for v in record["BRDA"]]
    assert int(record["BRF"][0]) == len(brda) == 8
    assert int(record["BRH"][0]) == sum(1 for *_, taken in brda if taken not in ("-", "0"))
    assert ["5", "1", "1", "0"] in brda  # the ternary's else arm, reached but never taken
    assert sorted(record["FNDA"]) == ["3,handler", "3,pick"]


@pytest.mark.skipif(shutil.which("lcov") is None, reason="lcov is not installed")
def test_lcov_reads_the_tracefile(function_file: Path, tmp_path: Path) -> None:
    trace = tmp_path / "cov.lcov"
    trace.write_text(formats.lcov(summarise(exercised(function_file))))
    done = subprocess.run(
        ["lcov", "--summary", str(trace), "--rc", "lcov_branch_coverage=1"],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout + done.stderr
    assert "lines......: 100.0% (9 of 9 lines)" in out
    assert "branches...: 87.5% (7 of 8 branches)" in out


@pytest.mark.skipif(shutil.which("genhtml") is None, reason="genhtml is not installed")
def test_genhtml_renders_the_tracefile(function_file: Path, tmp_path: Path) -> None:
    collector = exercised(function_file)
    trace = tmp_path / "cov.lcov"
    trace.write_text(formats.lcov(summarise(collector)))
    subprocess.run(
        ["genhtml", "--quiet", "--branch-coverage", "-o", str(tmp_path / "out"), str(trace)],
        capture_output=True,
        check=True,
        cwd=Path.cwd(),
    )
    assert (tmp_path / "out" / "index.html").exists()


# -- Cobertura --------------------------------------------------------------------------------

# Cobertura's coverage-04.dtd: element → (children in order, required attributes, optional).
COBERTURA = {
    "coverage": (
        ["sources?", "packages"],
        ["line-rate", "branch-rate", "lines-covered", "lines-valid", "branches-covered",
         "branches-valid", "complexity", "version", "timestamp"],
        [],
    ),
    "sources": (["source*"], [], []),
    "source": ([], [], []),
    "packages": (["package*"], [], []),
    "package": (["classes"], ["name", "line-rate", "branch-rate", "complexity"], []),
    "classes": (["class*"], [], []),
    "class": (
        ["methods", "lines"], ["name", "filename", "line-rate", "branch-rate", "complexity"], []
    ),
    "methods": (["method*"], [], []),
    "method": (["lines"], ["name", "signature", "line-rate", "branch-rate", "complexity"], []),
    "lines": (["line*"], [], []),
    "line": (["conditions*"], ["number", "hits"], ["branch", "condition-coverage"]),
    "conditions": (["condition*"], [], []),
    "condition": ([], ["number", "type", "coverage"], []),
}  # fmt: skip


def check_against_dtd(element: ET.Element) -> None:
    children, required, optional = COBERTURA[element.tag]
    assert set(required) <= set(element.attrib), (element.tag, element.attrib)
    assert set(element.attrib) <= set(required) | set(optional), (element.tag, element.attrib)
    tags = [child.tag for child in element]
    position = 0
    for spec in children:
        name = spec.rstrip("?*")
        count = 0
        while position < len(tags) and tags[position] == name:
            position, count = position + 1, count + 1
        assert count >= (0 if spec[-1:] in "?*" else 1), (element.tag, tags)
        assert spec.endswith("*") or count <= 1, (element.tag, tags)
    assert position == len(tags), f"unexpected children of {element.tag}: {tags}"
    for child in element:
        check_against_dtd(child)


def dtd_text() -> str:
    lines = []
    for tag, (children, required, optional) in COBERTURA.items():
        model = "(" + ",".join(children) + ")" if children else "EMPTY"
        if tag == "source":
            model = "(#PCDATA)"
        lines.append(f"<!ELEMENT {tag} {model}>")
        for name in required:
            lines.append(f"<!ATTLIST {tag} {name} CDATA #REQUIRED>")
        for name in optional:
            lines.append(f"<!ATTLIST {tag} {name} CDATA #IMPLIED>")
    return "\n".join(lines) + "\n"


def test_cobertura_follows_the_dtd_and_adds_up(function_file: Path) -> None:
    text = formats.cobertura(summarise(exercised(function_file)), source_root="/src")
    root = ET.fromstring(text.split("\n", 2)[2])  # past the declaration and the DOCTYPE
    check_against_dtd(root)
    assert root.get("lines-valid") == "9"
    assert root.get("lines-covered") == "9"
    assert root.get("branches-valid") == "8"
    assert root.get("branches-covered") == "7"
    (cls,) = root.iter("class")
    assert cls.get("filename", "").endswith("fn.js")
    partial = [line for line in cls.iter("line") if line.get("number") == "5"]
    assert partial[-1].get("condition-coverage") == "50% (1/2)"
    assert [m.get("name") for m in cls.iter("method")] == ["pick", "handler"]


@pytest.mark.skipif(shutil.which("xmllint") is None, reason="xmllint is not installed")
def test_xmllint_validates_the_cobertura_report(function_file: Path, tmp_path: Path) -> None:
    (tmp_path / "coverage-04.dtd").write_text(dtd_text())
    report = tmp_path / "cov.xml"
    report.write_text(formats.cobertura(summarise(exercised(function_file))))
    done = subprocess.run(
        ["xmllint", "--noout", "--dtdvalid", str(tmp_path / "coverage-04.dtd"), str(report)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


# -- terminal, HTML, specs ---------------------------------------------------------------------


def test_term_missing_table(function_file: Path) -> None:
    summaries = summarise(exercised(function_file))
    table = formats.term(summaries)
    row = next(line for line in table.splitlines() if "fn.js" in line)
    assert row.split()[1:] == ["9", "0", "8", "1", "94%", "5:?:", "else"]
    assert "TOTAL" in table
    assert total(summaries) == pytest.approx(16 / 17)


def test_html_has_a_page_per_function_with_counts(function_file: Path, tmp_path: Path) -> None:
    summaries = summarise(exercised(function_file))
    index = html.write(summaries, tmp_path / "html")
    page = tmp_path / "html" / html.page_name(summaries[0].path)
    assert html.page_name(summaries[0].path) in index.read_text()
    text = page.read_text()
    assert '<td class="n">9</td><td class="c">3</td>' in text
    assert "never taken: ?: else" in text


def test_write_reports_writes_each_kind(function_file: Path, tmp_path: Path) -> None:
    specs = [parse_spec(s) for s in ("term", "lcov:out/a.lcov", "xml:out/a.xml", "html:out/h")]
    text, share = write_reports(exercised(function_file), specs, root=tmp_path)
    assert (tmp_path / "out/a.lcov").exists()
    assert (tmp_path / "out/a.xml").exists()
    assert (tmp_path / "out/h/index.html").exists()
    assert "Cover" in text
    assert "out/a.lcov" in text
    assert fail_under_message(share, 94) is None
    message = fail_under_message(share, 95)
    assert message is not None
    assert "94.12%" in message


@pytest.mark.parametrize("spec", ["term:x", "lcov:", "json:x", "cobertura"])
def test_bad_report_specs_say_what_is_accepted(spec: str) -> None:
    with pytest.raises(InputError, match="coverage report"):
        parse_spec(spec)


def test_default_targets() -> None:
    assert parse_spec("lcov").target == "edgesim-cov.lcov"
    assert parse_spec("html").target == "edgesim-htmlcov"


def test_a_file_keeps_one_entry_when_a_test_changes_directory(
    function_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    collector = Collector()  # started here: paths are shown relative to this directory
    load(function_file, collector).run(viewer_request("/a"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    load(function_file, collector).run(viewer_request("/a"))
    assert list(collector.files) == ["fn.js"]
