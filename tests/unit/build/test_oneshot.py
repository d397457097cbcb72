"""``load_function(build=…)``, ``edgesim test --build`` and ``edgesim lint --build``: one build,
then every position in the sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgesim.build.oneshot import BuildFailed
from edgesim.cli import main
from edgesim.runtime.function import CompatibilityError
from edgesim.testing import load_function, viewer_request
from tests.unit.build.conftest import fake_build, needs_node

pytestmark = needs_node

THROWS = """function handler(event) {
  var lang = event.request.headers["accept-language"];
  if (!lang) {
    throw new Error("no language");
  }
  return event.request;
}
"""
CLASSY = """class Router {}
function handler(event) {
  return event.request;
}
"""


def _project(tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/fn.ts").write_text(source)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_load_function_builds_and_gives_runtime_errors_in_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, THROWS, monkeypatch)
    fn = load_function("dist/fn.js", build=fake_build("src/fn.ts", "dist/fn.js"))
    result = fn.run(viewer_request("/"))
    assert result.error is not None
    # The throw is on source line 4 (built line 6).
    assert result.error.position is not None
    assert result.error.position.startswith("src/fn.ts:4:")
    assert "[dist/fn.js:6:" in result.error.position
    assert result.error.stack[0].startswith("handler (src/fn.ts:4:")


def test_load_function_gives_compatibility_findings_in_the_source_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, CLASSY, monkeypatch)
    with pytest.raises(CompatibilityError) as caught:
        load_function("dist/fn.js", build=fake_build("src/fn.ts", "dist/fn.js"))
    message = str(caught.value)
    assert "src/fn.ts:1:1 [dist/fn.js:3:1]: error [class]" in message
    assert "build hint: an ES2015 construct" in message
    assert caught.value.position == "src/fn.ts:1:1 [dist/fn.js:3:1]"


def test_a_failed_build_raises_with_the_compilers_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path, THROWS, monkeypatch)
    with pytest.raises(BuildFailed, match="error TS2304"):
        load_function("dist/fn.js", build=fake_build("src/fn.ts", "dist/fn.js", "--fail"))


def test_cli_test_with_build_reports_the_error_in_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(tmp_path, THROWS, monkeypatch)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"request": {"method": "GET", "uri": "/", "headers": {}}}))
    build = fake_build("src/fn.ts", "dist/fn.js")
    code = main(["test", "dist/fn.js", "--event", str(event), "--build", build, "--repeat", "1"])
    assert code == 1
    err = capsys.readouterr().err
    assert "function execution error at src/fn.ts:4:" in err
    assert "[dist/fn.js:6:" in err


def test_cli_lint_with_build_gives_findings_in_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(tmp_path, CLASSY, monkeypatch)
    code = main(["lint", "dist/fn.js", "--build", fake_build("src/fn.ts", "dist/fn.js")])
    assert code == 1
    out = capsys.readouterr().out
    assert out.startswith("src/fn.ts:1:1 [dist/fn.js:3:1]: error [class]")
    assert "build hint:" in out


def test_cli_build_failure_exits_1_with_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(tmp_path, CLASSY, monkeypatch)
    code = main(["lint", "dist/fn.js", "--build", fake_build("src/fn.ts", "dist/fn.js", "--fail")])
    assert code == 1
    assert "Cannot find name 'oops'" in capsys.readouterr().err


def test_cli_lint_json_with_build_adds_the_source_position_and_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(tmp_path, CLASSY, monkeypatch)
    build = fake_build("src/fn.ts", "dist/fn.js")
    assert main(["lint", "dist/fn.js", "--json", "--build", build]) == 1
    [row] = json.loads(capsys.readouterr().out)
    assert (row["file"], row["line"], row["column"], row["rule"]) == ("dist/fn.js", 3, 1, "class")
    assert row["source"] == {"file": "src/fn.ts", "line": 1, "column": 1}
    assert row["build_hint"].startswith("an ES2015 construct")
