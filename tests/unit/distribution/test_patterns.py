"""Path-pattern matching and behaviour selection (reference B.1)."""

from __future__ import annotations

import functools

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from edgesim.distribution.managed import MANAGED_CACHE_POLICIES
from edgesim.distribution.model import Behavior, Distribution, ServerSettings
from edgesim.distribution.patterns import (
    compile_pattern,
    path_only,
    select_behavior,
    validate_pattern,
)
from edgesim.errors import InputError

# (pattern, path, matches). The first rows are the Developer Guide's own examples.
TABLE = [
    # "*.jpg: all .jpg files"
    ("*.jpg", "/logo.jpg", True),
    ("*.jpg", "/images/a/b/logo.jpg", True),
    ("*.jpg", "/logo.jpeg", False),
    # "Path patterns are case-sensitive, so *.jpg doesn't apply to LOGO.JPG"
    ("*.jpg", "/LOGO.JPG", False),
    # "images/*.jpg: .jpg files in images and in its subdirectories"
    ("images/*.jpg", "/images/a.jpg", True),
    ("images/*.jpg", "/images/product1/a.jpg", True),
    ("images/*.jpg", "/images/a.gif", False),
    ("images/*.jpg", "/other/images/a.jpg", False),
    # "a??.jpg: a followed by exactly two characters, e.g. ant.jpg and abe.jpg"
    ("a??.jpg", "/ant.jpg", True),
    ("a??.jpg", "/abe.jpg", True),
    ("a??.jpg", "/an.jpg", False),
    ("a??.jpg", "/apple.jpg", False),
    # "*.doc*: extensions beginning with .doc ... *.doc? would not apply to .doc files"
    ("*.doc*", "/report.doc", True),
    ("*.doc*", "/report.docx", True),
    ("*.doc*", "/report.docm", True),
    ("*.doc?", "/report.doc", False),
    ("*.doc?", "/report.docx", True),
    # A leading "/" is optional.
    ("/images/*.jpg", "/images/a.jpg", True),
    ("/images/*.jpg", "images/a.jpg", True),
    ("images/*.jpg", "images/a.jpg", True),
    # "*" spans "/", "?" is exactly one character (also "/").
    ("/api/*", "/api/", True),
    ("/api/*", "/api/v1/items", True),
    ("/api/*", "/api", False),
    ("/a?c", "/a/c", True),
    ("/a?c", "/ac", False),
    # Anchored to the whole path.
    ("/checkout", "/checkout", True),
    ("/checkout", "/checkout/step", False),
    ("/checkout", "/x/checkout", False),
    ("/checkout*", "/checkout", True),
    ("/checkout*", "/checkouts/2", True),
    ("*", "/", True),
    ("*", "/anything/at/all.html", True),
    ("/", "/", True),
    ("/", "/a", False),
    # Several stars; "**" is one star.
    ("/a*b*c", "/abc", True),
    ("/a*b*c", "/a-x-b-y-c", True),
    ("/a*b*c", "/a-x-c-y-b", False),
    ("/a**c", "/abbc", True),
    ("*a*a*a*b", "/" + "a" * 200, False),
    ("/x*?*y", "/xy", False),
    ("/x*?*y", "/x-y", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), TABLE)
def test_match_table(pattern: str, path: str, expected: bool) -> None:
    assert compile_pattern(pattern)(path) is expected


def reference_match(pattern: str, path: str) -> bool:
    """An independent matcher: dynamic programming straight from the rules in B.1."""
    pat = pattern[1:] if pattern.startswith("/") else pattern
    text = path[1:] if path.startswith("/") else path

    @functools.cache
    def go(i: int, j: int) -> bool:
        if i == len(pat):
            return j == len(text)
        if pat[i] == "*":
            return go(i + 1, j) or (j < len(text) and go(i, j + 1))
        if j == len(text):
            return False
        return (pat[i] == "?" or pat[i] == text[j]) and go(i + 1, j + 1)

    return go(0, 0)


# Small alphabets make matches likely; "/" is included because "*" and "?" must span it.
PATTERNS = st.text(alphabet="ab/*?", max_size=12)
PATHS = st.text(alphabet="ab/", max_size=16)


@given(pattern=PATTERNS, path=PATHS)
@example(pattern="*a", path="a")
@example(pattern="/?", path="/")
@example(pattern="a*?b", path="/ab")
def test_matches_reference_matcher(pattern: str, path: str) -> None:
    assert compile_pattern(pattern)(path) is reference_match(pattern, path)


