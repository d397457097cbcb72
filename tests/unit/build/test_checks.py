"""What the build wrote, checked as CloudFront would receive it."""

from __future__ import annotations

import json
from pathlib import Path

from edgesim import limits
from edgesim.build.checks import built_file_problems, metafile_candidates

GOOD = "var E = (function () { return { handler: function (e) { return e.request; } }; })();\n"
GOOD += "function handler(event) { return E.handler(event); }\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_an_iife_bundle_with_a_top_level_handler_passes(tmp_path: Path) -> None:
    built = _write(tmp_path / "dist/fn.js", GOOD)
    assert built_file_problems(built, "make", tmp_path) == []


def test_an_es_module_bundle_is_refused_where_its_export_is(tmp_path: Path) -> None:
    built = _write(
        tmp_path / "dist/fn.js",
        "function handler(e) { return e.request; }\nexport {\n  handler\n};\n",
    )
    [problem] = built_file_problems(built, "esbuild", tmp_path)
    assert problem.startswith(f"{built}:2:1: the built file is an ES module")
    assert "--format=iife" in problem


def test_a_handler_wrapped_away_by_the_bundle_is_reported(tmp_path: Path) -> None:
    built = _write(
        tmp_path / "dist/fn.js", "(() => {\n  function handler(e) { return e.request; }\n})();\n"
    )
    [problem] = built_file_problems(built, "esbuild", tmp_path)
    assert "no top-level function handler" in problem
    assert "--footer:js" in problem


def test_a_missing_output_is_reported(tmp_path: Path) -> None:
    [problem] = built_file_problems(tmp_path / "dist/none.js", "true", tmp_path)
    assert "did not write" in problem


def test_over_the_size_limit_the_largest_contributors_are_named(tmp_path: Path) -> None:
    size = limits.FUNCTION_MAX_SOURCE_BYTES + 100
    built = _write(tmp_path / "dist/fn.js", GOOD + "//" + "x" * (size - len(GOOD) - 3) + "\n")
    meta = {
        "outputs": {
            "dist/fn.js": {
                "inputs": {
                    "src/small.ts": {"bytesInOutput": 300},
                    "node_modules/big-lib/index.js": {"bytesInOutput": 9000},
                    "src/router.ts": {"bytesInOutput": 1200},
                },
                "bytes": size,
            }
        }
    }
    _write(tmp_path / "dist/meta.json", json.dumps(meta))
    # The metafile is found through the package.json script the command runs.
    _write(
        tmp_path / "package.json",
        json.dumps(
            {
                "scripts": {
                    "build:edge": "tsc -p . && npm run bundle",
                    "bundle": "esbuild build/fn.js --bundle --metafile=dist/meta.json --outfile=dist/fn.js",
                }
            }
        ),
    )
    [problem] = built_file_problems(built, "npm run build:edge", tmp_path)
    assert f"the built file is {size:,} bytes" in problem
    assert (
        "largest contributors (esbuild metafile): node_modules/big-lib/index.js 9,000 B, src/router.ts 1,200 B, src/small.ts 300 B"
        in problem
    )


def test_over_the_size_limit_without_a_metafile_says_how_to_get_one(tmp_path: Path) -> None:
    built = _write(tmp_path / "dist/fn.js", GOOD + "//" + "x" * limits.FUNCTION_MAX_SOURCE_BYTES)
    [problem] = built_file_problems(built, "make", tmp_path)
    assert "--metafile" in problem


def test_metafiles_are_found_in_the_command_and_the_scripts_it_runs(tmp_path: Path) -> None:
    _write(
        tmp_path / "package.json",
        json.dumps({"scripts": {"b": "esbuild --metafile meta.json", "a": "npm run b"}}),
    )
    assert metafile_candidates("esbuild x --metafile='out/m.json'", tmp_path) == [
        tmp_path / "out/m.json"
    ]
    assert metafile_candidates("npm run a", tmp_path) == [tmp_path / "meta.json"]
    assert metafile_candidates("make edge", tmp_path) == []
