"""Regressions found by tests/reliability/test_fuzz_config.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgesim.distribution.config import load_config
from edgesim.distribution.tables import key_part
from edgesim.errors import InputError


def test_a_key_with_a_newline_is_reported_on_one_line(tmp_path: Path) -> None:
    # Every problem is one line "<file>: <key path>: <message>"; a raw newline in the key split it.
    path = tmp_path / "edgesim.toml"
    path.write_text(
        '"x\\ny" = 1\n[[origins]]\nid = "app"\nurl = "http://127.0.0.1:3000"\n'
        '[default_behavior]\norigin = "app"\n[server]\n"a\\tb" = 2\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_config(path)
    lines = str(info.value).splitlines()
    assert lines[1:] == [
        f'{path}: "x\\u000ay": unknown key; allowed keys: ' + lines[1].split("allowed keys: ")[1],
        f'{path}: server."a\\u0009b": unknown key; allowed keys: '
        + lines[2].split("allowed keys: ")[1],
    ]


def test_key_part_escapes_control_characters() -> None:
    assert key_part("a\nb") == '"a\\u000ab"'
    # str.splitlines also breaks at NEL and the Unicode line and paragraph separators.
    assert key_part("a\x85b\u2028c\u2029") == '"a\\u0085b\\u2028c\\u2029"'
    assert key_part("a.b") == '"a.b"'
    assert key_part("ok_1") == "ok_1"


# Found by the config fuzzer: '(looked for {path})' printed the path raw.
@pytest.mark.parametrize("name", ["0\x1e", "a\nb", "0\r"])
def test_a_missing_file_with_a_control_character_is_reported_on_one_line(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / "edgesim.toml"
    path.write_text(
        '[[origins]]\nid = "app"\nurl = "http://127.0.0.1:3000"\n'
        f'[[functions]]\nname = "geo"\nfile = {json.dumps(name)}\n'
        '[default_behavior]\norigin = "app"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_config(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}: functions[0].file: function file "), lines
