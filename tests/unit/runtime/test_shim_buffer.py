"""runtime_shims/buffer.js: the Buffer class on its own.

Expected values are Node's on valid input. Where njs 0.7.9 (the engine CloudFront's runtime
resembles) reads input differently, the tests say "njs" and the values come from the njs CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edgesim.runtime.shims import shim_dir
from tests.shimkit import js_json, shim_context

SETUP = """
var Buffer = __edgesim_shims.buffer.Buffer;
function hex(u) {
  return Array.prototype.map.call(u, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
}
function err(f) { try { f(); return null; } catch (e) { return e.name + ': ' + e.message; } }
"""


@pytest.fixture(scope="module")
def ctx():  # type: ignore[no-untyped-def]
    c = shim_context("text", "buffer")
    c.eval(SETUP)
    return c


def ev(ctx, expr: str) -> Any:  # type: ignore[no-untyped-def]
    return js_json(ctx, expr)


def hex_of(ctx, expr: str) -> str:  # type: ignore[no-untyped-def]
    """Bytes of a Uint8Array expression as hex, computed without the shim's own encoder."""
    return ev(ctx, f"hex({expr})")


def error_of(ctx, statement: str) -> str | None:  # type: ignore[no-untyped-def]
    return ev(ctx, f"err(function () {{ {statement}; }})")


def error_name(ctx, statement: str) -> str | None:  # type: ignore[no-untyped-def]
    message = error_of(ctx, statement)
    return None if message is None else message.split(":")[0]


def lit(value: Any) -> str:
    return json.dumps(value)


# ------------------------------------------------------------------------------------------------
# The class


def test_buffer_is_a_uint8array_subclass(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.from('a') instanceof Uint8Array")
    assert ev(ctx, "Buffer.from('a') instanceof Buffer")
    assert ev(ctx, "Object.getPrototypeOf(Buffer.prototype) === Uint8Array.prototype")
    assert ev(ctx, "Object.getPrototypeOf(Buffer) === Uint8Array")
    assert ev(ctx, "Buffer.from('a').constructor === Buffer")
    assert ev(ctx, "Object.keys(Buffer.prototype).length") == 0


def test_buffer_cannot_be_called_or_constructed_like_njs(ctx) -> None:  # type: ignore[no-untyped-def]
    # njs: TypeError: Buffer is not a constructor (Node still accepts the deprecated forms).
    assert error_of(ctx, "Buffer(3)") == "TypeError: Buffer is not a constructor"
    assert error_of(ctx, "new Buffer(3)") == "TypeError: Buffer is not a constructor"


def test_typed_array_methods_make_buffers(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.isBuffer(Buffer.from('abc').map(function (x) { return x + 1; }))")
    assert ev(ctx, "Buffer.from('abc').filter(function (x) { return x > 97; }).toString()") == "bc"


def test_index_access_and_properties(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.from('abc')[1]") == 98
    assert ev(ctx, "(function (b) { b[0] = 0x7a; return b.toString(); })(Buffer.from('abc'))") == (
        "zbc"
    )
    assert ev(
        ctx,
        "(function (b) { return [b.length, b.byteOffset, b.buffer instanceof ArrayBuffer]; })"
        "(Buffer.from('abcd').subarray(1))",
    ) == [3, 1, True]


# ------------------------------------------------------------------------------------------------
# Statics


def test_alloc(ctx) -> None:  # type: ignore[no-untyped-def]
    assert hex_of(ctx, "Buffer.alloc(3)") == "000000"
    assert hex_of(ctx, "Buffer.alloc(3, 1)") == "010101"
    assert hex_of(ctx, "Buffer.alloc(3, 257)") == "010101"
    assert hex_of(ctx, "Buffer.alloc(5, 'ab')") == "6162616261"
    assert hex_of(ctx, "Buffer.alloc(3, 'ab', 'hex')") == "ababab"
    assert hex_of(ctx, "Buffer.alloc(5, Buffer.from([1, 2]))") == "0102010201"
    assert hex_of(ctx, "Buffer.alloc(3, '')") == "000000"
    assert hex_of(ctx, "Buffer.alloc(2.5)") == "0000"
    assert ev(ctx, "Buffer.isBuffer(Buffer.alloc(0))")


@pytest.mark.parametrize(
    ("statement", "name"),
    [
        ("Buffer.alloc(-1)", "RangeError"),
        ("Buffer.alloc(NaN)", "RangeError"),
        ("Buffer.alloc('3')", "TypeError"),
        ("Buffer.alloc()", "TypeError"),
        ("Buffer.allocUnsafe(-1)", "RangeError"),
        ("Buffer.alloc(3, 'ab', 'ascii')", "TypeError"),
    ],
)
def test_alloc_errors(ctx, statement, name) -> None:  # type: ignore[no-untyped-def]
    assert error_name(ctx, statement) == name


def test_alloc_unsafe(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.allocUnsafe(4).length") == 4
    assert ev(ctx, "Buffer.isBuffer(Buffer.allocUnsafeSlow(2))")


def test_byte_length(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.byteLength('h\u00e9\u20ac\\ud83d\\ude00')") == 10
    assert ev(ctx, "Buffer.byteLength('\\ud800x')") == 4
    assert ev(ctx, "Buffer.byteLength('abcd', 'hex')") == 2
    assert ev(ctx, "Buffer.byteLength('abc', 'hex')") == 1
    assert ev(ctx, "Buffer.byteLength('aGk=', 'base64')") == 2
    assert ev(ctx, "Buffer.byteLength('aGk', 'base64url')") == 2
    assert ev(ctx, "Buffer.byteLength(Buffer.from('abc'))") == 3
    assert ev(ctx, "Buffer.byteLength(new ArrayBuffer(5))") == 5
    assert ev(ctx, "Buffer.byteLength(new Uint16Array(5))") == 10
    assert ev(ctx, "Buffer.byteLength(new DataView(new ArrayBuffer(3)))") == 3
    assert (
        error_of(ctx, "Buffer.byteLength(5)")
        == "TypeError: first argument number is not a string or Buffer-like object"
    )


def test_byte_length_of_invalid_base64_counts_the_valid_prefix_like_njs(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.byteLength('aGk!xx', 'base64')") == 2  # Node: 4
    assert ev(ctx, "Buffer.byteLength('aGk=aGk=', 'base64')") == 2  # Node: 5
    assert ev(ctx, "Buffer.byteLength('!!!!', 'base64')") == 0  # Node: 3


def test_compare(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.compare(Buffer.from('a'), Buffer.from('b'))") == -1
    assert ev(ctx, "Buffer.compare(Buffer.from('b'), Buffer.from('a'))") == 1
    assert ev(ctx, "Buffer.compare(Buffer.from('ab'), Buffer.from('a'))") == 1
    assert ev(ctx, "Buffer.compare(new Uint8Array([1]), Buffer.from([1]))") == 0
    assert ev(
        ctx,
        "[Buffer.from('b'), Buffer.from('a'), Buffer.from('ab')].sort(Buffer.compare).map(String)",
    ) == ["a", "ab", "b"]
    long_a = "Buffer.alloc(100, 'x')"
    assert ev(ctx, f"Buffer.compare({long_a}, Buffer.concat([{long_a}, Buffer.from('y')]))") == -1
    assert error_name(ctx, "Buffer.compare(Buffer.from('a'), 'b')") == "TypeError"


def test_concat(ctx) -> None:  # type: ignore[no-untyped-def]
    assert hex_of(ctx, "Buffer.concat([Buffer.from('a'), new Uint8Array([98])])") == "6162"
    assert hex_of(ctx, "Buffer.concat([Buffer.from('a'), new Uint8Array([98])], 5)") == (
        "6162000000"
    )
    assert hex_of(ctx, "Buffer.concat([Buffer.from('abc')], 1)") == "61"
    assert hex_of(ctx, "Buffer.concat([])") == ""
    assert hex_of(ctx, "Buffer.concat([], 3)") == ""  # Node (njs 0.7.9 gives 3 zero bytes)
    assert hex_of(ctx, "Buffer.concat([Buffer.from('ab')], 1.5)") == "61"  # njs truncates
    assert ev(ctx, "Buffer.isBuffer(Buffer.concat([new Uint8Array(1)]))")


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("Buffer.concat('x')", 'TypeError: "list" argument must be an instance of Array'),
        (
            "Buffer.concat([[1]])",
            'TypeError: "list[0]" argument must be an instance of Buffer or Uint8Array',
        ),
        (
            "Buffer.concat([new Uint16Array(1)])",
            'TypeError: "list[0]" argument must be an instance of Buffer or Uint8Array',
        ),
        (
            "Buffer.concat([Buffer.from('a')], '1')",
            'TypeError: "length" argument must be of type number',
        ),
        ("Buffer.concat([Buffer.from('a')], -1)", 'RangeError: "length" is out of range'),
    ],
)
def test_concat_errors(ctx, statement, message) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, statement) == message


def test_from_strings(ctx) -> None:  # type: ignore[no-untyped-def]
    assert hex_of(ctx, "Buffer.from('hi')") == "6869"
    assert hex_of(ctx, "Buffer.from('h\u00e9\\ud83d\\ude00')") == "68c3a9f09f9880"
    assert hex_of(ctx, "Buffer.from('\\ud800x')") == "efbfbd78"
    assert hex_of(ctx, "Buffer.from('\\udc00\\ud800')") == "efbfbdefbfbd"
    assert hex_of(ctx, "Buffer.from('hi', 'utf-8')") == "6869"
    assert hex_of(ctx, "Buffer.from('hi', undefined)") == "6869"
    assert hex_of(ctx, "Buffer.from('00ff7F', 'hex')") == "00ff7f"
    assert hex_of(ctx, "Buffer.from('aGk=', 'base64')") == "6869"
    assert hex_of(ctx, "Buffer.from('aGk', 'base64')") == "6869"
    assert hex_of(ctx, "Buffer.from('-_8', 'base64url')") == "fbff"
    assert hex_of(ctx, "Buffer.from('+/8=', 'base64')") == "fbff"
    assert hex_of(ctx, "Buffer.from('YR', 'base64')") == "61"  # spare bits ignored
    assert hex_of(ctx, "Buffer.from('', 'base64')") == ""


@pytest.mark.parametrize("encoding", ["UTF8", "Utf-8", "HEX", "Base64", "BASE64URL"])
def test_encoding_names_ignore_case_like_node(ctx, encoding) -> None:  # type: ignore[no-untyped-def]
    # Node accepts any case; njs 0.7.9 would throw `"UTF8" encoding is not supported`.
    assert ev(ctx, f"Buffer.from('6869', {lit(encoding)}).length") in (2, 3, 4)
    assert ev(ctx, f"Buffer.isEncoding({lit(encoding)})")


@pytest.mark.parametrize(
    "encoding", ["ascii", "latin1", "binary", "utf16le", "ucs2", "utf-16le", "foo", ""]
)
def test_encodings_njs_lacks_are_rejected(ctx, encoding) -> None:  # type: ignore[no-untyped-def]
    message = f'TypeError: "{encoding}" encoding is not supported'
    assert error_of(ctx, f"Buffer.from('hi', {lit(encoding)})") == message
    assert error_of(ctx, f"Buffer.from('hi').toString({lit(encoding)})") == message
    assert error_of(ctx, f"Buffer.byteLength('hi', {lit(encoding)})") == message
    assert ev(ctx, f"Buffer.isEncoding({lit(encoding)})") is False


@pytest.mark.parametrize("encoding", ["null", "5", "{}"])
def test_non_string_encodings_are_rejected_like_njs(ctx, encoding) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, f"Buffer.from('hi', {encoding})") == "TypeError: encoding must be a string"
    assert error_of(ctx, f"Buffer.from('hi').toString({encoding})") == (
        "TypeError: encoding must be a string"
    )


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        # njs: decoding stops at the first character outside the alphabet (Node skips it).
        ("aGk!xx", "6869"),
        ("aGk=aGk=", "6869"),
        ("aG k=", "68"),
        ("aG\nk=", "68"),
        ("aGlhY!", "686961"),
        ("aG=k", "68"),
        ("-_-_", "2d5f2d5f"),  # no URL alphabet in 'base64': nothing decodes, see below
        # njs: with less than one byte decodable, the string's own UTF-8 bytes are kept.
        ("!!!!", "21212121"),
        ("a", "61"),
        ("!aGk", "2161476b"),
        ("a=Gk", "613d476b"),
        ("\u20ac", "e282ac"),
        ("\ud800", "efbfbd"),
    ],
)
def test_invalid_base64_follows_njs(ctx, encoded, expected) -> None:  # type: ignore[no-untyped-def]
    assert hex_of(ctx, f"Buffer.from({lit(encoded)}, 'base64')") == expected


def test_invalid_base64url_follows_njs(ctx) -> None:  # type: ignore[no-untyped-def]
    assert hex_of(ctx, "Buffer.from('+/+/', 'base64url')") == "2b2f2b2f"
    assert hex_of(ctx, "Buffer.from('aGk=', 'base64url')") == "6869"
    assert hex_of(ctx, "Buffer.from('!', 'base64url')") == "21"


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        ("abz1", "ab"),  # stops at the first invalid pair (Node too)
        ("1z23", ""),
        ("12z3", "12"),
        ("abc", "ab"),  # odd length: the last digit is ignored (Node too)
        ("zz", ""),
        ("12 34", "12"),
        ("\u20ac", ""),
        # njs: a single ASCII character holds no byte, so its own UTF-8 byte is kept (Node: empty).
        ("z", "7a"),
        ("1", "31"),
        ("", ""),
    ],
)
def test_invalid_hex_follows_njs(ctx, encoded, expected) -> None:  # type: ignore[no-untyped-def]
    assert hex_of(ctx, f"Buffer.from({lit(encoded)}, 'hex')") == expected


