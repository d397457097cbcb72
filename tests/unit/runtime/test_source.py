"""Turning deployable source into a module body without moving any line."""

from __future__ import annotations

import pytest

from edgesim.runtime.source import module_body

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
