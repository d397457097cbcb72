"""jsonencode and jsondecode as Terraform does them, and the hash functions of text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from edgesim.importers.terraform.functions.args import str_arg
from edgesim.importers.terraform.values import EvalError, Scope, num


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not value.is_integer():
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return num(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if hasattr(value, "tf_attr"):
        raise EvalError("jsonencode: a whole resource cannot be encoded")
    return value


def jsonencode(value: Any) -> str:
    text = json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _from_json(value: Any) -> Any:
    if isinstance(value, float):
        return num(value)
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    return value


def jsondecode(scope: Scope, text: Any) -> Any:
    try:
        return _from_json(json.loads(str_arg(text, "jsondecode")))
    except json.JSONDecodeError as exc:
        raise EvalError(f"jsondecode: invalid JSON: {exc}") from None


def hash_fn(algorithm: str) -> Callable[..., str]:
    def digest(scope: Scope, text: Any) -> str:
        return hashlib.new(algorithm, str_arg(text, algorithm).encode()).hexdigest()

    return digest