def test_from_arrays_and_array_likes(ctx) -> None:  # type: ignore[no-untyped-def]
    assert hex_of(ctx, "Buffer.from([1.9, -1, 'a', 256, '7'])") == "01ff000007"
    assert hex_of(ctx, "Buffer.from({length: 2, 0: 1, 1: 300})") == "012c"
    assert hex_of(ctx, "Buffer.from({length: 'x'})") == ""
    assert hex_of(ctx, "Buffer.from({type: 'Buffer', data: [1, 2]})") == "0102"
    assert hex_of(ctx, "Buffer.from(Buffer.from('ab').toJSON())") == "6162"
    assert hex_of(ctx, "Buffer.from([1, 2], 'hex')") == "0102"


def test_from_buffers_and_typed_arrays_copies(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(
        ctx,
        "(function (a) { var b = Buffer.from(a); b[0] = 0; return [a[0], b[0]]; })"
        "(Buffer.from('x'))",
    ) == [120, 0]
    assert hex_of(ctx, "Buffer.from(new Uint16Array([0x1234, 5]))") == "3405"
    assert hex_of(ctx, "Buffer.from(new Float64Array([1.5, -1, NaN]))") == "01ff00"


def test_from_array_buffer_shares_memory(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(
        ctx,
        "(function () { var ab = new ArrayBuffer(4); var b = Buffer.from(ab, 1, 2); b[0] = 9;"
        " return [new Uint8Array(ab)[1], b.length, b.byteOffset]; })()",
    ) == [9, 2, 1]
    assert ev(ctx, "Buffer.from(new ArrayBuffer(4), 1).length") == 3
    assert ev(ctx, "Buffer.from(new ArrayBuffer(4), '1').length") == 3
    assert ev(ctx, "Buffer.from(new ArrayBuffer(4), 1, -1).length") == 0
    assert (
        error_of(ctx, "Buffer.from(new ArrayBuffer(4), 5)")
        == 'RangeError: "offset" is outside of buffer bounds'
    )
    assert (
        error_of(ctx, "Buffer.from(new ArrayBuffer(4), 1, 4)")
        == 'RangeError: "length" is outside of buffer bounds'
    )
    assert error_name(ctx, "Buffer.from(new ArrayBuffer(4), -1)") == "RangeError"


def test_from_objects_with_value_of_or_to_primitive(ctx) -> None:  # type: ignore[no-untyped-def]
    assert hex_of(ctx, "Buffer.from(new String('hi'))") == "6869"
    assert hex_of(ctx, "Buffer.from(new String('6869'), 'hex')") == "6869"
    assert hex_of(ctx, "Buffer.from({valueOf: function () { return [1, 2]; }})") == "0102"
    assert (
        hex_of(ctx, "Buffer.from({[Symbol.toPrimitive]: function () { return 'ab'; }})") == "6162"
    )


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ("5", "number"),
        ("null", "null"),
        ("undefined", "undefined"),
        ("{}", "object"),
        ("true", "boolean"),
        ("function () {}", "function"),  # njs reads a function as array-like: Node's error wins
        ("new DataView(new ArrayBuffer(2))", "typed array"),
        ("{type: 'Buffer', data: 'ab'}", "object"),
    ],
)
def test_from_rejects_other_values(ctx, value, type_name) -> None:  # type: ignore[no-untyped-def]
    assert (
        error_of(ctx, f"Buffer.from({value})")
        == f"TypeError: first argument {type_name} is not a string or Buffer-like object"
    )


