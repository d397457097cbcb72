"""Helpers for the configuration tests: parse a TOML snippet, check the problem it reports."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from edgesim.distribution.config import parse_config
from edgesim.distribution.model import Distribution
from edgesim.errors import InputError

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = ROOT / "fixtures" / "config"

BASE = """
[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[default_behavior]
origin = "app"
"""
ORIGIN = '[[origins]]\nid = "app"\nurl = "http://127.0.0.1:3000"\n'
DEFAULT = '[default_behavior]\norigin = "app"\n'


def parse(project: Path, text: str) -> Distribution:
    return parse_config(tomllib.loads(text), base_dir=project, source="edgesim.toml")


def problems_of(project: Path, text: str) -> str:
    with pytest.raises(InputError) as info:
        parse(project, text)
    return str(info.value)


def assert_problem(project: Path, text: str, expected: str) -> None:
    """``text`` is refused with a message containing ``expected``."""
    message = problems_of(project, text)
    assert expected in message, message


def named_cases(cases: Sequence[tuple[str, str, str]]) -> list[Any]:
    """``(id, toml text, expected message)`` triples as pytest params; ids must be unique."""
    ids = [case[0] for case in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate case ids: {duplicates}"
    return [pytest.param(text, expected, id=name) for name, text, expected in cases]


def fn(extra: str = "") -> str:
    """A ``[[functions]]`` table named ``fn`` (its file, fn.js, is in the ``project`` fixture)."""
    return '[[functions]]\nname = "fn"\nfile = "fn.js"\n' + extra + "\n"


def policy(table: str, body: str) -> str:
    """BASE plus one ``[[table]]`` policy named ``p``."""
    return BASE + f'[[{table}]]\nname = "p"\n' + body + "\n"
