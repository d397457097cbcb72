"""Builds in serve: grouped by command, debounced, one at a time, one more run for changes made
during a build, and a reload only after a build that passes."""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path

from edgesim.build.serve import ServeBuilds
from edgesim.distribution.model import FunctionDecl

# Appends a line to runs.log, takes a moment, then writes both outputs (or fails).
SCRIPT = """
import sys, time
from pathlib import Path
with open("runs.log", "a") as log:
    log.write("start\\n")
time.sleep(0.3)
if "@fail" in Path("src/a.ts").read_text():
    print("src/a.ts(1,1): error TS1005: ';' expected.")
    sys.exit(1)
Path("dist").mkdir(exist_ok=True)
for name in ("a", "b"):
    Path(f"dist/{name}.js").write_text("function handler(e) { return e.request; }\\n")
"""


def _project(tmp_path: Path) -> dict[str, FunctionDecl]:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/a.ts").write_text("export const a = 1;\n")
    (tmp_path / "build.py").write_text(SCRIPT)
    command = f"{shlex.quote(sys.executable)} build.py"
    return {
        name: FunctionDecl(
            name=name,
            file=tmp_path / f"dist/{name}.js",
            build=command,
            watch=("src/**/*.ts",),
            build_dir=tmp_path,
        )
        for name in ("a", "b")
    }


def _runs(tmp_path: Path) -> int:
    log = tmp_path / "runs.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_functions_sharing_a_command_share_one_build(tmp_path: Path) -> None:
    builds = ServeBuilds(_project(tmp_path))
    said: list[str] = []
    builds.build_all(said.append, said.append)
    assert _runs(tmp_path) == 1
    [row] = builds.status()
    assert row["functions"] == ["a", "b"]
    assert row["ok"] is True
    assert builds.outputs() >= {
        (tmp_path / "dist/a.js").resolve(),
        (tmp_path / "dist/b.js").resolve(),
    }


async def test_changes_are_debounced_and_changes_during_a_build_run_it_once_more(
    tmp_path: Path,
) -> None:
    builds = ServeBuilds(_project(tmp_path))
    reloaded: list[Path] = []
    said: list[str] = []
    source = tmp_path / "src/a.ts"
    # A burst of saves: one build.
    for _ in range(3):
        builds.changed({source}, reloaded.append, said.append, said.append)
    await builds.idle()
    assert _runs(tmp_path) == 1
    assert sorted(p.name for p in reloaded) == ["a.js", "b.js"]  # reloaded after it passed
    # A change while it builds: exactly one more run after it.
    assert len(builds.changed({source}, reloaded.append, said.append, said.append)) == 1
    while _runs(tmp_path) < 2:  # noqa: ASYNC110 (the second build has started: a file)
        await asyncio.sleep(0.02)
    for _ in range(3):
        assert builds.changed({source}, reloaded.append, said.append, said.append) == []
    await builds.idle()
    assert _runs(tmp_path) == 3
    # A file no glob matches starts nothing.
    assert builds.changed({tmp_path / "README.md"}, reloaded.append, said.append, said.append) == []


async def test_a_failed_build_reloads_nothing_and_says_why(tmp_path: Path) -> None:
    builds = ServeBuilds(_project(tmp_path))
    reloaded: list[Path] = []
    errors: list[str] = []
    (tmp_path / "src/a.ts").write_text("@fail\n")
    builds.changed({tmp_path / "src/a.ts"}, reloaded.append, lambda _: None, errors.append)
    await builds.idle()
    assert reloaded == []
    [error] = errors
    assert "error TS1005: ';' expected." in error
    assert error.endswith("still serving the last good version")
    assert builds.status()[0]["ok"] is False