def test_is_buffer(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.isBuffer(Buffer.from('a'))")
    assert ev(ctx, "Buffer.isBuffer(Buffer.from('abc').slice(1))")
    assert ev(ctx, "Buffer.isBuffer(new Uint8Array(2))") is False
    assert ev(ctx, "Buffer.isBuffer('x')") is False
    assert ev(ctx, "Buffer.isBuffer(null)") is False
    assert ev(ctx, "Buffer.isBuffer({})") is False


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("utf8", True),
        ("utf-8", True),
        ("hex", True),
        ("base64", True),
        ("base64url", True),
        ("ascii", False),  # njs lacks it (Node: true)
        ("latin1", False),
        ("", False),
        (None, False),
        (5, False),
    ],
)
def test_is_encoding(ctx, name, expected) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"Buffer.isEncoding({lit(name)})") is expected


# ------------------------------------------------------------------------------------------------
# Prototype: conversions


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("undefined", "\u0001\u0002\u00ff\u00fe"),
        ("'hex'", "0102fffe"),
        ("'base64'", "AQL//g=="),
        ("'base64url'", "AQL__g"),
    ],
)
def test_to_string_encodings(ctx, encoding, expected) -> None:  # type: ignore[no-untyped-def]
    data = "Buffer.from([1, 2, 0xc3, 0xbf, 0xc3, 0xbe])" if encoding == "undefined" else None
    data = data or "Buffer.from([1, 2, 0xff, 0xfe])"
    assert ev(ctx, f"{data}.toString({encoding})") == expected


