"""runtime_shims/text.js: atob, btoa, TextEncoder, TextDecoder on their own.

Where njs 0.7.9 (the engine CloudFront's runtime resembles) and Node disagree, the expected values
below are njs's, checked with the njs CLI; the tests name them "njs".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edgesim.runtime.shims import shim_dir
from tests.shimkit import js_json, shim_context

SETUP = """
var T = __edgesim_shims.text;
var atob = T.atob, btoa = T.btoa, TextEncoder = T.TextEncoder, TextDecoder = T.TextDecoder;
function bytes(u) { return Array.prototype.slice.call(u); }
function err(f) { try { f(); return null; } catch (e) { return e.name + ': ' + e.message; } }
"""


@pytest.fixture(scope="module")
def ctx():  # type: ignore[no-untyped-def]
    c = shim_context("text")
    c.eval(SETUP)
    return c


def ev(ctx, expr: str) -> Any:  # type: ignore[no-untyped-def]
    return js_json(ctx, expr)


def error_of(ctx, statement: str) -> str | None:  # type: ignore[no-untyped-def]
    return ev(ctx, f"err(function () {{ {statement}; }})")


def lit(value: Any) -> str:
    return json.dumps(value)


# ------------------------------------------------------------------------------------------------
# atob


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        ("aGk=", "hi"),
        ("aG==", "h"),
        ("aGlh", "hia"),
        ("", ""),
        ("/+8=", "\xff\xef"),
        ("AAEC/w==", "\x00\x01\x02\xff"),
        ("aGl=", "hi"),  # non-zero bits after the last byte are ignored (njs and Node)
        (" aG k= ", "hi"),  # spaces are skipped
        ("aGk= ", "hi"),
    ],
)
def test_atob_decodes(ctx, encoded, decoded) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"atob({lit(encoded)})") == decoded


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        # njs drops a trailing unpadded group of 2 or 3 characters (Node decodes it).
        ("aGk", ""),
        ("aG", ""),
        ("YWJjZA", "abc"),
        ("YWJjZGU", "abc"),
        ("aGlhYQ", "hia"),
    ],
)
def test_atob_drops_an_unpadded_tail_like_njs(ctx, encoded, decoded) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"atob({lit(encoded)})") == decoded


@pytest.mark.parametrize(
    "encoded",
    [
        "aGk!",
        "a",
        "aGlhY",
        "aGk==",
        "aG=",
        "aG=k",
        "a===",
        "====",
        "-_",
        "\u00e9",
        "aGk\u00a0",
        "aG\tk=",  # njs skips only spaces (Node also skips \t \n \f \r)
        "aG\nk=",
        "aGk=\r",
    ],
)
def test_atob_rejects_with_njs_type_error(ctx, encoded) -> None:  # type: ignore[no-untyped-def]
    assert (
        error_of(ctx, f"atob({lit(encoded)})")
        == "TypeError: the string to be decoded is not correctly encoded"
    )


def test_atob_converts_its_argument_to_a_string(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "atob(null)") == "\u009e\u00e9e"
    assert ev(ctx, "atob({toString: function () { return 'eA=='; }})") == "x"
    assert error_of(ctx, "atob()") is not None
    assert error_of(ctx, "atob(undefined)") is not None


# ------------------------------------------------------------------------------------------------
# btoa


@pytest.mark.parametrize(
    ("binary", "encoded"),
    [
        ("hi", "aGk="),
        ("", ""),
        ("\xff\x80\x00", "/4AA"),
        ("abc", "YWJj"),
    ],
)
def test_btoa_encodes(ctx, binary, encoded) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"btoa({lit(binary)})") == encoded


def test_btoa_converts_its_argument_to_a_string(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "btoa(12)") == "MTI="
    assert ev(ctx, "btoa(null)") == "bnVsbA=="
    assert ev(ctx, "btoa()") == "dW5kZWZpbmVk"  # njs encodes "undefined"; Node throws


@pytest.mark.parametrize("text", ["\u0100", "a\u20acb", "\ud800", "\U0001f600"])
def test_btoa_rejects_characters_above_ff(ctx, text) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, f"btoa({lit(text)})") == "TypeError: invalid character (>= U+00FF)"


def test_atob_inverts_btoa_for_every_byte(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(
        ctx,
        "(function () { var s = ''; for (var i = 0; i < 256; i++) s += String.fromCharCode(i);"
        " return atob(btoa(s)) === s; })()",
    )


# ------------------------------------------------------------------------------------------------
# TextEncoder


def test_text_encoder_encodes_utf8_into_a_plain_uint8array(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "new TextEncoder().encoding") == "utf-8"
    assert ev(ctx, "bytes(new TextEncoder().encode('h\u00e9\u20ac\\ud83d\\ude00'))") == list(
        "hé€😀".encode()
    )
    assert ev(ctx, "Object.getPrototypeOf(new TextEncoder().encode('x')) === Uint8Array.prototype")


def test_text_encoder_replaces_lone_surrogates(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "bytes(new TextEncoder().encode('a\\ud800b\\udc00'))") == [
        0x61,
        0xEF,
        0xBF,
        0xBD,
        0x62,
        0xEF,
        0xBF,
        0xBD,
    ]


def test_text_encoder_input_conversion(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "bytes(new TextEncoder().encode())") == []
    assert ev(ctx, "bytes(new TextEncoder().encode(undefined))") == []
    assert ev(ctx, "bytes(new TextEncoder().encode(12))") == [0x31, 0x32]


def test_encode_into_writes_whole_characters_only(ctx) -> None:  # type: ignore[no-untyped-def]
    result = ev(
        ctx,
        "(function () { var u = new Uint8Array(4); var r = new TextEncoder().encodeInto("
        "'h\u00e9\u20ac', u); return [r, bytes(u)]; })()",
    )
    assert result == [{"read": 2, "written": 3}, [0x68, 0xC3, 0xA9, 0]]
    result = ev(
        ctx,
        "(function () { var u = new Uint8Array(5); var r = new TextEncoder().encodeInto("
        "'a\\ud83d\\ude00', u); return [r, bytes(u)]; })()",
    )
    assert result == [{"read": 3, "written": 5}, [0x61, 0xF0, 0x9F, 0x98, 0x80]]


def test_encode_into_needs_a_uint8array(ctx) -> None:  # type: ignore[no-untyped-def]
    message = 'TypeError: The "destination" argument must be an instance of Uint8Array'
    assert error_of(ctx, "new TextEncoder().encodeInto('ab', new ArrayBuffer(4))") == message
    assert error_of(ctx, "new TextEncoder().encodeInto('ab')") == message


def test_text_encoder_needs_new_and_a_real_receiver(ctx) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, "TextEncoder()").startswith("TypeError")
    assert error_of(ctx, "TextEncoder.prototype.encode.call({}, 'x')").startswith("TypeError")


# ------------------------------------------------------------------------------------------------
# TextDecoder


def test_text_decoder_defaults(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(
        ctx, "(function (d) { return [d.encoding, d.fatal, d.ignoreBOM]; })(new TextDecoder())"
    ) == ["utf-8", False, False]
    assert ev(
        ctx,
        "(function (d) { return [d.fatal, d.ignoreBOM]; })"
        "(new TextDecoder('utf-8', {fatal: 1, ignoreBOM: 'yes'}))",
    ) == [True, True]


@pytest.mark.parametrize("label", ["utf-8", "utf8", "UTF-8", " utf-8\n", "unicode-1-1-utf-8"])
def test_text_decoder_accepts_utf8_labels(ctx, label) -> None:  # type: ignore[no-untyped-def]
    # njs accepts only "utf-8" and "utf8"; edgesim accepts the WHATWG labels, as Node does.
    assert ev(ctx, f"new TextDecoder({lit(label)}).encoding") == "utf-8"


@pytest.mark.parametrize("label", ["latin1", "utf-16le", "foo", "null"])
def test_text_decoder_rejects_other_encodings(ctx, label) -> None:  # type: ignore[no-untyped-def]
    assert (
        error_of(ctx, f"new TextDecoder({lit(label)})")
        == f'RangeError: The "{label}" encoding is not supported'
    )


def test_text_decoder_options_must_be_an_object(ctx) -> None:  # type: ignore[no-untyped-def]
    assert (
        error_of(ctx, "new TextDecoder('utf-8', 5)")
        == 'TypeError: The "options" argument must be of type object'
    )


def test_decode_accepts_buffers_and_views(ctx) -> None:  # type: ignore[no-untyped-def]
    d = "new TextDecoder()"
    assert ev(ctx, f"{d}.decode(new Uint8Array([0x68, 0xc3, 0xa9]))") == "hé"
    assert ev(ctx, f"{d}.decode(new Uint8Array([65, 66]).buffer)") == "AB"
    assert ev(ctx, f"{d}.decode(new DataView(new Uint8Array([65, 66, 67]).buffer, 1))") == "BC"
    assert ev(ctx, f"{d}.decode(new Uint16Array([0x4241]))") == "AB"
    assert ev(ctx, f"{d}.decode(new Uint8Array([0, 65, 66, 0]).subarray(1, 3))") == "AB"
    assert ev(ctx, f"{d}.decode()") == ""
    assert ev(ctx, f"{d}.decode(undefined)") == ""


@pytest.mark.parametrize("value", ["null", "'abc'", "[65]", "{}"])
def test_decode_rejects_other_input(ctx, value) -> None:  # type: ignore[no-untyped-def]
    assert (
        error_of(ctx, f"new TextDecoder().decode({value})")
        == 'TypeError: The "input" argument must be an instance of TypedArray'
    )


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ([0xFF, 0x41, 0xE2, 0x82], "\ufffdA\ufffd"),
        ([0xE0, 0x80, 0x41], "\ufffd\ufffdA"),  # overlong: each byte is its own error
        ([0xED, 0xA0, 0x80], "\ufffd\ufffd\ufffd"),  # UTF-8-encoded surrogate
        ([0xF0, 0x9F, 0x98], "\ufffd"),  # truncated 4-byte sequence: one U+FFFD
        ([0xF4, 0x90, 0x80, 0x80], "\ufffd" * 4),  # above U+10FFFF
        ([0xC2], "\ufffd"),
        ([0xF0, 0x9F, 0x98, 0x80], "\U0001f600"),
    ],
)
def test_decode_replaces_invalid_sequences(ctx, data, text) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"new TextDecoder().decode(new Uint8Array({lit(data)}))") == text


def test_fatal_decode_throws_on_invalid_bytes(ctx) -> None:  # type: ignore[no-untyped-def]
    fatal = "new TextDecoder('utf-8', {fatal: true})"
    assert (
        error_of(ctx, f"{fatal}.decode(new Uint8Array([0xff, 0x41]))")
        == "TypeError: The encoded data was not valid"
    )
    assert ev(ctx, f"{fatal}.decode(new Uint8Array([0xc3, 0xa9]))") == "é"


def test_bom_is_stripped_unless_ignore_bom(ctx) -> None:  # type: ignore[no-untyped-def]
    bom_a = "new Uint8Array([0xef, 0xbb, 0xbf, 0x41])"
    assert ev(ctx, f"new TextDecoder().decode({bom_a})") == "A"
    assert ev(ctx, f"new TextDecoder('utf-8', {{ignoreBOM: true}}).decode({bom_a})") == "\ufeffA"
    # Only at the start of a stream.
    assert ev(
        ctx,
        f"(function (d) {{ return [d.decode({bom_a}), d.decode({bom_a})]; }})(new TextDecoder())",
    ) == ["A", "A"]
    assert ev(
        ctx,
        f"(function (d) {{ return [d.decode({bom_a}, {{stream: true}}), d.decode({bom_a})]; }})"
        "(new TextDecoder())",
    ) == ["A", "\ufeffA"]


def test_stream_mode_keeps_incomplete_sequences(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(
        ctx,
        "(function (d) { return [d.decode(new Uint8Array([0xe2, 0x82]), {stream: true}),"
        " d.decode(new Uint8Array([0xac, 0x41]))]; })(new TextDecoder())",
    ) == ["", "€A"]
    # Flushing with pending bytes gives U+FFFD.
    assert ev(
        ctx,
        "(function (d) { return [d.decode(new Uint8Array([0x41, 0xe2, 0x82]), {stream: true}),"
        " d.decode()]; })(new TextDecoder())",
    ) == ["A", "\ufffd"]
    # A BOM split across chunks is still a BOM.
    assert (
        ev(
            ctx,
            "(function (d) { return d.decode(new Uint8Array([0xef, 0xbb]), {stream: true})"
            " + d.decode(new Uint8Array([0xbf, 0x41])); })(new TextDecoder())",
        )
        == "A"
    )


def test_text_decoder_checks_its_receiver(ctx) -> None:  # type: ignore[no-untyped-def]
    assert (
        error_of(ctx, "TextDecoder.prototype.decode.call({}, new Uint8Array(1))")
        == 'TypeError: "this" is not a TextDecoder'
    )
    assert error_of(ctx, "TextDecoder()").startswith("TypeError")


def test_decoding_long_mixed_input_matches_python(ctx) -> None:  # type: ignore[no-untyped-def]
    # Crosses the internal chunk size (32768 units) and mixes ASCII stretches with other text.
    text = ("plain ascii " * 300 + "é€😀" * 50 + "x" * 100) * 20
    data = list(text.encode())
    ctx.eval(f"var longBytes = new Uint8Array({lit(data)});")
    assert ev(ctx, "new TextDecoder().decode(longBytes)") == text
    assert ev(ctx, "new TextEncoder().encode(new TextDecoder().decode(longBytes)).length") == len(
        data
    )


# ------------------------------------------------------------------------------------------------
# The shim contract.


def test_shim_never_touches_global_this() -> None:
    source = (Path(shim_dir()) / "text.js").read_text(encoding="utf-8")
    assert "globalThis" not in source


def test_works_after_user_code_replaces_built_ins() -> None:
    c = shim_context("text")
    c.eval(SETUP)
    c.eval(
        "String.prototype.charCodeAt = null; String.prototype.slice = null;"
        " RegExp.prototype.exec = null; RegExp.prototype.test = null;"
        " Function.prototype.call = null; Function.prototype.apply = null;"
        " Uint8Array.prototype.set = null; delete globalThis.Uint8Array;"
        " delete globalThis.String;"
    )
    assert c.eval("atob('aGk=') + btoa('hi')") == "hiaGk="
    assert c.eval("new TextDecoder().decode(new TextEncoder().encode('h\u00e9 \u20ac'))") == "hé €"
