"""``watch`` globs: which changed files rerun a function's build.

Globs are relative to the config's directory and use ``/``: ``*`` and ``?`` stay within one path
segment, ``[abc]`` is a character class, and a ``**`` segment matches any number of directories
(none included), as in ``src/**/*.ts``. Only the directories before the first wildcard are watched
(``src`` for ``src/**/*.ts``), so a glob should start with the folder that holds the sources rather
than ``**`` (which would watch the whole project, ``node_modules`` included).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

_WILDCARD = re.compile(r"[*?\[]")


def glob_problem(glob: str) -> str | None:
    """Why ``glob`` cannot be used (None: it can)."""
    if glob.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", glob):
        return "must be relative to the config's directory"
    if "\\" in glob:
        return "use / between folders"
    for segment in glob.split("/"):
        if "**" in segment and segment != "**":
            fixed = segment.replace("**", "*")
            return f"** must be a whole path segment (got {segment!r}); write **/{fixed}"
    try:
        _compile(glob)
    except re.error as exc:
        return f"not a valid glob ({exc})"
    return None


def _segment(segment: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.find("]", i + 2)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = segment[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _compile(glob: str) -> re.Pattern[str]:
    parts = posixpath.normpath(glob).split("/")
    pattern = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            pattern += ".*" if last else "(?:[^/]+/)*"
        else:
            pattern += _segment(part) + ("" if last else "/")
    return re.compile(pattern)


class WatchGlobs:
    """A function's ``watch`` globs, anchored at the config's directory."""

    def __init__(self, base_dir: Path, globs: Iterable[str]) -> None:
        self.base_dir = base_dir.resolve()
        self.globs = tuple(globs)
        self._patterns = [_compile(glob) for glob in self.globs]

    def matches(self, path: Path) -> bool:
        relative = Path(os.path.relpath(path.resolve(), self.base_dir)).as_posix()
        return any(pattern.fullmatch(relative) for pattern in self._patterns)

    def roots(self) -> set[Path]:
        """The directories to watch: each glob's part before its first wildcard."""
        roots: set[Path] = set()
        for glob in self.globs:
            fixed: list[str] = []
            for segment in posixpath.normpath(glob).split("/"):
                if _WILDCARD.search(segment):
                    break
                fixed.append(segment)
            else:
                fixed = fixed[:-1]  # a plain file name: watch its folder
            root = Path(os.path.normpath(self.base_dir.joinpath(*fixed)))
            # A folder that does not exist yet cannot be watched: its nearest existing parent
            # within the config's directory is (never a folder above it: that could be /).
            while not root.is_dir() and root != self.base_dir and self.base_dir in root.parents:
                root = root.parent
            if root.is_dir():
                roots.add(root)
        return roots