def test_to_string_utf8_replaces_invalid_sequences(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.from([0xff, 0xfe, 0x41]).toString()") == "\ufffd\ufffdA"
    assert ev(ctx, "Buffer.from([0xe0, 0x80, 0x41]).toString()") == "\ufffd\ufffdA"
    assert ev(ctx, "Buffer.from([0xf0, 0x9f, 0x98]).toString()") == "\ufffd"
    assert ev(ctx, "Buffer.from([0xed, 0xa0, 0x80]).toString('utf-8')") == "\ufffd" * 3
    assert ev(ctx, "Buffer.from([0xef, 0xbb, 0xbf, 0x41]).toString()") == "\ufeffA"  # BOM kept


def test_to_string_start_and_end(ctx) -> None:  # type: ignore[no-untyped-def]
    b = "Buffer.from([1, 2, 3, 4, 5])"
    assert ev(ctx, f"{b}.toString('hex', 1, 3)") == "0203"
    assert ev(ctx, f"{b}.toString('hex', 3)") == "0405"
    assert ev(ctx, f"{b}.toString('hex', 3, 1)") == ""
    assert ev(ctx, f"{b}.toString('hex', 1.7)") == "02030405"
    assert ev(ctx, f"{b}.toString('hex', '1', '3')") == "0203"
    assert ev(ctx, f"{b}.toString('hex', NaN, 2)") == "0102"
    assert ev(ctx, f"{b}.toString(undefined, 4)") == "\u0005"
    # Past the end: clamped, as in Node and njs after 0.7.9 (0.7.9 throws RangeError).
    assert ev(ctx, f"{b}.toString('hex', 1, 10)") == "02030405"
    assert ev(ctx, f"{b}.toString('hex', 9)") == ""
    # Negative: njs's ToIndex throws (Node clamps to 0).
    assert error_of(ctx, f"{b}.toString('hex', -1)") == "RangeError: invalid index"


def test_to_string_is_used_for_string_conversion(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "String(Buffer.from('abc'))") == "abc"
    assert ev(ctx, "Buffer.from('abc') + ''") == "abc"
    assert ev(ctx, "`${Buffer.from('abc')}`") == "abc"


def test_methods_check_their_receiver(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.prototype.toString.call(new Uint8Array([65]))") == "A"
    assert (
        error_of(ctx, "Buffer.prototype.toString.call([65])")
        == 'TypeError: "this" argument must be an instance of Buffer or Uint8Array'
    )
    assert error_name(ctx, "Buffer.prototype.readUInt8.call({0: 1, length: 1}, 0)") == "TypeError"


def test_to_json(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.from('abc').toJSON()") == {"type": "Buffer", "data": [97, 98, 99]}
    assert ev(ctx, "Buffer.alloc(0).toJSON()") == {"type": "Buffer", "data": []}
    assert json.loads(ev(ctx, "JSON.stringify({b: Buffer.from([1])})")) == {
        "b": {"type": "Buffer", "data": [1]}
    }


def test_write(ctx) -> None:  # type: ignore[no-untyped-def]
    def write(size: int, args: str) -> list[Any]:
        return ev(
            ctx, f"(function (b) {{ return [b.write({args}), hex(b)]; }})(Buffer.alloc({size}))"
        )

    assert write(4, "'h\u00e9llo'") == [4, "68c3a96c"]
    assert write(4, "'abc', 2") == [2, "00006162"]
    assert write(4, "'abc', 1, 1") == [1, "00610000"]
    assert write(4, "'6162', 'hex'") == [2, "61620000"]
    assert write(4, "'6162', 1, 'hex'") == [2, "00616200"]
    assert write(6, "'616263', 1, 2, 'hex'") == [2, "006162000000"]
    assert write(6, "'YWJj', 1, 'base64'") == [3, "006162630000"]
    assert write(4, "'aa', 4") == [0, "00000000"]
    assert write(4, "''") == [0, "00000000"]
    # Never half a UTF-8 character (Node; njs 0.7.9 writes e2 82).
    assert write(2, "'\u20ac'") == [0, "0000"]
    assert write(6, "'a\u20ac\u20ac', 1") == [4, "0061e282ac00"]
    # njs cuts a length beyond the end (Node throws).
    assert write(6, "'abc', 1, 10") == [3, "006162630000"]
    # Malformed input decodes the njs way.
    assert write(6, "'aGk!', 'base64'") == [2, "686900000000"]
    # njs reads length and encoding after an undefined offset (Node ignores both).
    assert write(4, "'abc', undefined, 1") == [1, "61000000"]
    assert write(4, "'6162', undefined, undefined, 'hex'") == [2, "61620000"]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("Buffer.alloc(4).write(5)", "TypeError: first argument must be a string"),
        ("Buffer.alloc(4).write('a', 5)", 'RangeError: "offset" is out of range'),
        ("Buffer.alloc(4).write('a', -1)", "RangeError: invalid index"),
        ("Buffer.alloc(4).write('a', 'ascii')", 'TypeError: "ascii" encoding is not supported'),
    ],
)
def test_write_errors(ctx, statement, message) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, statement) == message


