"""Reading a function's source and turning it into a module body the engine can run per invocation.

Users deploy plain scripts with a top-level ``handler``; runtime 2.0 also accepts
``import cf from 'cloudfront'`` (and ``import crypto from 'crypto'`` in AWS's samples), and teams
often keep ``export`` statements for unit tests that deploy scripts strip. Imports become
``var NAME = require("MODULE");`` on the same line and exports are dropped, so every line keeps its
number and error positions stay right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from edgesim import limits
from edgesim.errors import FunctionLoadError, InputError

_IMPORT = re.compile(
    r"""^(?P<indent>[ \t]*)import\s+(?:
          (?P<default>[A-Za-z_$][\w$]*)
        | \*\s*as\s+(?P<namespace>[A-Za-z_$][\w$]*)
        | \{(?P<named>[^}]*)\}
        )\s+from\s+(?P<quote>['"])(?P<module>[^'"]+)(?P=quote)[ \t]*;?""",
    re.MULTILINE | re.VERBOSE,
)
_EXPORT_LIST = re.compile(r"^[ \t]*export\s*\{[^}]*\}[ \t]*;?", re.MULTILINE)
_EXPORT_DEFAULT_NAME = re.compile(
    r"^[ \t]*export\s+default\s+[A-Za-z_$][\w$]*[ \t]*;", re.MULTILINE
)
_EXPORT_PREFIX = re.compile(
    r"^(?P<indent>[ \t]*)export\s+(?:default\s+)?(?=(?:async\s+)?function\b|const\b|let\b|var\b)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class FunctionSource:
    """A function as the user wrote it."""

    name: str
    text: str
    filename: str


def read_function(path: str | Path) -> FunctionSource:
    """Read a function file, enforcing CloudFront's 10 KB code size quota."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the function: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FunctionLoadError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    return from_text(text, name=path.stem, filename=str(path))


def from_text(
    text: str, *, name: str = "function", filename: str = "function.js"
) -> FunctionSource:
    size = len(text.encode("utf-8"))
    if size > limits.FUNCTION_MAX_SOURCE_BYTES:
        raise FunctionLoadError(
            f"{filename}: the function is {size} bytes; CloudFront rejects code over "
            f"{limits.FUNCTION_MAX_SOURCE_BYTES} bytes (FunctionSizeLimitExceeded)"
        )
    return FunctionSource(name=name, text=text, filename=filename)


def _same_lines(replacement: str, original: str) -> str:
    return replacement + "\n" * original.count("\n")


def _rewrite_import(match: re.Match[str]) -> str:
    module = match["module"]
    call = f"require({module!r})".replace("'", '"')
    if match["default"] or match["namespace"]:
        code = f"var {match['default'] or match['namespace']} = {call};"
    else:
        # Named imports: CloudFront (njs) rejects them, the compatibility check reports that; in
        # lenient mode they still work here.
        parts = []
        for item in match["named"].split(","):
            words = item.split()
            if not words:
                continue
            local = words[-1]
            parts.append(f"{local} = __m.{words[0]}")
        code = f"var __m = {call}, " + ", ".join(parts) + ";" if parts else f"{call};"
    return _same_lines(match["indent"] + code, match.group(0))


def module_body(text: str) -> str:
    """The source with imports turned into ``require`` calls and ``export`` syntax removed."""
    text = _IMPORT.sub(_rewrite_import, text)
    text = _EXPORT_LIST.sub(lambda m: _same_lines("", m.group(0)), text)
    text = _EXPORT_DEFAULT_NAME.sub(lambda m: _same_lines("", m.group(0)), text)
    return _EXPORT_PREFIX.sub(lambda m: m["indent"], text)
