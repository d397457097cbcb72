"""Functions that read files through the resolver: file, fileexists, the file hashes and
templatefile (a template rendered with only the variables it is given)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edgesim.importers.terraform.expressions import render_template
from edgesim.importers.terraform.functions.args import guard_known, map_arg, str_arg
from edgesim.importers.terraform.templates import template_pieces
from edgesim.importers.terraform.values import EvalError, FileText, Resolver, Scope, Source, Step


def read_bytes(scope: Scope, path: Any, fname: str) -> bytes:
    return scope.resolver.read_file(str_arg(path, fname))[1]


def file(scope: Scope, path: Any) -> str:
    full, data = scope.resolver.read_file(str_arg(path, "file"))
    try:
        return FileText(data.decode("utf-8"), full)
    except UnicodeDecodeError:
        raise EvalError(f'file("{path}"): not valid UTF-8 (use filebase64)') from None


def fileexists(scope: Scope, path: Any) -> bool:
    try:
        scope.resolver.read_file(str_arg(path, "fileexists"))
    except EvalError:
        return False
    return True


def filehash(algorithm: str, b64: bool = False) -> Callable[..., str]:
    def digest(scope: Scope, path: Any) -> str:
        raw = hashlib.new(algorithm, read_bytes(scope, path, f"file{algorithm}")).digest()
        return base64.b64encode(raw).decode() if b64 else raw.hex()

    return digest


class _TemplateResolver:
    def __init__(self, root_dir: Path, outer: Resolver) -> None:
        self.root_dir = root_dir
        self.outer = outer

    def resolve(self, root: str, steps: Sequence[Step], scope: Scope) -> tuple[Any, int]:
        raise EvalError(f'templatefile: the template has no variable "{root}"')

    def path_value(self, name: str) -> Any:  # pragma: no cover - not reachable from templates
        raise EvalError("templatefile: path is not available in a template")

    def read_file(self, name: str) -> tuple[Path, bytes]:
        return self.outer.read_file(name)


def templatefile(scope: Scope, path: Any, variables: Any = None) -> Any:
    name = str_arg(path, "templatefile")
    variables = {} if variables is None else map_arg(variables, "templatefile")
    guard_known(variables)
    full, data = scope.resolver.read_file(name)
    text = data.decode("utf-8", errors="replace")
    inner = Scope(
        _TemplateResolver(scope.resolver.root_dir, scope.resolver),
        Source(full, name),
        dict(variables),
    )
    try:
        return render_template(template_pieces(text), inner)
    except EvalError as exc:
        raise EvalError(f'templatefile("{name}"): {exc.message}') from None