# ------------------------------------------------------------------------------------------------
# Prototype: comparing and searching


def test_compare_method(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.from('abc').compare(Buffer.from('abc'))") == 0
    assert ev(ctx, "Buffer.from('abc').compare(Buffer.from('b'))") == -1
    assert ev(ctx, "Buffer.from('abc').compare(Buffer.from('b'), 0, 1, 1, 2)") == 0
    assert ev(ctx, "Buffer.from('abcd').compare(Buffer.from('bc'), 1, 0)") == 1
    assert ev(ctx, "Buffer.from('abcd').compare(Buffer.from('bc'), 0, 2, 3, 1)") == -1


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        # njs checks the ranges (Node returns 1 for a start past the end).
        (
            "Buffer.from('abcd').compare(Buffer.from('bc'), 5)",
            'RangeError: "targetStart" is out of range: 5',
        ),
        (
            "Buffer.from('abcd').compare(Buffer.from('bc'), 0, 5)",
            'RangeError: "targetEnd" is out of range: 5',
        ),
        ("Buffer.from('abcd').compare(Buffer.from('bc'), -1)", "RangeError: invalid index"),
        (
            "Buffer.from('ab').compare(Buffer.from('b'), 0, 1, 3)",
            'RangeError: "sourceStart" is out of range: 3',
        ),
        (
            "Buffer.from('a').compare('a')",
            'TypeError: "target" argument must be an instance of Buffer or Uint8Array',
        ),
    ],
)
def test_compare_method_errors(ctx, statement, message) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, statement) == message


def test_equals(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.from('abc').equals(Buffer.from('abc'))")
    assert ev(ctx, "Buffer.from('abc').equals(new Uint8Array([97, 98, 99]))")
    assert ev(ctx, "Buffer.from('abc').equals(Buffer.from('abd'))") is False
    assert ev(ctx, "Buffer.from('abc').equals(Buffer.from('ab'))") is False
    assert ev(ctx, "Buffer.alloc(200, 'xy').equals(Buffer.alloc(200, 'xy'))")
    assert ev(ctx, "Buffer.alloc(200, 'xy').equals(Buffer.alloc(200, 'xz'))") is False
    assert (
        error_of(ctx, "Buffer.from('abc').equals('abc')")
        == 'TypeError: "target" argument must be an instance of Buffer or Uint8Array'
    )


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("indexOf('c')", 2),
        ("indexOf('c', 3)", 5),
        ("indexOf('c', -2)", 5),
        ("indexOf('c', 1.5)", 2),
        ("indexOf('c', null)", 2),
        ("indexOf('bc')", 1),
        ("indexOf('x')", -1),
        ("indexOf(99)", 2),
        ("indexOf(99 + 256)", 2),
        ("indexOf(Buffer.from('bc'), 2)", 4),
        ("indexOf(new Uint8Array([98, 99]))", 1),
        ("indexOf('')", 0),
        ("indexOf('', 10)", 6),
        ("indexOf('YmM=', 0, 'base64')", 1),
        ("indexOf('YmM=', 'base64')", 1),
        ("indexOf('6263', 'hex')", 1),
        ("lastIndexOf('c')", 5),
        ("lastIndexOf('c', 4)", 2),
        ("lastIndexOf('c', -4)", 2),
        ("lastIndexOf('')", 6),
        ("lastIndexOf('', 2)", 2),
        ("lastIndexOf(97)", 3),
        ("lastIndexOf('abc', 10)", 3),
        ("includes('ca')", True),
        ("includes('cb')", False),
        ("includes(97, 4)", False),
    ],
)
def test_searching(ctx, call, expected) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"Buffer.from('abcabc').{call}") == expected


