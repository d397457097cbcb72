"""Fuzz the configuration loader and the importers with mutated versions of the fixtures.

``edgesim.toml`` (fixtures/config): structured mutations of the parsed document written back as
TOML — a value of another type, out-of-range and non-finite numbers, odd strings, a removed or
unknown key, a reference to nothing — and byte-level damage to the file itself. The importers
(fixtures/import): the same structured mutations of CloudFormation JSON, ``terraform show -json``
and ``aws cloudfront get-distribution-config`` documents, and line-level damage to the
CloudFormation YAML template and a Terraform configuration.

Invariant: the loader gives a Distribution, or raises the project's input error
(``edgesim.errors.InputError``) whose message names the file; for edgesim.toml every problem line
also names the key path. Never another exception.
"""

from __future__ import annotations

import datetime
import json
import math
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from edgesim.distribution.config import load_config
from edgesim.distribution.model import Distribution
from edgesim.errors import InputError
from edgesim.importers.load import import_distribution
from tests.reliability.conftest import budget
from tests.reliability.mutations import mutated

ROOT = Path(__file__).parents[2]
CONFIGS = ROOT / "fixtures" / "config"
IMPORTS = ROOT / "fixtures" / "import"

FUZZ = settings(
    max_examples=int(budget(150, 2000)),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # tmp_path: each example writes its own file
    ],
    deadline=None,
)

# -- TOML --------------------------------------------------------------------------------------


def toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if -(2**63) <= value < 2**63 else toml_string(str(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
        )
    raise TypeError(type(value))


def toml_document(doc: dict[str, Any]) -> str:
    """One line per top-level key, tables inline: any document tomllib can read back."""
    return "".join(f"{toml_string(k)} = {toml_value(v)}\n" for k, v in doc.items())


def absolute_paths(doc: Any, base: Path) -> Any:
    """The fixture's relative file references made absolute, so the copy in tmp_path finds them."""
    if isinstance(doc, dict):
        return {k: absolute_paths(v, base) for k, v in doc.items()}
    if isinstance(doc, list):
        return [absolute_paths(v, base) for v in doc]
    if isinstance(doc, str) and doc.startswith("../"):
        return str((base / doc).resolve())
    return doc


def fixture_doc(name: str) -> dict[str, Any]:
    with (CONFIGS / name).open("rb") as f:
        return absolute_paths(tomllib.load(f), CONFIGS)  # type: ignore[no-any-return]


FULL, MINIMAL = fixture_doc("full.toml"), fixture_doc("minimal.toml")


def check_config(path: Path) -> None:
    try:
        dist = load_config(path)
    except InputError as exc:
        message = str(exc)
        assert message.strip()
        for line in message.splitlines():
            # Each problem: "<file>: <key path>: <what is wrong>".
            assert line.startswith(f"{path}: "), line
            assert line[len(str(path)) + 2 :].strip(), line
    else:
        assert isinstance(dist, Distribution)


def test_the_fixtures_load(tmp_path: Path) -> None:
    # The mutations start from valid documents: the round trip through toml_document keeps them so.
    for doc in (FULL, MINIMAL):
        path = tmp_path / "edgesim.toml"
        path.write_text(toml_document(doc), encoding="utf-8")
        assert isinstance(load_config(path), Distribution)


@FUZZ
@given(case=st.sampled_from([FULL, MINIMAL]).flatmap(mutated))
@example(case=({**MINIMAL, "edges": {"propagation": {"model": "fixed", "lag_ms": math.nan}}}, []))
@example(case=({**MINIMAL, "throttling": {"window_s": math.inf}}, []))
@example(case=({**MINIMAL, "origins": [{"id": "app", "url": "http://[::1"}]}, []))
@example(case=({**MINIMAL, "server": {"x\ny": 1}}, []))  # a key path on one line (fixed)
@example(case=({**MINIMAL, "server": {"\x85": 1}}, []))
def test_config_structured_mutations(
    tmp_path: Path, case: tuple[dict[str, Any], list[str]]
) -> None:
    doc, _ = case
    path = tmp_path / "edgesim.toml"
    path.write_text(toml_document(doc), encoding="utf-8")
    check_config(path)


@st.composite
def damaged_bytes(draw: st.DrawFn, raw: bytes) -> bytes:
    lines = raw.split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        action = draw(st.sampled_from(["delete", "duplicate", "insert", "cut", "swap"]))
        if action == "delete" and lines:
            del lines[at]
        elif action == "duplicate" and lines:
            lines.insert(at, lines[at])
        elif action == "insert":
            junk = draw(
                st.sampled_from([b"[", b"[[origins]]", b"x = ", b"\xff\xfe", b'"', b"a = 1\na = 2"])
                | st.binary(max_size=8)
            )
            lines.insert(at, junk)
        elif action == "cut" and lines:
            lines[at] = lines[at][: draw(st.integers(0, len(lines[at])))]
        elif action == "swap" and len(lines) > 1:
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
    return b"\n".join(lines)


FULL_TEXT = toml_document(FULL).encode()
FULL_FILE = (CONFIGS / "full.toml").read_bytes()


@FUZZ
@given(raw=st.sampled_from([FULL_FILE, FULL_TEXT]).flatmap(damaged_bytes))
def test_config_damaged_files(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "edgesim.toml"
    path.write_bytes(raw)
    check_config(path)


# -- importers -----------------------------------------------------------------------------------


# What a user gives with a DistributionConfig (it holds no function code or policies itself).
DISTCONFIG_FLAGS: dict[str, Any] = {
    "functions": [
        "router=functions/router.js,kvs=site-config",
        "api-headers=functions/api-headers.js",
    ],
    "policies": ["policies/api-cache-policy.json", "policies/static-headers-policy.json"],
    "kvs": ["site-config=kvs/site-config.json"],
    "lambdas": [
        f"arn:aws:lambda:us-east-1:111122223333:function:api-auth:7={IMPORTS / 'lambda' / 'api-auth.js'}"
    ],
}


def check_import(source: Path, tmp_path: Path) -> None:
    flags = DISTCONFIG_FLAGS if source.name == "distribution-config.json" else {}
    try:
        imported = import_distribution(
            source,
            workdir=tmp_path / "work",
            base_dir=source.parent,
            require_origins=False,
            **flags,
        )
    except InputError as exc:
        message = str(exc)
        assert message.strip()
        # The message says which input was wrong: the file (or the directory it is in), or the
        # flag. Messages about a referenced file name that file.
        assert str(tmp_path) in message or "--" in message, message
    else:
        assert isinstance(imported.dist, Distribution)


def copy_source(src: Path, tmp_path: Path) -> Path:
    """The source (and the files beside it that it references) in tmp_path."""
    target = tmp_path / "src"
    shutil.copytree(src.parent if src.is_file() else src, target, dirs_exist_ok=True)
    return target / src.name if src.is_file() else target


JSON_SOURCES = {
    "cloudformation": IMPORTS / "cloudformation" / "site.json",
    "distconfig": IMPORTS / "distconfig" / "distribution-config.json",
    "terraform-show": IMPORTS / "terraform" / "show.json",
}
JSON_DOCS = {name: json.loads(path.read_text()) for name, path in JSON_SOURCES.items()}


def dump_json(doc: Any) -> str:
    # Non-finite floats as JSON's NaN/Infinity extension, which json readers accept by default.
    return json.dumps(doc, default=str)


@FUZZ
@given(
    name=st.sampled_from(sorted(JSON_SOURCES)),
    data=st.data(),
)
def test_import_json_mutations(tmp_path: Path, name: str, data: st.DataObject) -> None:
    doc, _ = data.draw(mutated(JSON_DOCS[name]))
    source = copy_source(JSON_SOURCES[name], tmp_path)
    source.write_text(dump_json(doc), encoding="utf-8")
    check_import(source, tmp_path)


TEXT_SOURCES: dict[str, tuple[Path, str]] = {
    "cloudformation-yaml": (IMPORTS / "cloudformation" / "site.yaml", "site.yaml"),
    "terraform": (IMPORTS / "terraform" / "basic", "main.tf"),
}


@FUZZ
@given(name=st.sampled_from(sorted(TEXT_SOURCES)), data=st.data())
def test_import_damaged_text(tmp_path: Path, name: str, data: st.DataObject) -> None:
    src, damaged = TEXT_SOURCES[name]
    source = copy_source(src, tmp_path)
    folder = source if source.is_dir() else source.parent
    raw = (folder / damaged).read_bytes()
    (folder / damaged).write_bytes(data.draw(damaged_bytes(raw)))
    check_import(source, tmp_path)


@pytest.mark.parametrize(
    "source",
    [*JSON_SOURCES.values(), *(path for path, _ in TEXT_SOURCES.values())],
    ids=[*JSON_SOURCES, *TEXT_SOURCES],
)
def test_the_import_fixtures_import(tmp_path: Path, source: Path) -> None:
    # The mutations start from sources that import: an unchanged copy gives a Distribution.
    copied = copy_source(source, tmp_path)
    flags = DISTCONFIG_FLAGS if copied.name == "distribution-config.json" else {}
    imported = import_distribution(
        copied, workdir=tmp_path / "work", base_dir=copied.parent, require_origins=False, **flags
    )
    assert imported.dist.default_behavior is not None
