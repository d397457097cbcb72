"""[[functions]] build, watch and build_timeout_s in edgesim.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.distribution.config import load_config
from edgesim.errors import InputError

BASE = """
[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[default_behavior]
origin = "app"
"""


def _load(tmp_path: Path, function: str) -> object:
    config = tmp_path / "edgesim.toml"
    config.write_text(BASE + "\n[[functions]]\n" + function)
    return load_config(config)


def test_a_built_function_needs_no_file_before_its_first_build(tmp_path: Path) -> None:
    dist = _load(
        tmp_path,
        'name = "router"\nfile = "dist/router.js"\nbuild = "npm run build:edge"\n'
        'watch = ["src/**/*.ts"]\nbuild_timeout_s = 30\n',
    )
    decl = dist.functions["router"]  # type: ignore[attr-defined]
    assert decl.build == "npm run build:edge"
    assert decl.watch == ("src/**/*.ts",)
    assert decl.build_dir == tmp_path
    assert decl.file == tmp_path / "dist/router.js"
    assert decl.build_timeout_s == 30


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ('build = "make"\n', r"functions\[0\]\.watch: a function with build needs watch"),
        ('build = "make"\nwatch = []\n', r"watch: must list at least one glob"),
        (
            'build = "make"\nwatch = ["src/**.ts"]\n',
            r"watch\[0\]: 'src/\*\*\.ts': \*\* must be a whole path segment",
        ),
        ('watch = ["src/*.ts"]\n', r"watch: watch needs build"),
        (
            'build = "make"\nwatch = ["src/*.ts"]\nbuild_timeout_s = 0\n',
            r"build_timeout_s: 0 is out of range",
        ),
    ],
)
def test_build_settings_that_cannot_work_are_refused_at_their_key(
    tmp_path: Path, function: str, message: str
) -> None:
    (tmp_path / "fn.js").write_text("function handler(e) { return e.request; }")
    with pytest.raises(InputError, match=message):
        _load(tmp_path, 'name = "fn"\nfile = "fn.js"\n' + function)


def test_without_build_the_file_must_exist_as_before(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"function file 'missing\.js' does not exist"):
        _load(tmp_path, 'name = "fn"\nfile = "missing.js"\n')