@pytest.mark.parametrize(
    ("needle", "type_name"),
    [("{}", "object"), ("true", "boolean"), ("new Uint16Array([1])", "typed array")],
)
def test_searching_rejects_other_needles(ctx, needle, type_name) -> None:  # type: ignore[no-untyped-def]
    assert (
        error_of(ctx, f"Buffer.from('abc').indexOf({needle})")
        == f'TypeError: "value" argument {type_name} is not a string or Buffer-like object'
    )


def test_searching_a_long_buffer(ctx) -> None:  # type: ignore[no-untyped-def]
    assert (
        ev(
            ctx,
            "Buffer.concat([Buffer.alloc(5000, 'ab'), Buffer.from('\u20ac')]).indexOf('\u20ac')",
        )
        == 5000
    )
    assert ev(ctx, "Buffer.alloc(70000, 1).lastIndexOf(1)") == 69999


# ------------------------------------------------------------------------------------------------
# Prototype: changing contents


def test_copy(ctx) -> None:  # type: ignore[no-untyped-def]
    def copy(args: str) -> list[Any]:
        return ev(
            ctx,
            "(function (s, t) { return [s.copy(t" + args + "), hex(t)]; })"
            "(Buffer.from('abcd'), Buffer.alloc(6))",
        )

    assert copy("") == [4, "616263640000"]
    assert copy(", 1") == [4, "006162636400"]
    assert copy(", 4, 1") == [2, "000000006263"]
    assert copy(", 0, 1, 3") == [2, "626300000000"]
    assert copy(", 0, 3, 1") == [0, "000000000000"]
    assert copy(", 6") == [0, "000000000000"]
    assert ev(
        ctx, "(function (b) { return [b.copy(b, 2, 0, 4), b.toString()]; })(Buffer.from('abcdef'))"
    ) == [
        4,
        "ababcd",
    ]
    assert ev(
        ctx, "(function (t) { return [Buffer.from('ab').copy(t), t[1]]; })(new Uint8Array(2))"
    ) == [
        2,
        98,
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("Buffer.alloc(2), 3", 'RangeError: "targetStart" is out of range: 3'),
        ("Buffer.alloc(2), 0, 5", 'RangeError: "sourceStart" is out of range: 5'),
        ("Buffer.alloc(2), 0, 1, 9", 'RangeError: "sourceEnd" is out of range: 9'),
        ("Buffer.alloc(2), -1", "RangeError: invalid index"),
        ("[1, 2]", 'TypeError: "target" argument must be an instance of Buffer or Uint8Array'),
    ],
)
def test_copy_errors_follow_njs(ctx, args, message) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, f"Buffer.from('abcd').copy({args})") == message


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("fill('x', 1, 3)", "61787864"),
        ("fill('x', 1)", "61787878"),
        ("fill('x', 1, 'utf8')", "61787878"),
        ("fill('x', 1, 2, 'utf8')", "61786364"),
        ("fill(0x101)", "01010101"),
        ("fill(-1)", "ffffffff"),
        ("fill(true)", "01010101"),
        ("fill({valueOf: function () { return 66; }})", "42424242"),
        ("fill(undefined)", "00000000"),
        ("fill('')", "00000000"),
        ("fill('', 1)", "61000000"),
        ("fill('\u20ac')", "e282ace2"),
        ("fill('6162', 'hex')", "61626162"),
        ("fill('YWI=', 'base64')", "61626162"),
        ("fill(new Uint16Array([0x4142]))", "42414241"),
        ("fill(Buffer.from('xyz'), 1)", "6178797a"),
        ("fill('x', 3, 1)", "61626364"),
        # njs: fill() with no arguments changes nothing (Node zero-fills).
        ("fill()", "61626364"),
        # njs: hex that decodes to nothing fills zeros (Node throws); a lone character is kept.
        ("fill('zz', 'hex')", "00000000"),
        ("fill('z', 'hex')", "7a7a7a7a"),
        # njs: a string end counts as index 0 unless the value is a string.
        ("fill(0x78, 1, 'utf8')", "61626364"),
        # njs: an end after an undefined offset counts (Node fills everything).
        ("fill('x', undefined, 2)", "78786364"),
    ],
)
def test_fill(ctx, call, expected) -> None:  # type: ignore[no-untyped-def]
    assert hex_of(ctx, f"Buffer.from('abcd').{call}") == expected


def test_fill_returns_the_buffer_and_handles_own_views(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "(function (b) { return b.fill(1) === b; })(Buffer.alloc(2))")
    assert hex_of(
        ctx, "(function (b) { return b.fill(b.subarray(0, 2), 2); })(Buffer.from('abcdef'))"
    ) == ("616261626162")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("fill('x', 5)", 'RangeError: "offset" is out of range'),
        ("fill('x', 1, 9)", 'RangeError: "end" is out of range'),
        ("fill('x', -1)", "RangeError: invalid index"),
        ("fill('x', 'ascii')", 'TypeError: "ascii" encoding is not supported'),
        ("fill(Buffer.alloc(0))", "TypeError: The argument 'value' is invalid"),
    ],
)
def test_fill_errors(ctx, call, message) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, f"Buffer.from('abcd').{call}") == message


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("swap16()", "6261646366656867"),
        ("swap32()", "6463626168676665"),
        ("swap64()", "6867666564636261"),
    ],
)
def test_swaps(ctx, call, expected) -> None:  # type: ignore[no-untyped-def]
    assert hex_of(ctx, f"Buffer.from('abcdefgh').{call}") == expected
    assert ev(ctx, f"(function (b) {{ return b.{call} === b; }})(Buffer.from('abcdefgh'))")


