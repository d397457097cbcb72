"""Which headers a function's code reads, to say which of a rehearsal's decisions a CloudFront
standard log cannot show (it carries only Host, User-Agent, Referer and Cookie).

A scan of the source, not an execution: it finds ``headers['name']``, ``headers["name"]`` and
``headers.name`` (request or response headers alike). Names built at run time are not found, so
an empty result is no proof; the report lists the log's missing inputs in any case.
"""

from __future__ import annotations

import re
from pathlib import Path

# A name followed by a lone `=` is written (``headers['x-cohort'] = …``), not read.
_WRITE = r"(?!\s*=(?!=))"
_BRACKET = re.compile(r"""headers\s*\[\s*(['"])([A-Za-z0-9!#$%&'*+.^_`|~-]+)\1\s*\]""" + _WRITE)
_DOT = re.compile(r"headers\s*\.\s*([A-Za-z_$][A-Za-z0-9_$]*)\b" + _WRITE)
# Object methods and properties reached through `headers.` that are not header names.
_NOT_NAMES = frozenset({"hasOwnProperty", "length", "constructor", "toString", "valueOf"})


def headers_read(source: str) -> set[str]:
    names = {m.group(2).lower() for m in _BRACKET.finditer(source)}
    names |= {m.group(1).lower() for m in _DOT.finditer(source) if m.group(1) not in _NOT_NAMES}
    return names


def unseen_headers(files: dict[str, Path], available: frozenset[str]) -> dict[str, list[str]]:
    """Function name → the headers its code reads that are not in ``available``."""
    out: dict[str, list[str]] = {}
    for name, path in files.items():
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        missing = sorted(headers_read(text) - available)
        if missing:
            out[name] = missing
    return out
