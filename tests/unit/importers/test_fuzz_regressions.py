"""Regressions found by tests/reliability/test_fuzz_config.py: damaged sources are InputErrors
naming the file, never another exception."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from edgesim.errors import InputError
from edgesim.importers.load import import_distribution

IMPORTS = Path(__file__).resolve().parents[3] / "fixtures" / "import"


def _import(source: Path, tmp_path: Path) -> None:
    import_distribution(source, workdir=tmp_path / "work", base_dir=tmp_path, require_origins=False)


def _show_json(tmp_path: Path) -> tuple[Path, dict]:  # type: ignore[type-arg]
    source = tmp_path / "show.json"
    return source, json.loads((IMPORTS / "terraform" / "show.json").read_text())


def _distribution(doc: dict) -> dict:  # type: ignore[type-arg]
    resources = doc["values"]["root_module"]["resources"]
    found = next(r for r in resources if r["type"] == "aws_cloudfront_distribution")
    return found  # type: ignore[no-any-return]


def test_show_json_value_of_the_wrong_type_names_the_attribute(tmp_path: Path) -> None:
    source, doc = _show_json(tmp_path)
    _distribution(doc)["values"]["comment"] = ["not", "a", "string"]
    source.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"show\.json: aws_cloudfront_distribution\.\w+\.comment"):
        _import(source, tmp_path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: _distribution(d).__setitem__("values", "text"),
        lambda d: d["values"].__setitem__("root_module", []),
        lambda d: _distribution(d)["values"].__setitem__("origin", 5),
    ],
)
def test_show_json_parts_of_the_wrong_type_are_input_errors(tmp_path: Path, damage: object) -> None:
    source, doc = _show_json(tmp_path)
    damage(doc)  # type: ignore[operator]
    source.write_text(json.dumps(doc))
    # Read as absent: the import then says what the distribution lacks, naming the file.
    with pytest.raises(InputError, match=str(source)):
        _import(source, tmp_path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.__setitem__("configuration", {"root_module": {"resources": ["x"]}}),
        lambda d: d.__setitem__("configuration", {"root_module": {"module_calls": {"m": 1}}}),
        lambda d: d.__setitem__("resource_changes", [{"change": "x"}]),
    ],
)
def test_show_json_supplementary_parts_of_the_wrong_type_are_ignored(
    tmp_path: Path, damage: object
) -> None:
    # A plan's configuration and resource_changes only resolve unknown values; a state has none.
    source, doc = _show_json(tmp_path)
    damage(doc)  # type: ignore[operator]
    source.write_text(json.dumps(doc))
    _import(source, tmp_path)


@pytest.mark.parametrize(
    ("fixture", "damaged"),
    [
        (IMPORTS / "cloudformation" / "site.yaml", "site.yaml"),
        (IMPORTS / "terraform" / "basic", "main.tf"),
    ],
)
def test_a_source_that_is_not_utf8_is_an_input_error(
    tmp_path: Path, fixture: Path, damaged: str
) -> None:
    folder = tmp_path / "src"
    shutil.copytree(fixture.parent if fixture.is_file() else fixture, folder)
    (folder / damaged).write_bytes(b"\xff\xfe" + (folder / damaged).read_bytes())
    source = folder / fixture.name if fixture.is_file() else folder
    with pytest.raises(InputError, match=rf"{damaged}: not UTF-8 \(byte 0\)"):
        _import(source, tmp_path)