@pytest.mark.parametrize(("call", "bits"), [("swap16", 16), ("swap32", 32), ("swap64", 64)])
def test_swaps_need_whole_units(ctx, call, bits) -> None:  # type: ignore[no-untyped-def]
    assert (
        error_of(ctx, f"Buffer.from('abcdefg').{call}()")
        == f"RangeError: Buffer size must be a multiple of {bits}-bits"
    )


def test_slice_and_subarray_share_memory(ctx) -> None:  # type: ignore[no-untyped-def]
    for name in ("slice", "subarray"):
        assert ev(
            ctx,
            f"(function (b) {{ var s = b.{name}(0, 1); s[0] = 0x7a; return [b.toString(), Buffer.isBuffer(s)]; }})"
            "(Buffer.from('abc'))",
        ) == ["zbc", True]
        assert ev(ctx, f"Buffer.from('abcd').{name}(1, -1).toString()") == "bc"
        assert ev(ctx, f"Buffer.from('abcd').{name}(-2).toString()") == "cd"
        assert ev(ctx, f"Buffer.from('abcd').{name}('1').toString()") == "bcd"
        assert ev(ctx, f"Buffer.from('abcd').{name}(5).length") == 0
        assert ev(ctx, f"Buffer.from('abcd').{name}(3, 1).length") == 0
        assert ev(ctx, f"Buffer.from('abcd').{name}(1).{name}(1).byteOffset") == 2


# ------------------------------------------------------------------------------------------------
# Prototype: numbers


def test_reads(ctx) -> None:  # type: ignore[no-untyped-def]
    b = "Buffer.from([0x80, 0x01, 0xfe, 0xff, 0x00, 0x10, 0x7f, 0x42])"
    cases = {
        "readInt8(0)": -128,
        "readUInt8(0)": 128,
        "readUint8(1)": 1,
        "readInt16BE(2)": -257,
        "readInt16LE(2)": -2,
        "readUInt16BE(0)": 0x8001,
        "readUInt16LE(0)": 0x0180,
        "readInt32BE(0)": -2147352833,
        "readInt32LE(4)": 0x427F1000,
        "readUInt32BE(0)": 0x8001FEFF,
        "readUInt32LE(0)": 0xFFFE0180,
        "readUint32BE(4)": 0x00107F42,
        "readIntBE(0, 3)": -8388098,
        "readIntLE(0, 3)": -130688,
        "readUIntBE(2, 6)": 0xFEFF00107F42,
        "readUIntLE(2, 6)": 0x427F1000FFFE,
        "readIntBE(2, 6)": 0xFEFF00107F42 - 2**48,
        "readIntLE(0, 5)": 0x00FFFE0180,
        "readUintBE(1, 1)": 1,
        "readUInt8()": 128,
        # njs: offsets are truncated and may be numeric strings (Node throws).
        "readUInt8(1.5)": 1,
        "readUInt8('1')": 1,
        "readUIntLE(0, 2.5)": 0x0180,
    }
    for call, expected in cases.items():
        assert ev(ctx, f"{b}.{call}") == expected, call


def test_float_reads(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.from([0x3f, 0xc0, 0, 0]).readFloatBE(0)") == 1.5
    assert ev(ctx, "Buffer.from([0, 0, 0xc0, 0x3f]).readFloatLE(0)") == 1.5
    assert ev(ctx, "Buffer.from([0x3f, 0xf8, 0, 0, 0, 0, 0, 0]).readDoubleBE(0)") == 1.5
    assert ev(ctx, "Buffer.from([0, 0, 0, 0, 0, 0, 0xf8, 0x3f]).readDoubleLE(0)") == 1.5
    assert ev(ctx, "Buffer.from('abcdefgh').readDoubleBE(0)") == 1.2926117907728089e161
    assert ev(ctx, "isNaN(Buffer.from([0x7f, 0xc0, 0, 0]).readFloatBE(0))")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("readUInt8(3)", "RangeError: index 3 is outside the bound of the buffer"),
        ("readUInt16LE(2)", "RangeError: index 2 is outside the bound of the buffer"),
        ("readFloatLE(0)", "RangeError: index 0 is outside the bound of the buffer"),
        ("readUInt8(-1)", "RangeError: invalid index"),
        ("readUInt8(Infinity)", "RangeError: invalid index"),
        ("readUIntBE(0)", 'TypeError: "byteLength" is not a number'),
        ("readUIntBE(0, '2')", 'TypeError: "byteLength" is not a number'),
        ("readUIntBE(0, 7)", 'RangeError: "byteLength" must be >= 1 and <= 6'),
        ("readUIntBE(0, 0)", 'RangeError: "byteLength" must be >= 1 and <= 6'),
    ],
)
def test_read_errors(ctx, call, message) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, f"Buffer.from([1, 2, 3]).{call}") == message


