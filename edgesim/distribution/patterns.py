"""CloudFront cache-behaviour path patterns: validation, matching and behaviour selection.

Rules (reference B.1, from the CloudFront Developer Guide "Path pattern" section):

- behaviours are tried in list order and the first match wins; the default behaviour (``*``) is
  used only when no ordered behaviour matches;
- ``*`` matches zero or more characters, ``/`` included; ``?`` matches exactly one character;
- a leading ``/`` in the pattern is optional and changes nothing;
- matching is case-sensitive and covers the whole path (the query string is never looked at);
- a pattern is at most 255 characters from ``A-Z a-z 0-9 _ - . * $ / ~ " ' @ : + &`` (plus ``?``).

Whole-path anchoring follows from the guide's examples (``a??.jpg``, ``*.doc*``); AWS does not
state it in so many words. The path is matched exactly as the caller passes it: whether CloudFront
matches the raw or the percent-decoded path, and how it treats ``//`` or ``..``, is unverified, so
that choice stays with the proxy.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable
from typing import TYPE_CHECKING

from edgesim.errors import InputError

if TYPE_CHECKING:
    from edgesim.distribution.model import Behavior, Distribution

MAX_PATTERN_CHARS = 255
ALLOWED_PATTERN_CHARS = frozenset(string.ascii_letters + string.digits + "_-.*$/~\"'@:+&?")
_ALLOWED_DISPLAY = "A-Z a-z 0-9 _ - . * ? $ / ~ \" ' @ : + &"

Matcher = Callable[[str], bool]


def validate_pattern(pattern: str) -> None:
    """Raise InputError when CloudFront would refuse ``pattern`` as a PathPattern."""
    if not isinstance(pattern, str):
        raise InputError(f"path pattern must be a string, not {type(pattern).__name__}")
    if not pattern:
        raise InputError("path pattern is empty")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise InputError(
            f"path pattern is {len(pattern)} characters; CloudFront allows {MAX_PATTERN_CHARS}"
        )
    bad = sorted({ch for ch in pattern if ch not in ALLOWED_PATTERN_CHARS})
    if bad:
        shown = ", ".join(repr(ch) for ch in bad)
        hint = " (write '&' itself, not '&amp;')" if "&amp;" in pattern else ""
        raise InputError(
            f"path pattern {pattern!r} contains {shown}; allowed characters are "
            f"{_ALLOWED_DISPLAY}{hint}"
        )


def _strip_slash(text: str) -> str:
    # "A leading / is optional": comparing both sides without it makes "/a*" and "a*" identical.
    return text[1:] if text.startswith("/") else text


@functools.lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> Matcher:
    """Return a predicate telling whether a request path matches ``pattern``.

    The pattern is not validated here (see ``validate_pattern``). The matcher runs in
    O(len(path) * len(pattern)) at worst: there is no backtracking regex to blow up on patterns
    such as ``*a*a*a*b``.
    """
    body = _strip_slash(pattern)
    if "*" not in body and "?" not in body:
        return lambda path: _strip_slash(path) == body
    pieces = body.split("*")
    if len(pieces) == 1:
        return lambda path: _fixed_match(body, _strip_slash(path))
    head, *middle, tail = pieces
    inner = tuple(piece for piece in middle if piece)  # "**" is the same as "*"

    def match(path: str) -> bool:
        return _star_match(head, inner, tail, _strip_slash(path))

    return match


def _piece_at(piece: str, text: str, start: int) -> bool:
    """Whether ``piece`` (which may hold ``?``) matches ``text`` at offset ``start``."""
    if start < 0 or start + len(piece) > len(text):
        return False
    if "?" not in piece:
        return text.startswith(piece, start)
    return all(p == "?" or p == text[start + i] for i, p in enumerate(piece))


def _fixed_match(piece: str, text: str) -> bool:
    return len(piece) == len(text) and _piece_at(piece, text, 0)


def _find_piece(piece: str, text: str, start: int, stop: int) -> int:
    """Leftmost offset in [start, stop - len(piece)] where ``piece`` matches, or -1."""
    if "?" not in piece:
        return text.find(piece, start, stop)
    for offset in range(start, stop - len(piece) + 1):
        if _piece_at(piece, text, offset):
            return offset
    return -1


def _star_match(head: str, inner: tuple[str, ...], tail: str, text: str) -> bool:
    # The pattern is head*inner[0]*...*inner[n]*tail. The head must sit at the start and the tail at
    # the end; taking each inner piece at its leftmost place leaves the most room for the rest, so a
    # greedy left-to-right scan is exact for globs whose only variable-length token is "*".
    if len(text) < len(head) + len(tail):
        return False
    tail_start = len(text) - len(tail)
    if not _piece_at(head, text, 0) or not _piece_at(tail, text, tail_start):
        return False
    position = len(head)
    for piece in inner:
        found = _find_piece(piece, text, position, tail_start)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def path_only(path: str) -> str:
    """The path part of a request target: CloudFront ignores the query string when matching."""
    cut = path.find("?")
    return path if cut < 0 else path[:cut]


def select_behavior(dist: Distribution, path: str) -> Behavior:
    """The behaviour CloudFront uses for ``path``: first ordered match, else the default one.

    Call this with the path the viewer sent, before any viewer-request function runs: a function
    that rewrites ``uri`` does not change the behaviour (reference B.1).
    """
    # The answer depends only on the (frozen) distribution and the path, and it is asked on
    # every request: each distribution keeps its answers by path. Looked up by the
    # distribution's identity (hashing a frozen distribution would hash all of it); a reload
    # makes a new distribution, hence a new memo.
    selector = _SELECTORS.get(id(dist))
    if selector is None or selector.dist is not dist:
        if len(_SELECTORS) >= _SELECTORS_LIMIT:
            _SELECTORS.clear()
        selector = _SELECTORS[id(dist)] = _Selector(dist)
    found = selector.memo.get(path)
    if found is None:
        found = selector.select(path)
    return found


class _Selector:
    """One distribution's behaviours with their compiled patterns, and its answers by path."""

    __slots__ = ("dist", "matchers", "memo")

    def __init__(self, dist: Distribution) -> None:
        self.dist = dist
        self.matchers = tuple((compile_pattern(b.path), b) for b in dist.behaviors)
        self.memo: dict[str, Behavior] = {}

    def select(self, path: str) -> Behavior:
        target = path_only(path)
        behavior = next(
            (candidate for matches, candidate in self.matchers if matches(target)),
            self.dist.default_behavior,
        )
        if len(self.memo) >= _PATHS_LIMIT:  # a viewer can ask for any number of paths
            self.memo.clear()
        self.memo[path] = behavior
        return behavior


# Distributions with a memo (serve has one, a reload or a test makes more), and paths remembered
# per distribution.
_SELECTORS_LIMIT = 16
_PATHS_LIMIT = 4096
_SELECTORS: dict[int, _Selector] = {}
