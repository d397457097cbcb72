"""Lambda@Edge functions with a build step: the ``[[lambdas]]`` keys, a step building a lambda's
file or package directory, and a command shared by a function and a lambda."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.build.serve import ServeBuilds, strictest_events
from edgesim.build.step import BuildStep
from edgesim.cli import main
from edgesim.distribution.config import load_config
from edgesim.distribution.model import (
    Behavior,
    CachePolicy,
    Distribution,
    FunctionDecl,
    LambdaAssociation,
    LambdaDecl,
    LambdaEventType,
)
from edgesim.errors import InputError

BASE = """
[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[default_behavior]
origin = "app"
viewer_request = "tag"

[[lambdas]]
name = "tag"
"""


def _load(tmp_path: Path, keys: str) -> Distribution:
    config = tmp_path / "edgesim.toml"
    config.write_text(BASE + keys)
    return load_config(config)


def test_a_built_lambda_needs_no_file_before_its_first_build(tmp_path: Path) -> None:
    dist = _load(
        tmp_path,
        'file = "dist"\nbuild = "npm run build"\nwatch = ["src/**/*.ts"]\nbuild_timeout_s = 30\n',
    )
    decl = dist.lambdas["tag"]
    assert decl.file == tmp_path / "dist"
    assert decl.build == "npm run build"
    assert decl.watch == ("src/**/*.ts",)
    assert decl.build_dir == tmp_path
    assert decl.build_timeout_s == 30


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ('build = "make"\n', r"lambdas\[0\]\.watch: a lambda with build needs watch"),
        ('build = "make"\nwatch = []\n', r"lambdas\[0\]\.watch: must list at least one glob"),
        ('build = "make"\nwatch = ["src/**.ts"]\n', r"watch\[0\]: 'src/\*\*\.ts': \*\* must be"),
        ('watch = ["src/*.ts"]\n', r"lambdas\[0\]\.watch: watch needs build"),
        ('build = "make"\nwatch = ["src/*.ts"]\nbuild_timeout_s = 0\n', r"build_timeout_s: 0 is"),
    ],
)
def test_build_keys_are_checked_as_for_functions(tmp_path: Path, keys: str, message: str) -> None:
    (tmp_path / "tag.js").write_text("exports.handler = async (e) => e.Records[0].cf.request;\n")
    with pytest.raises(InputError, match=message):
        _load(tmp_path, 'file = "tag.js"\n' + keys)


def test_without_build_the_lambda_file_must_exist_as_before(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"lambda file 'dist' does not exist"):
        _load(tmp_path, 'file = "dist"\n')


def test_files_the_build_writes_in_a_package_directory_start_no_build(tmp_path: Path) -> None:
    # The glob matches the package directory too: its files are the build's, not the user's.
    step = BuildStep("true", tmp_path, outputs=[], lambda_outputs=[tmp_path / "dist"],
                     watch=["**/*.js"])  # fmt: skip
    assert not step.concerns(tmp_path / "dist/index.js")
    assert not step.concerns(tmp_path / "dist/lib/util.js")
    assert step.concerns(tmp_path / "src/index.js")


def test_a_build_that_does_not_write_the_lambdas_file_fails(tmp_path: Path) -> None:
    step = BuildStep("true", tmp_path, outputs=[], lambda_outputs=[tmp_path / "dist"])
    report = step.run()
    assert not report.ok
    assert "did not write this lambda's file" in report.describe()
    (tmp_path / "dist").mkdir()
    assert step.run().ok


def test_a_function_and_a_lambda_built_by_one_command_share_one_build(tmp_path: Path) -> None:
    script = (
        "from pathlib import Path\n"
        "with open('runs.log', 'a') as log: log.write('run\\n')\n"
        "Path('dist/pkg').mkdir(parents=True, exist_ok=True)\n"
        "Path('dist/fn.js').write_text('function handler(e) { return e.request; }\\n')\n"
        "Path('dist/pkg/index.js').write_text('exports.handler = async (e) => null;\\n')\n"
    )
    (tmp_path / "build.py").write_text(script)
    command = f"{shlex.quote(sys.executable)} build.py"
    watch = ("src/**/*.ts",)
    fn = FunctionDecl("fn", tmp_path / "dist/fn.js", build=command, watch=watch, build_dir=tmp_path)
    lam = LambdaDecl("lam", tmp_path / "dist/pkg", build=command, watch=watch, build_dir=tmp_path)
    functions, lambdas = {"fn": fn}, {"lam": lam}
    builds = ServeBuilds(functions, lambdas)
    said: list[str] = []
    builds.build_all(said.append, said.append)
    assert (tmp_path / "runs.log").read_text() == "run\n"
    [row] = builds.status()
    assert (row["functions"], row["lambdas"], row["ok"]) == (["fn"], ["lam"], True)
    assert said[0].startswith("building fn, lam: ")
    assert (tmp_path / "dist/pkg").resolve() in builds.outputs()
    # The lambda is gone from a reloaded config: the step now builds the function only.
    builds.update(functions, {})
    [row] = builds.status()
    assert (row["functions"], row["lambdas"]) == (["fn"], [])


def test_a_failed_lambda_build_is_named_as_a_lambda(tmp_path: Path) -> None:
    decl = LambdaDecl(name="lam", file=tmp_path / "dist", build="exit 3", watch=("src/*.ts",),
                      build_dir=tmp_path)  # fmt: skip
    builds = ServeBuilds({}, {"lam": decl})
    said: list[str] = []
    builds.build_all(said.append, said.append)
    [failure] = builds.failures()
    assert failure.startswith("lambda lam: ")


def test_a_built_package_over_its_viewer_quota_fails_the_build(tmp_path: Path) -> None:
    # 1 MB compressed for viewer events, 50 MB for origin events (Quotas on Lambda@Edge):
    # random bytes do not compress, so 1.2 MB of them is over the viewer quota only.
    script = (
        "import os\nfrom pathlib import Path\n"
        "Path('dist').mkdir(exist_ok=True)\n"
        "Path('dist/index.js').write_text('exports.handler = async (e) => null;\\n')\n"
        "Path('dist/blob.bin').write_bytes(os.urandom(1_200_000))\n"
    )
    (tmp_path / "build.py").write_text(script)
    command = f"{shlex.quote(sys.executable)} build.py"
    lam = LambdaDecl("lam", tmp_path / "dist", build=command, watch=("src/*.ts",),
                     build_dir=tmp_path)  # fmt: skip

    def behavior(event: LambdaEventType) -> Behavior:
        return Behavior(path="*", origin="app", cache_policy=CachePolicy(name="p"),
                        lambdas=(LambdaAssociation(event, "lam"),))  # fmt: skip

    said: list[str] = []
    on_origin = ServeBuilds({}, {"lam": lam}, [behavior("origin-request")])
    on_origin.build_all(said.append, said.append)
    assert on_origin.failures() == []
    on_viewer = ServeBuilds(
        {}, {"lam": lam}, [behavior("origin-request"), behavior("viewer-request")]
    )
    on_viewer.build_all(said.append, said.append)
    [failure] = on_viewer.failures()
    assert failure.startswith("lambda lam: ")
    problems = on_viewer.status()[0]["problems"]
    assert "the quota for viewer events is 1,048,576" in problems[0]
    assert "the lambda runs on viewer-request" in problems[0]


BUILD_JS = """
const fs = require("fs");
const src = fs.readFileSync("src/h.ts", "utf8");
if (src.includes("@fail-build")) {
  console.error("src/h.ts(1,7): error TS2304: Cannot find name 'oops'.");
  process.exit(2);
}
fs.mkdirSync("dist", { recursive: true });
fs.writeFileSync("dist/h.js", src.replace(/: any/g, "").replace("export const", "exports.handler ="));
"""
EVENTS = Path(__file__).parents[3] / "fixtures" / "lambda" / "events"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_edgesim_test_lambda_builds_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "build.js").write_text(BUILD_JS)
    (tmp_path / "src").mkdir()
    source = "export const async (event: any) => event.Records[0].cf.request;\n"
    (tmp_path / "src/h.ts").write_text(source)
    argv = ["test", "--lambda", "dist/h.js", "--build", "node build.js"]
    argv += ["--event", str(EVENTS / "viewer-request.json")]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["FunctionErrorMessage"] == ""
    # A failing build: exit 1 with the build's own words, the function is not run.
    (tmp_path / "src/h.ts").write_text(source + "// @fail-build\n")
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "error TS2304: Cannot find name 'oops'" in err


_EVENTS: tuple[LambdaEventType, ...] = (
    "viewer-request",
    "origin-request",
    "origin-response",
    "viewer-response",
)


@given(st.lists(st.lists(st.tuples(st.sampled_from(_EVENTS), st.sampled_from("abc")), max_size=4)))
def test_the_strictest_event_is_a_viewer_one_whenever_the_lambda_runs_on_one(
    behaviors: list[list[tuple[LambdaEventType, str]]],
) -> None:
    built = [
        Behavior(path="*", origin="app", cache_policy=CachePolicy(name="p"),
                 lambdas=tuple(LambdaAssociation(event, name) for event, name in uses))
        for uses in behaviors
    ]  # fmt: skip
    events = strictest_events(built)
    for name in "abc":
        uses = {event for uses in behaviors for event, used in uses if used == name}
        if not uses:
            assert name not in events
        else:
            assert events[name] in uses
            viewer = {"viewer-request", "viewer-response"}
            assert (events[name] in viewer) == bool(uses & viewer)