@pytest.mark.parametrize(
    ("call", "returned", "expected"),
    [
        ("writeInt8(-2, 1)", 2, "00fe000000000000"),
        ("writeUInt8(255)", 1, "ff00000000000000"),
        ("writeUint8(1.7)", 1, "0100000000000000"),
        ("writeInt16BE(-2, 0)", 2, "fffe000000000000"),
        ("writeInt16LE(-2, 0)", 2, "feff000000000000"),
        ("writeUInt16BE(0x1234, 1)", 3, "0012340000000000"),
        ("writeUInt16LE(0x1234, 1)", 3, "0034120000000000"),
        ("writeInt32BE(-2147483648, 4)", 8, "0000000080000000"),
        ("writeInt32LE(-2, 0)", 4, "feffffff00000000"),
        ("writeUInt32BE(0xdeadbeef, 0)", 4, "deadbeef00000000"),
        ("writeUint32LE(0xdeadbeef, 0)", 4, "efbeadde00000000"),
        ("writeUIntBE(0x123456, 1, 3)", 4, "0012345600000000"),
        ("writeUIntLE(0x1234567890, 3, 5)", 8, "0000009078563412"),
        ("writeIntBE(-2, 0, 6)", 6, "fffffffffffe0000"),
        ("writeIntLE(-2, 0, 6)", 6, "feffffffffff0000"),
        ("writeUintBE(0xffffffffffff, 2, 6)", 8, "0000ffffffffffff"),
        ("writeIntBE(-140737488355328, 0, 6)", 6, "8000000000000000"),
        ("writeUInt32LE('12', 0)", 4, "0c00000000000000"),
        ("writeUInt32LE(NaN, 0)", 4, "0000000000000000"),
        ("writeFloatBE(1.1, 0)", 4, "3f8ccccd00000000"),
        ("writeFloatLE(1e40, 0)", 4, "0000807f00000000"),
        ("writeDoubleBE(1.5, 0)", 8, "3ff8000000000000"),
        ("writeDoubleLE(-0, 0)", 8, "0000000000000080"),
        ("writeDoubleLE('x', 0)", 8, "000000000000f87f"),
        # njs: offsets are truncated (Node throws).
        ("writeUInt8(5, 1.5)", 2, "0005000000000000"),
        ("writeUInt8(5, '3')", 4, "0000000500000000"),
    ],
)
def test_writes(ctx, call, returned, expected) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"(function (b) {{ return [b.{call}, hex(b)]; }})(Buffer.alloc(8))") == [
        returned,
        expected,
    ]


@pytest.mark.parametrize(
    ("call", "name"),
    [
        # Out-of-range values throw, as in Node and njs after 0.7.9 (0.7.9 wraps silently).
        ("writeUInt8(256)", "RangeError"),
        ("writeUInt8(-1)", "RangeError"),
        ("writeInt8(128)", "RangeError"),
        ("writeUInt16BE(70000)", "RangeError"),
        ("writeInt32BE(2147483648)", "RangeError"),
        ("writeUInt32LE(-1)", "RangeError"),
        ("writeUIntBE(281474976710656, 0, 6)", "RangeError"),
        ("writeIntBE(140737488355328, 0, 6)", "RangeError"),
        ("writeUInt16BE(Infinity)", "RangeError"),
        ("writeUInt16BE(1, 7)", "RangeError"),
        ("writeDoubleLE(1.5, 1)", "RangeError"),
        ("writeUInt8(5, -1)", "RangeError"),
        ("writeUIntBE(1, 0, 7)", "RangeError"),
        ("writeUIntBE(1, 0)", "TypeError"),
    ],
)
def test_write_errors_on_numbers(ctx, call, name) -> None:  # type: ignore[no-untyped-def]
    assert error_name(ctx, f"Buffer.alloc(8).{call}") == name


def test_read_back_what_was_written(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(
        ctx,
        "(function (b) { b.writeIntLE(-123456789012, 0, 6); b.writeDoubleBE(Math.PI, 6);"
        " return [b.readIntLE(0, 6), b.readDoubleBE(6)]; })(Buffer.alloc(14))",
    ) == [-123456789012, 3.141592653589793]


# ------------------------------------------------------------------------------------------------
# The shim contract


def test_shim_never_touches_global_this() -> None:
    source = (Path(shim_dir()) / "buffer.js").read_text(encoding="utf-8")
    assert "globalThis" not in source


def test_works_after_user_code_replaces_built_ins() -> None:
    c = shim_context("text", "buffer")
    c.eval(SETUP)
    c.eval(
        "var hexOf = hex; var U8 = Uint8Array;"
        " String.prototype.charCodeAt = null; String.prototype.indexOf = null;"
        " String.prototype.slice = null; RegExp.prototype.exec = null;"
        " Function.prototype.call = null; Function.prototype.apply = null;"
        " Uint8Array.prototype.set = null; Uint8Array.prototype.toHex = null;"
        " Array.isArray = null; Object.defineProperty = null;"
        " delete globalThis.Uint8Array; delete globalThis.String; delete globalThis.Math;"
        # What the prelude removes for runtime 1.0 and 2.0.
        " delete globalThis.Symbol; delete globalThis.DataView; delete globalThis.Reflect;"
        " delete globalThis.atob; delete globalThis.btoa;"
    )
    assert c.eval("Buffer.from('h\u00e9').toString('hex')") == "68c3a9"
    assert c.eval("Buffer.from('aGk=', 'base64').toString()") == "hi"
    assert (
        c.eval("Buffer.concat([Buffer.from([1]), Buffer.from([2])]).toString('base64')") == "AQI="
    )
    assert c.eval("Buffer.from('abcabc').lastIndexOf('bc')") == 4
    assert c.eval("Buffer.alloc(4).fill('ab').readUInt32BE(0)") == 0x61626162