@given(pattern=st.text(alphabet="ab/.", min_size=1, max_size=10))
def test_a_pattern_without_wildcards_matches_itself_only(pattern: str) -> None:
    matcher = compile_pattern(pattern)
    assert matcher(pattern)
    assert not matcher(pattern + "x")


def test_compile_pattern_is_cached() -> None:
    assert compile_pattern("/cached/*") is compile_pattern("/cached/*")


def test_path_only_drops_the_query_string() -> None:
    assert path_only("/a.jpg?size=2") == "/a.jpg"
    assert path_only("/a.jpg") == "/a.jpg"


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    ["*", "/images/*.jpg", "a??.jpg", "/$weird~'quote'\"@:+&-_.", "x" * 255],
)
def test_valid_patterns(pattern: str) -> None:
    validate_pattern(pattern)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "path pattern is empty"),
        ("x" * 256, "path pattern is 256 characters; CloudFront allows 255"),
        ("/a b", "contains ' '; allowed characters are A-Z a-z 0-9"),
        ("/a[0-9]", "contains '[', ']'"),
        ("/a%20b", "contains '%'"),
        ("/é", "contains 'é'"),
        ("/a&amp;b", "(write '&' itself, not '&amp;')"),
    ],
)
def test_invalid_patterns(pattern: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        validate_pattern(pattern)
    assert message in str(info.value)


def test_validate_pattern_rejects_non_strings() -> None:
    with pytest.raises(InputError, match="must be a string"):
        validate_pattern(5)  # type: ignore[arg-type]


# -- behaviour selection -----------------------------------------------------------------------


def _dist(*patterns: str) -> Distribution:
    policy = MANAGED_CACHE_POLICIES["CachingOptimized"]
    behaviors = tuple(
        Behavior(path=p, origin=f"o{i}", cache_policy=policy) for i, p in enumerate(patterns)
    )
    return Distribution(
        server=ServerSettings(),
        origins={},
        origin_groups={},
        kvs={},
        functions={},
        behaviors=behaviors,
        default_behavior=Behavior(path="*", origin="default", cache_policy=policy),
    )


def test_first_match_wins_even_when_a_later_pattern_is_more_specific() -> None:
    dist = _dist("/images/*", "/images/product1/*")
    assert select_behavior(dist, "/images/product1/a.jpg").origin == "o0"


def test_order_decides() -> None:
    dist = _dist("/images/product1/*", "/images/*")
    assert select_behavior(dist, "/images/product1/a.jpg").origin == "o0"
    assert select_behavior(dist, "/images/product2/a.jpg").origin == "o1"


def test_default_behavior_when_nothing_matches() -> None:
    dist = _dist("/api/*", "*.jpg")
    assert select_behavior(dist, "/index.html").origin == "default"
    assert select_behavior(dist, "/API/x").origin == "default"  # case-sensitive


def test_query_string_is_ignored() -> None:
    dist = _dist("*.jpg")
    assert select_behavior(dist, "/a.jpg?v=2").origin == "o0"
    assert select_behavior(dist, "/a.html?f=.jpg").origin == "default"


@given(path=st.text(alphabet="ab/.j", max_size=12))
def test_selection_is_the_first_matching_pattern(path: str) -> None:
    patterns = ("/a*", "*b", "/?", "*.j*")
    dist = _dist(*patterns)
    expected = next(
        (f"o{i}" for i, p in enumerate(patterns) if reference_match(p, path)), "default"
    )
    assert select_behavior(dist, path).origin == expected


def test_each_distribution_answers_for_itself_when_asked_in_turn() -> None:
    first, second = _dist("/a/*"), _dist("/b/*")
    for _ in range(3):  # the second time on, answers come from each distribution's memo
        assert select_behavior(first, "/a/x").origin == "o0"
        assert select_behavior(second, "/a/x").origin == "default"
        assert select_behavior(second, "/b/x").origin == "o0"


def test_a_new_distribution_is_never_answered_for_by_a_collected_one() -> None:
    # More distributions than the memo keeps, each dropped at once: a new one may get the
    # identity of a collected one, and must still be answered from its own behaviours.
    for i in range(40):
        dist = _dist("/a/*" if i % 2 else "/b/*")
        assert select_behavior(dist, "/a/x").origin == ("o0" if i % 2 else "default")
        del dist


@given(paths=st.lists(st.text(alphabet="ab/.j?", max_size=8), max_size=30))
def test_asking_again_gives_the_same_behaviour(paths: list[str]) -> None:
    dist = _dist("/a*", "*b", "/?", "*.j*")
    first = [select_behavior(dist, path) for path in paths]
    assert [select_behavior(dist, path) for path in reversed(paths)] == first[::-1]
