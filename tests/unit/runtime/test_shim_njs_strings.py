"""runtime_shims/njs_strings.js: njs's byte-string methods of runtime 1.0.

String.bytesFrom() and String.prototype.fromBytes / fromUTF8 / toBytes / toUTF8. Byte strings are
ordinary strings of characters U+0000..U+00FF (one per byte); expected values follow njs 0.7's
src/njs_string.c.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.shimkit import js_json, shim_context

SETUP = """
var nj = __edgesim_shims.njs_strings;
var bytesFrom = nj.bytesFrom;
// The prelude installs the methods on String.prototype; here they are called with .call().
function m(name, s) { return nj[name].apply(s, Array.prototype.slice.call(arguments, 2)); }
function codes(s) {
  if (s === null) return null;
  var out = [];
  for (var i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
  return out;
}
function err(f) { try { f(); return null; } catch (e) { return e.name + ': ' + e.message; } }
"""


@pytest.fixture(scope="module")
def ctx():  # type: ignore[no-untyped-def]
    c = shim_context("text", "buffer", "crypto", "querystring", "njs_strings")
    c.eval(SETUP)
    return c


def ev(ctx, expr: str) -> Any:  # type: ignore[no-untyped-def]
    return js_json(ctx, expr)


def error_of(ctx, statement: str) -> str | None:  # type: ignore[no-untyped-def]
    return ev(ctx, f"err(function () {{ {statement}; }})")


def lit(value: Any) -> str:
    return json.dumps(value)


def latin1(data: bytes) -> str:
    return data.decode("latin-1")


# ------------------------------------------------------------------------------------------------
# String.bytesFrom


def test_bytes_from_arrays(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "bytesFrom([72, 105])") == "Hi"
    # ToUint32, then the low 8 bits.
    assert ev(ctx, "codes(bytesFrom([256 + 67, -1, 1.9, '65', NaN, null, 4294967296 + 7]))") == [
        67,
        255,
        1,
        65,
        0,
        0,
        7,
    ]
    assert ev(ctx, "bytesFrom([])") == ""
    assert ev(ctx, "bytesFrom({length: 2, 0: 72, 1: 105})") == "Hi"
    assert ev(ctx, "bytesFrom({})") == ""


def test_bytes_from_typed_arrays_takes_the_whole_buffer_like_njs(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "codes(bytesFrom(new Uint8Array([1, 2, 3])))") == [1, 2, 3]
    assert ev(ctx, "codes(bytesFrom(new Uint8Array([1, 2, 3, 4]).subarray(1, 3)))") == [1, 2, 3, 4]
    assert ev(ctx, "bytesFrom(new Uint16Array([0x4241]))") == "AB"
    assert ev(ctx, "bytesFrom(new Uint8Array([65, 66]).buffer)") == "AB"
    # A DataView has no length: njs reads it as an empty array-like.
    assert ev(ctx, "bytesFrom(new DataView(new ArrayBuffer(4)))") == ""


def test_bytes_from_hex(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "bytesFrom('48656c6C6F', 'hex')") == "Hello"
    assert ev(ctx, "codes(bytesFrom('00ff80', 'hex'))") == [0, 255, 128]
    # Stops at the first non-hex character; an odd last digit is ignored.
    assert ev(ctx, "bytesFrom('4142zz43', 'hex')") == "AB"
    assert ev(ctx, "bytesFrom('414', 'hex')") == "A"
    assert ev(ctx, "bytesFrom('', 'hex')") == ""
    assert ev(ctx, "bytesFrom(new String('4142'), 'hex')") == "AB"


def test_bytes_from_base64(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "bytesFrom('SGVsbG8=', 'base64')") == "Hello"
    assert ev(ctx, "bytesFrom('SGVsbG8', 'base64')") == "Hello"
    assert ev(ctx, "codes(bytesFrom('+/8=', 'base64'))") == [251, 255]
    assert ev(ctx, "codes(bytesFrom('-_8', 'base64url'))") == [251, 255]
    # Decoding stops at the first character outside the alphabet, '=' included.
    assert ev(ctx, "bytesFrom('QQ==QUJD', 'base64')") == "A"
    assert ev(ctx, "codes(bytesFrom('-_8', 'base64'))") == []
    assert ev(ctx, "codes(bytesFrom('+/8', 'base64url'))") == []
    assert ev(ctx, "bytesFrom('QUJD QUJD', 'base64')") == "ABC"
    # A last group of one character carries no whole byte.
    assert ev(ctx, "bytesFrom('QUJDR', 'base64')") == "ABC"
    assert ev(ctx, "bytesFrom('Q', 'base64url')") == ""


def test_bytes_from_errors(ctx) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, "bytesFrom('41')") == 'TypeError: "encoding" must be a string'
    assert error_of(ctx, "bytesFrom('41', 'utf8')") == 'TypeError: Unknown encoding: "utf8"'
    assert error_of(ctx, "bytesFrom('41', 'HEX')") == 'TypeError: Unknown encoding: "HEX"'
    for value in ("42", "undefined", "null", "true"):
        assert error_of(ctx, f"bytesFrom({value})") == (
            "TypeError: value must be a string or array-like object"
        ), value


@given(data=st.binary(max_size=64))
def test_bytes_from_every_form(ctx, data: bytes) -> None:  # type: ignore[no-untyped-def]
    std = base64.b64encode(data).decode()
    url = base64.urlsafe_b64encode(data).decode()
    got = ev(
        ctx,
        f"[codes(bytesFrom({lit(list(data))})), codes(bytesFrom({lit(data.hex())}, 'hex')),"
        f" codes(bytesFrom({lit(data.hex().upper())}, 'hex')), codes(bytesFrom({lit(std)}, 'base64')),"
        f" codes(bytesFrom({lit(url.rstrip('='))}, 'base64url'))]",
    )
    assert got == [list(data)] * 5


# ------------------------------------------------------------------------------------------------
# toUTF8 / fromUTF8


def test_to_utf8(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "m('toUTF8', 'é€😀a')") == latin1("é€😀a".encode())
    assert ev(ctx, "m('toUTF8', 'ascii')") == "ascii"
    # start and end count bytes of the UTF-8 form, like slice().
    assert ev(ctx, "m('toUTF8', 'é€', 2)") == latin1("€".encode())
    assert ev(ctx, "m('toUTF8', 'é€', 0, -3)") == latin1("é".encode())
    assert ev(ctx, "m('toUTF8', 'é€', 1, 2)") == "\xa9"
    assert ev(ctx, "m('toUTF8', 'é', 5)") == ""
    # A lone surrogate becomes U+FFFD.
    assert ev(ctx, "m('toUTF8', 'a\\ud800')") == latin1("a\ufffd".encode())


def test_from_utf8(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"m('fromUTF8', {lit(latin1('é€😀'.encode()))})") == "é€😀"
    assert ev(ctx, f"m('fromUTF8', {lit(latin1('aé€'.encode()))}, 1, 3)") == "é"
    assert ev(ctx, "m('fromUTF8', 'plain ascii', 6)") == "ascii"
    # A string with a character above U+00FF is not a byte string: njs returns the slice.
    assert ev(ctx, "m('fromUTF8', 'abc€', 1)") == "bc€"


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff",
        b"\x80",
        b"a\xc3",  # truncated
        b"\xc3\x28",
        b"\xc0\xaf",  # overlong
        b"\xe0\x80\xaf",
        b"\xed\xa0\x80",  # surrogate
        b"\xf4\x90\x80\x80",  # above U+10FFFF
        b"\xf0\x9f\x98",
    ],
)
def test_from_utf8_of_invalid_bytes_is_null(ctx, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"m('fromUTF8', {lit(latin1(raw))})") is None


def test_from_utf8_checks_only_the_slice(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"m('fromUTF8', {lit(latin1(b'ok' + bytes([0xFF])))}, 0, 2)") == "ok"
    assert ev(ctx, f"m('fromUTF8', {lit(latin1('é'.encode()))}, 1)") is None


@given(text=st.text(max_size=40))
def test_utf8_round_trip(ctx, text: str) -> None:  # type: ignore[no-untyped-def]
    t = lit(text)
    got = ev(ctx, f"[m('toUTF8', {t}), m('fromUTF8', m('toUTF8', {t}))]")
    assert got == [latin1(text.encode()), text]


@given(data=st.binary(max_size=24))
def test_from_utf8_of_any_bytes(ctx, data: bytes) -> None:  # type: ignore[no-untyped-def]
    try:
        expected: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        expected = None
    assert ev(ctx, f"m('fromUTF8', bytesFrom({lit(list(data))}))") == expected


# ------------------------------------------------------------------------------------------------
# toBytes / fromBytes


def test_to_bytes(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "m('toBytes', 'abc')") == "abc"
    assert ev(ctx, "m('toBytes', '\\xe9\\xff\\x00')") == "\xe9\xff\x00"
    # null as soon as one character of the slice is above 255.
    assert ev(ctx, "m('toBytes', 'abc€')") is None
    assert ev(ctx, "m('toBytes', '\\u0100')") is None
    assert ev(ctx, "m('toBytes', 'a€b', 2)") == "b"
    assert ev(ctx, "m('toBytes', 'a€b', 0, 1)") == "a"
    assert ev(ctx, "m('toBytes', 'a€b', -1)") == "b"


def test_from_bytes(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "m('fromBytes', '\\xe9t\\xe9')") == "été"
    assert ev(ctx, "m('fromBytes', 'abcdef', 1, 3)") == "bc"
    assert ev(ctx, "m('fromBytes', 'abcdef', -2)") == "ef"
    assert ev(ctx, "m('fromBytes', 'abcdef', 4, 2)") == ""
    assert ev(ctx, "m('fromBytes', 'abc€')") == "abc€"


@given(data=st.binary(max_size=32), start=st.integers(-40, 40), end=st.integers(-40, 40))
def test_byte_string_round_trip_and_slices(ctx, data: bytes, start: int, end: int) -> None:  # type: ignore[no-untyped-def]
    b = f"bytesFrom({lit(list(data))})"
    got = ev(
        ctx,
        f"[codes(m('toBytes', {b})), codes(m('fromBytes', {b})),"
        f" codes(m('toBytes', {b}, {start}, {end})), codes(m('fromBytes', {b}, {start}))]",
    )
    assert got == [list(data), list(data), list(data[slice(start, end)]), list(data[start:])]


def test_this_is_converted_like_njs(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "m('toBytes', 123)") == "123"
    assert error_of(ctx, "m('toBytes', null)") == "TypeError: cannot convert undefined to object"
    assert error_of(ctx, "nj.toUTF8.call(undefined)") == (
        "TypeError: cannot convert undefined to object"
    )


def test_installed_in_runtime_1_only() -> None:
    from tests.unit.runtime.helpers import load, request_event

    code = """
    function handler(event) {
      var parts = [typeof String.bytesFrom, typeof ''.toUTF8, typeof ''.fromUTF8,
                   typeof ''.toBytes, typeof ''.fromBytes];
      if (typeof String.bytesFrom === 'function') {
        parts.push(String.bytesFrom('c3a9', 'hex').fromUTF8(), 'é'.toUTF8().length);
      }
      event.request.headers['x-s'] = { value: parts.join(',') };
      return event.request;
    }
    """
    one = load(code, runtime="cloudfront-js-1.0").invoke(request_event())
    two = load(code, runtime="cloudfront-js-2.0").invoke(request_event())
    assert one.request is not None
    assert two.request is not None
    assert one.request["headers"]["x-s"] == {
        "value": "function,function,function,function,function,é,2"
    }
    assert two.request["headers"]["x-s"] == {
        "value": "undefined,undefined,undefined,undefined,undefined"
    }
