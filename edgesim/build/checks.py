"""What a build must produce before edgesim loads it: checks on the built file.

CloudFront receives the built file, so every check applies to it, not to the sources: its size
against the 10 KB quota (with the largest contributors when the build wrote an esbuild
metafile), a leftover ``export`` (an ES module bundle ends in ``export { handler }``, which
CloudFront rejects: the whole distribution then answers 503 — reference: peers-and-user-requests,
DhananjayThomble/URL-Shortener-App#358), and a ``handler`` declared at the top level (esbuild
drops a handler nothing exports, and ``--format=iife`` wraps it in a function).
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

from edgesim import limits

_METAFILE = re.compile(r"--metafile(?:=|\s+)(\"[^\"]+\"|'[^']+'|\S+)")
_RUN = re.compile(r"^\s*(?:npm\s+run(?:-script)?|pnpm(?:\s+run)?|yarn(?:\s+run)?)\s+([\w:.\-]+)")
_EXPORT = re.compile(
    r"^export\s*(?:\{|default\b|(?:async\s+)?function\b|const\b|let\b|var\b)", re.M
)
_TOP_HANDLER = re.compile(
    r"^(?:async\s+)?function\s+handler\s*\(|^(?:var|let|const)\s+handler\s*=", re.M
)
TOP_CONTRIBUTORS = 5


def _scripts(cwd: Path) -> dict[str, str]:
    try:
        data = json.loads((cwd / "package.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return {}
    return {k: v for k, v in scripts.items() if isinstance(v, str)}


def metafile_candidates(command: str, cwd: Path) -> list[Path]:
    """The ``--metafile`` paths in ``command``, or in the package.json scripts it runs
    (``npm run NAME``, followed through scripts that run other scripts)."""
    found: list[Path] = []
    scripts = _scripts(cwd)
    pending, seen = [command], set()
    while pending:
        text = pending.pop()
        for match in _METAFILE.finditer(text):
            words = shlex.split(match.group(1))
            if words:
                found.append(cwd / words[0])
        for part in re.split(r"&&|\|\||;", text):
            run = _RUN.match(part)
            if run and run.group(1) in scripts and run.group(1) not in seen:
                seen.add(run.group(1))
                pending.append(scripts[run.group(1)])
    return found


def contributors(built: Path, command: str, cwd: Path) -> list[tuple[str, int]] | None:
    """The inputs of ``built`` by bytes in it, largest first (None: no metafile names it)."""
    for metafile in metafile_candidates(command, cwd):
        try:
            meta = json.loads(metafile.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        outputs = meta.get("outputs") if isinstance(meta, dict) else None
        if not isinstance(outputs, dict):
            continue
        for name, output in outputs.items():
            if not isinstance(output, dict) or not _same_file(metafile.parent, cwd, name, built):
                continue
            inputs = output.get("inputs") or {}
            sizes = [
                (path, int(info.get("bytesInOutput", 0)))
                for path, info in inputs.items()
                if isinstance(info, dict)
            ]
            return sorted(sizes, key=lambda item: -item[1])
    return None


def _same_file(meta_dir: Path, cwd: Path, name: str, built: Path) -> bool:
    # esbuild writes paths relative to its working directory (the build's), not the metafile's.
    target = built.resolve()
    return any(Path(os.path.normpath(base / name)) == target for base in (cwd.resolve(), meta_dir))


def size_problem(built: Path, size: int, command: str, cwd: Path) -> str | None:
    limit = limits.FUNCTION_MAX_SOURCE_BYTES
    if size <= limit:
        return None
    message = (
        f"{built}: the built file is {size:,} bytes; CloudFront rejects code over {limit:,} bytes "
        "(FunctionSizeLimitExceeded; the limit applies to the built file)"
    )
    parts = contributors(built, command, cwd)
    if parts:
        top = ", ".join(f"{path} {nbytes:,} B" for path, nbytes in parts[:TOP_CONTRIBUTORS])
        message += f"; largest contributors (esbuild metafile): {top}"
    else:
        message += "; pass --metafile=FILE to esbuild to see the largest contributors"
    if "sourceMappingURL=data:" in built.read_text("utf-8", "replace"):
        message += "; the file embeds its source map inline: write it to a .map file instead"
    return message


def built_file_problems(built: Path, command: str, cwd: Path) -> list[str]:
    """Why CloudFront would not take ``built`` as the build left it (empty: nothing found)."""
    try:
        raw = built.read_bytes()
    except OSError as exc:
        return [f"the build did not write {built} ({exc.strerror})"]
    problems: list[str] = []
    size = size_problem(built, len(raw), command, cwd)
    if size:
        problems.append(size)
    text = raw.decode("utf-8", "replace")
    export = _EXPORT.search(text)
    if export:
        line = text.count("\n", 0, export.start()) + 1
        problems.append(
            f"{built}:{line}:1: the built file is an ES module (export …): CloudFront rejects "
            "export; bundle with esbuild --format=iife --global-name=NAME and a footer that "
            "declares function handler (docs/build.md)"
        )
    elif not _TOP_HANDLER.search(text):
        problems.append(
            f"{built}: no top-level function handler in the built file: esbuild drops a "
            "handler nothing exports and --format=iife wraps it in a function; export handler "
            'from the entry and add --global-name=NAME --footer:js="function handler(event) '
            '{ return NAME.handler(event); }" (docs/build.md)'
        )
    return problems
