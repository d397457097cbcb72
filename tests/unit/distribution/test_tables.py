"""The TOML table reader every part of the configuration is read with."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from edgesim.distribution.tables import (
    Context,
    Problems,
    Table,
    checked_header_names,
    key_part,
    no_duplicate_names,
    section,
    suggest,
    table_array,
    toml_type,
    unique,
)
from edgesim.errors import InputError


def table(data: dict[str, Any], allowed: tuple[str, ...] = ("a", "b"), **kw: Any) -> Table:
    return Table(Problems("f.toml"), "t", data, allowed, **kw)


def test_toml_type_names_values_as_toml_does() -> None:
    assert [toml_type(v) for v in (True, 1, 1.5, "s", [], {})] == [
        "boolean",
        "integer",
        "float",
        "string",
        "array",
        "table",
    ]
    assert toml_type(datetime.date(2025, 1, 1)) == "date/time"


def test_suggest_a_close_or_a_contained_key_only_when_unambiguous() -> None:
    assert suggest("behaviours", ["behaviors", "origins"]) == " (did you mean 'behaviors'?)"
    assert suggest("path", ["id", "origin_path"]) == " (did you mean 'origin_path'?)"
    assert suggest("zzz", ["behaviors"]) == ""
    assert suggest("ms", ["min_ms", "max_ms"]) == ""


def test_problems_raise_nothing_one_line_or_a_counted_list() -> None:
    problems = Problems("f.toml")
    problems.raise_if_any()
    problems.add("a.b", "is wrong")
    with pytest.raises(InputError, match=r"^f\.toml: a\.b: is wrong$"):
        problems.raise_if_any()
    problems.add("", "whole file")
    with pytest.raises(InputError) as info:
        problems.raise_if_any()
    assert str(info.value).splitlines() == [
        "f.toml: 2 problems in the configuration:",
        "f.toml: a.b: is wrong",
        "f.toml: whole file",
    ]


def test_unknown_and_required_keys_are_named() -> None:
    t = table({"bb": 1}, required=("a",))
    assert t.problems.messages == [
        "f.toml: t.bb: unknown key (did you mean 'b'?); allowed keys: a, b",
        "f.toml: t.a: is required",
    ]


def test_wrong_values_are_reported_and_the_default_kept() -> None:
    t = table({"a": True, "b": float("inf")})
    assert t.integer("a", 7) == 7
    assert t.number("b", 1.5) == 1.5
    assert t.flag("missing", True) is True
    assert t.problems.messages == [
        "f.toml: t.a: expected an integer, got boolean True",
        "f.toml: t.b: must be a finite number, not inf",
    ]


@pytest.mark.parametrize(
    ("lo", "hi", "message"),
    [
        (0, None, "-5 is out of range (must be at least 0)"),
        (None, -10, "-5 is out of range (must be at most -10)"),
        (1, 3, "-5 is out of range (allowed: 1 to 3)"),
    ],
)
def test_range_messages(lo: int | None, hi: int | None, message: str) -> None:
    t = table({"a": -5.0})
    assert t.number("a", 2.0, lo=lo, hi=hi) == 2.0
    assert t.problems.messages == [f"f.toml: t.a: {message}"]


def test_texts_names_each_bad_item() -> None:
    t = table({"a": ["x", "", 3]})
    assert t.texts("a") == ["x"]
    assert t.problems.messages == [
        "f.toml: t.a[1]: expected a non-empty string, got string ''",
        "f.toml: t.a[2]: expected a non-empty string, got integer 3",
    ]


def test_table_array_and_section_refuse_the_wrong_shape() -> None:
    problems = Problems("f.toml")
    doc = {"rows": [{"x": 1}, 2], "one": [1]}
    assert table_array(problems, doc, "rows") == [("rows[0]", {"x": 1})]
    assert table_array(problems, {"rows": 1}, "rows", "outer") == []
    assert section(problems, doc, "one") == {}
    assert section(problems, doc, "absent") == {}
    assert problems.messages == [
        "f.toml: rows[1]: expected a table, got integer 2",
        "f.toml: outer.rows: expected an array of tables ([[rows]]), got integer",
        "f.toml: one: expected a table ([one]), got array",
    ]


def test_context_paths_are_relative_to_the_config_directory(tmp_path: Path) -> None:
    (tmp_path / "f.js").write_text("")
    (tmp_path / "d").mkdir()
    ctx = Context(Problems("f.toml"), tmp_path / "sub")
    assert ctx.under("../f.js") == tmp_path / "f.js"
    t = ctx.table("t", {"a": "../f.js", "b": "../d"}, ("a", "b"))
    assert ctx.existing_file(t, "a", "file") == tmp_path / "f.js"
    assert ctx.existing_file(t, "b", "file") == tmp_path / "d"
    assert ctx.problems.messages == [
        f"f.toml: t.b: file '../d' is a directory (looked for {tmp_path / 'd'})"
    ]


def test_unique_names_the_first_declaration() -> None:
    seen: dict[str, str] = {}
    first, second = table({}), Table(Problems("f.toml"), "t[1]", {}, ())
    assert unique(first, "name", "x", seen, "thing")
    assert not unique(second, "name", "x", seen, "thing")
    assert second.problems.messages == [
        "f.toml: t[1].name: duplicate thing 'x' (first declared at t)"
    ]


def test_header_names_are_checked_lower_cased_and_unique_ignoring_case() -> None:
    t = table({})
    assert checked_header_names(t, "a", ["X-Id", "a b"]) == ["x-id"]
    no_duplicate_names(t, "b", ["X-A", "x-a"])
    assert t.problems.messages == [
        "f.toml: t.a: 'a b' is not a valid header name",
        "f.toml: t.b: header 'x-a' is listed twice (header names ignore case)",
    ]


def test_an_exclusive_lower_bound_refuses_the_bound_itself() -> None:
    t = table({"a": 0, "b": 1.5}, ("a", "b"))
    assert t.number("a", 7.0, above=0) == 7.0
    assert t.number("b", 7.0, above=0, hi=1) == 7.0
    assert table({"a": 0.25}).number("a", 7.0, above=0, hi=1) == 0.25
    assert t.problems.messages == [
        "f.toml: t.a: 0 is out of range (must be more than 0)",
        "f.toml: t.b: 1.5 is out of range (allowed: more than 0, at most 1)",
    ]


def test_key_part_quotes_only_what_a_bare_key_cannot_be() -> None:
    assert key_part("app") == "app"
    assert key_part("no-cache_1") == "no-cache_1"
    assert key_part("api.example.com") == '"api.example.com"'
    assert key_part('a"b\\c') == '"a\\"b\\\\c"'
