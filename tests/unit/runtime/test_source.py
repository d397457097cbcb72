"""Reading source: the size quota, imports and exports rewritten without moving any line, and the
property names a function can write (what the isolation check must restore)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.errors import FunctionLoadError, InputError
from edgesim.runtime.source import (
    from_text,
    load_body,
    module_body,
    read_function,
    written_properties,
)

CASES = [
    ("import cf from 'cloudfront';", 'var cf = require("cloudfront");'),
    ('import crypto from "crypto";', 'var crypto = require("crypto");'),
    ("import * as qs from 'querystring';", 'var qs = require("querystring");'),
    ("export function handler(e) {}", "function handler(e) {}"),
    ("export async function handler(e) {}", "async function handler(e) {}"),
    ("export default function handler(e) {}", "function handler(e) {}"),
    ("export const handler = (e) => e;", "const handler = (e) => e;"),
    ("export default handler;", ""),
    ("export { handler };", ""),
]


@pytest.mark.parametrize(("given", "expected"), CASES)
def test_rewrites(given: str, expected: str) -> None:
    assert module_body(given) == expected


def test_line_numbers_are_kept_for_multiline_statements() -> None:
    source = "import {\n  a,\n  b as c\n} from 'crypto';\nfunction handler(e) {}\nexport {\n handler\n};\n"
    body = module_body(source)
    assert body.count("\n") == source.count("\n")
    assert body.splitlines()[4] == "function handler(e) {}"
    assert "c = __m.b" in body


def test_code_mentioning_import_elsewhere_is_untouched() -> None:
    source = "var s = 'import x from y';\nfunction handler(e) { return e.request; }"
    assert module_body(source) == source


PASS_THROUGH = "function handler(event) { return event.request; }"


def where(text: str, needle: str) -> tuple[int, int]:
    offset = text.index(needle)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


ESM = """import cf from 'cloudfront';
  import * as qs from "querystring"; var after = 1;
import {
  a,
  b as c } from 'crypto'; var tail = 2;
export const limit = 3;
export { limit }; var listed = 4;
export default async function handler(e) { return e.request.uri; }
export default handler; var named = 5;
"""


@pytest.mark.parametrize(
    "needle", ["after", "tail", "limit = 3", "listed", "handler(e)", "e.request", "named"]
)
def test_the_position_map_finds_every_piece_of_code_where_the_user_wrote_it(needle: str) -> None:
    body, positions = load_body(ESM)
    assert body == module_body(ESM)
    assert body.count("\n") == ESM.count("\n")
    found = where(body, needle)
    assert positions.original(*found) == where(ESM, needle)


def test_rewritten_text_maps_to_the_start_of_the_statement_it_replaced() -> None:
    body, positions = load_body("import cf from 'cloudfront';")
    assert positions.original(*where(body, "require")) == (1, 1)


def test_a_source_without_imports_or_exports_has_an_empty_map() -> None:
    assert load_body("function handler(e) {}")[1].layers == ()


def test_source_up_to_10_kb_is_accepted_and_over_is_rejected() -> None:
    exactly = PASS_THROUGH + "\n//" + "x" * (10_240 - len(PASS_THROUGH) - 3)
    assert len(exactly.encode()) == 10_240
    assert from_text(exactly).text == exactly
    with pytest.raises(FunctionLoadError, match="10241 bytes"):
        from_text(exactly + "x")


def test_the_size_quota_counts_utf8_bytes_not_characters() -> None:
    # 6,000 'é' are 6,000 characters but 12,000 bytes.
    code = PASS_THROUGH + "\n//" + "\u00e9" * 6_000
    assert len(code) < 10_240
    with pytest.raises(FunctionLoadError, match="CloudFront rejects code over 10240 bytes"):
        from_text(code, filename="big.js")


def test_read_function_names_the_function_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "redirect-www.js"
    path.write_text(PASS_THROUGH, encoding="utf-8")
    source = read_function(path)
    assert (source.name, source.text, source.filename) == ("redirect-www", PASS_THROUGH, str(path))


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.js"
    path.write_bytes(b"// caf\xe9\n" + PASS_THROUGH.encode())
    with pytest.raises(FunctionLoadError, match=r"not valid UTF-8 \(byte 6\)"):
        read_function(path)


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the function"):
        read_function(tmp_path / "absent.js")


@pytest.mark.parametrize(
    ("code", "names"),
    [
        ("e.request.uri = '/x'; e.request.headers['x-a'] = {value: 'b'};", {"uri", "x-a"}),
        (
            "o.a += 1; o.b++; delete o.c; [o.d, ...o.e] = z; ({k: o.f, m: {n: o['g']}} = z);",
            set("abcdefg"),
        ),
        ("for (o.h in z); for (o.i of z); o[0] = 1; o.#p = 2; x = o[y];", {"h", "i"}),
        ("var n = 1; n = 2; n++; delete n;", set()),
    ],
)
def test_written_property_names_are_found(code: str, names: set[str]) -> None:
    assert written_properties(code) == frozenset(names)


@pytest.mark.parametrize(
    "code",
    [
        "o[k] = 1;",
        "delete o[k];",
        "o[k]++;",
        "[o[k]] = z;",
        "o[`x`] = 1;",
        "o['\\x61'] = 1;",
        "o[Symbol.iterator] = f;",
        "function (",
    ],
)
def test_computed_or_unparsable_writes_could_be_any_name(code: str) -> None:
    assert written_properties(code) is None
