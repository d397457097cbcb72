"""Reading a template file: JSON, or YAML with CloudFormation's short forms (``cfn_yaml``), into
its mapping; a file that cannot be read or parsed, or is no template, is an ``InputError`` naming
it (and the line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from edgesim.errors import InputError
from edgesim.importers.cloudformation.cfn_yaml import load_yaml


def read_template(path: Path, label: str | None = None) -> tuple[dict[str, Any], bool]:
    """The template's mapping and whether it is YAML; an ``InputError`` naming the file else."""
    label = label or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM is common from Windows editors
    except OSError as error:
        raise InputError(f"{label}: cannot read the template: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{label}: not UTF-8 (byte {error.start}); templates are UTF-8") from None
    stripped = text.lstrip()
    is_json = stripped.startswith("{")
    try:
        data = json.loads(text) if is_json else load_yaml(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{label}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark is not None else label
        problem = getattr(error, "problem", None) or str(error)
        raise InputError(f"{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise InputError(f"{label}: not a CloudFormation template (it has no Resources mapping)")
    return data, not is_json
