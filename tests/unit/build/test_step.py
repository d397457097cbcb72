"""A build step: running the command, telling its own writes from the user's edits."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from edgesim.build.runner import run_build
from edgesim.build.step import BuildStep
from tests.unit.build.conftest import fake_build, needs_node

SOURCE = "function handler(event) {\n  return event.request;\n}\n"


def _project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/fn.ts").write_text(SOURCE)
    return tmp_path


def test_the_command_runs_in_its_directory_and_its_output_is_kept(tmp_path: Path) -> None:
    outcome = run_build("pwd; echo to-stderr >&2; exit 3", tmp_path, 30)
    assert outcome.returncode == 3
    assert not outcome.ok
    assert str(tmp_path) in outcome.output
    assert "to-stderr" in outcome.output
    assert outcome.describe().startswith(
        "build `pwd; echo to-stderr >&2; exit 3` failed (exit status 3)"
    )


def test_a_build_past_its_timeout_is_stopped_with_its_children(tmp_path: Path) -> None:
    marker = tmp_path / "late"
    # The shell starts a child that would write the marker after the timeout.
    command = f"(sleep 1; touch {shlex.quote(str(marker))}) & wait"
    outcome = run_build(command, tmp_path, 0.2)
    assert outcome.timed_out
    assert not outcome.ok
    assert "stopped after" in outcome.describe()
    time.sleep(1.3)
    assert not marker.exists()  # the whole process group was stopped


def test_a_failed_build_shows_the_compilers_own_error(tmp_path: Path) -> None:
    project = _project(tmp_path)
    step = BuildStep(
        fake_build("src/fn.ts", "dist/fn.js", "--fail"), project, outputs=[project / "dist/fn.js"]
    )
    report = step.run()
    assert not report.ok
    assert "error TS2304: Cannot find name 'oops'" in report.describe()


def test_the_builds_own_output_never_triggers_another_build(tmp_path: Path) -> None:
    project = _project(tmp_path)
    out = project / "src/out.js"  # written where a watch glob also matches it
    step = BuildStep(
        fake_build("src/fn.ts", "src/out.js", "--no-map"),
        project,
        outputs=[out],
        watch=["src/**/*"],
    )
    assert step.run().ok
    assert not step.concerns(out)
    assert step.concerns(project / "src/fn.ts")  # the user's source does
    assert not step.concerns(project / "README.md")  # matched by no glob


def test_a_file_the_build_wrote_counts_again_once_the_user_edits_it(tmp_path: Path) -> None:
    project = _project(tmp_path)
    gen = project / "src/generated.ts"
    command = f"{fake_build('src/fn.ts', 'dist/fn.js', '--no-map')} && {shlex.quote(sys.executable)} -c \"open('src/generated.ts','w').write('x')\""
    step = BuildStep(command, project, outputs=[project / "dist/fn.js"], watch=["src/**/*.ts"])
    assert step.run().ok
    assert not step.concerns(gen)  # as the build left it
    gen.write_text("edited by the user, longer")
    assert step.concerns(gen)


@needs_node
def test_a_passing_build_maps_its_positions_to_the_sources(tmp_path: Path) -> None:
    project = _project(tmp_path)
    step = BuildStep(
        fake_build("src/fn.ts", "dist/fn.js"), project, outputs=[project / "dist/fn.js"]
    )
    report = step.run()
    assert report.ok, report.describe()
    # "return" is on built line 4 (two wrapper lines), source line 2, column 3.
    built = project / "dist/fn.js"  # as serve names it (the config's path)
    assert step.relabeler.position(f"{built}:4:3") == f"src/fn.ts:2:3 [{built}:4:3]"
