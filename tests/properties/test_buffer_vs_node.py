"""Differential tests: the Buffer and text-codec shims against Node.js on valid input.

Each example builds one JS expression, evaluates it in a QuickJS context holding the shims and in
Node, and compares the JSON results. ``__t(() => ...)`` turns a Uint8Array result into
``{buf: isBuffer, bytes: [...]}`` and a thrown error into ``{error: name}``, so one failing item
does not hide the others. Data crosses as JSON literals (strings use \\u escapes, so lone
surrogates survive).

Invalid input (malformed base64/hex, out-of-range offsets) follows njs and is covered by the unit
tests, not here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.shimkit import shim_context

pytestmark = pytest.mark.node

HELPERS = """
var __t = function (f) {
  try {
    var r = f();
    // Node's Buffer comes from another realm than the oracle's Uint8Array: compare tags.
    if (Object.prototype.toString.call(r) === '[object Uint8Array]') {
      return { buf: Buffer.isBuffer(r), bytes: Array.prototype.slice.call(r) };
    }
    return r;
  } catch (e) {
    return { error: e.name };
  }
};
"""

INSTALL_SHIMS = """
globalThis.Buffer = __edgesim_shims.buffer.Buffer;
globalThis.atob = __edgesim_shims.text.atob;
globalThis.btoa = __edgesim_shims.text.btoa;
globalThis.TextEncoder = __edgesim_shims.text.TextEncoder;
globalThis.TextDecoder = __edgesim_shims.text.TextDecoder;
"""


@pytest.fixture(scope="module")
def ours():  # type: ignore[no-untyped-def]
    ctx = shim_context("text", "buffer")
    ctx.eval(INSTALL_SHIMS)
    ctx.eval(HELPERS)
    return ctx


@pytest.fixture(scope="module")
def theirs(node):  # type: ignore[no-untyped-def]
    node.eval(HELPERS)
    return node


def lit(value: Any) -> str:
    """A JS literal for a JSON-able Python value (ASCII only: non-ASCII becomes \\u escapes)."""
    return json.dumps(value)


def run_both(ours, theirs, items: list[str]) -> tuple[Any, Any]:  # type: ignore[no-untyped-def]
    expr = "[" + ", ".join(f"__t(() => ({item}))" for item in items) + "]"
    mine = json.loads(ours.eval(f"JSON.stringify({expr})"))
    node = theirs.eval(expr)
    return mine, node


def check(ours, theirs, *items: str) -> None:  # type: ignore[no-untyped-def]
    mine, node = run_both(ours, theirs, list(items))
    for item, a, b in zip(items, mine, node, strict=True):
        assert a == b, f"{item}\n  edgesim: {a}\n  node:    {b}"


# ------------------------------------------------------------------------------------------------
# Strategies.

small_bytes = st.binary(max_size=40).map(list)
# Few distinct values, so that searches and comparisons find matches and equal prefixes.
narrow_bytes = st.lists(st.sampled_from([0, 1, 97, 98, 0xC3, 0xFF]), max_size=24)
# Text with ASCII, 2- and 3-byte characters, astral characters and lone surrogates.
any_char = st.one_of(
    st.characters(max_codepoint=0x7F),
    st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF),
    st.integers(0xD800, 0xDFFF).map(chr),
)
any_text = st.lists(any_char, max_size=24).map("".join)
ENCODINGS = ["utf8", "hex", "base64", "base64url"]
encodings = st.sampled_from(ENCODINGS)
# Byte sequences made to look like UTF-8: valid pieces mixed with every kind of malformation.
utf8ish_piece = st.one_of(
    st.binary(min_size=1, max_size=4),
    any_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [b"\xc0\x80", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf0\x9f\x98"]
    ),
)
utf8ish = st.lists(utf8ish_piece, max_size=8).map(lambda parts: list(b"".join(parts)))


def buf(data: list[int]) -> str:
    return f"Buffer.from({lit(data)})"


# ------------------------------------------------------------------------------------------------
# Encoding round trips.


@given(data=small_bytes, encoding=encodings)
def test_bytes_to_string_and_back(ours, theirs, data, encoding) -> None:  # type: ignore[no-untyped-def]
    enc = lit(encoding)
    check(
        ours,
        theirs,
        f"{buf(data)}.toString({enc})",
        f"Buffer.from({buf(data)}.toString({enc}), {enc})",
        f"Buffer.byteLength({buf(data)}.toString({enc}), {enc})",
    )


@given(text=any_text)
def test_text_to_utf8_and_back(ours, theirs, text) -> None:  # type: ignore[no-untyped-def]
    s = lit(text)
    check(
        ours,
        theirs,
        f"Buffer.from({s})",
        f"Buffer.from({s}, 'utf-8')",
        f"Buffer.from({s}).toString()",
        f"Buffer.byteLength({s})",
        f"Buffer.from({s}).toString('base64')",
        f"Buffer.from({s}).toString('hex')",
    )


@given(data=utf8ish)
def test_utf8_decoding_of_arbitrary_bytes(ours, theirs, data) -> None:  # type: ignore[no-untyped-def]
    check(
        ours,
        theirs,
        f"{buf(data)}.toString()",
        f"{buf(data)}.toString('utf8', 1)",
        f"new TextDecoder().decode(new Uint8Array({lit(data)}))",
        f"new TextDecoder('utf-8', {{fatal: true}}).decode(new Uint8Array({lit(data)}))",
        f"new TextDecoder('utf-8', {{ignoreBOM: true}}).decode(new Uint8Array({lit([0xEF, 0xBB, 0xBF, *data])}))",
    )


@given(data=st.lists(st.integers(0, 255), max_size=3000))
def test_long_utf8_and_hex(ours, theirs, data) -> None:  # type: ignore[no-untyped-def]
    # Long enough to cross the decoder's internal chunking and the ASCII-stretch heuristics.
    text_bytes = bytes(data).decode("latin-1").encode("utf-8")
    check(
        ours,
        theirs,
        f"{buf(data)}.toString()",
        f"{buf(list(text_bytes))}.toString()",
        f"{buf(data)}.toString('hex').length",
    )


@given(data=small_bytes, start=st.integers(0, 45), end=st.integers(0, 45), encoding=encodings)
def test_to_string_with_start_and_end(ours, theirs, data, start, end, encoding) -> None:  # type: ignore[no-untyped-def]
    n = len(data)
    start, end = min(start, n), min(end, n)
    check(ours, theirs, f"{buf(data)}.toString({lit(encoding)}, {start}, {end})")


@given(
    arr=st.lists(st.integers(-300, 300) | st.floats(allow_nan=True), max_size=10),
    kind=st.sampled_from(["Uint8Array", "Uint16Array", "Int32Array", "Float64Array"]),
)
def test_from_arrays_and_typed_arrays(ours, theirs, arr, kind) -> None:  # type: ignore[no-untyped-def]
    values = "[" + ", ".join("NaN" if x != x else repr(x) for x in arr) + "]"
    values = values.replace("inf", "Infinity")
    check(
        ours,
        theirs,
        f"Buffer.from({values})",
        f"Buffer.from(new {kind}({values}))",
        f"Buffer.from({{type: 'Buffer', data: {values}}})",
        f"Buffer.from(Buffer.from({values}).toJSON())",
    )


@given(data=small_bytes, offset=st.integers(0, 45), length=st.none() | st.integers(0, 45))
def test_from_array_buffer_shares_memory(ours, theirs, data, offset, length) -> None:  # type: ignore[no-untyped-def]
    n = len(data)
    offset = min(offset, n)
    args = str(offset) if length is None else f"{offset}, {min(length, n - offset)}"
    check(
        ours,
        theirs,
        f"(() => {{ var u = new Uint8Array({lit(data)}); var b = Buffer.from(u.buffer, {args});"
        " if (b.length) b[0] ^= 255; return [b.length, b.byteOffset, Array.from(u)]; })()",
    )


# ------------------------------------------------------------------------------------------------
# Comparing and searching.


@given(a=narrow_bytes, b=narrow_bytes, cuts=st.lists(st.integers(0, 30), min_size=4, max_size=4))
def test_compare_and_equals(ours, theirs, a, b, cuts) -> None:  # type: ignore[no-untyped-def]
    ts, te = sorted(min(c, len(b)) for c in cuts[:2])
    ss, se = sorted(min(c, len(a)) for c in cuts[2:])
    check(
        ours,
        theirs,
        f"Buffer.compare({buf(a)}, {buf(b)})",
        f"{buf(a)}.compare({buf(b)})",
        f"{buf(a)}.compare({buf(b)}, {ts}, {te}, {ss}, {se})",
        f"{buf(a)}.equals({buf(b)})",
        f"{buf(a)}.equals(new Uint8Array({lit(b)}))",
    )


@given(
    hay=narrow_bytes,
    needle=st.one_of(
        st.integers(-300, 300).map(str),
        narrow_bytes.map(buf),
        st.text(alphabet="ab\u00c3\u00ff", max_size=3).map(lit),
    ),
    offset=st.none() | st.integers(-30, 30) | st.sampled_from(["'utf8'", "NaN", "1.5", "'7'"]),
)
def test_index_of_last_index_of_includes(ours, theirs, hay, needle, offset) -> None:  # type: ignore[no-untyped-def]
    args = needle if offset is None else f"{needle}, {offset}"
    check(
        ours,
        theirs,
        f"{buf(hay)}.indexOf({args})",
        f"{buf(hay)}.lastIndexOf({args})",
        f"{buf(hay)}.includes({args})",
    )


@given(
    hay=narrow_bytes, needle=narrow_bytes, encoding=st.sampled_from(["hex", "base64", "base64url"])
)
def test_index_of_encoded_needles(ours, theirs, hay, needle, encoding) -> None:  # type: ignore[no-untyped-def]
    encoded = f"{buf(needle)}.toString({lit(encoding)})"
    check(
        ours,
        theirs,
        f"{buf(hay)}.indexOf({encoded}, 0, {lit(encoding)})",
        f"{buf(hay)}.lastIndexOf({encoded}, {lit(encoding)})",
    )


@given(
    size=st.integers(0, 2000),
    needle=st.binary(min_size=1, max_size=4).map(list),
    at=st.lists(st.integers(0, 2000) | st.integers(250, 262) | st.integers(760, 775), max_size=3),
    offset=st.none() | st.integers(-2100, 2100),
)
def test_search_long_buffers(ours, theirs, size, needle, at, offset) -> None:  # type: ignore[no-untyped-def]
    # The search works on windows of 256, 512, ... bytes: plant matches around their edges.
    hay = f"(function () {{ var b = Buffer.alloc({size}, 7); {''.join(f'b.set({lit(needle)}.slice(0, Math.max(0, {size} - {a})), Math.min({a}, {size}));' for a in at)} return b; }})()"
    args = buf(needle) if offset is None else f"{buf(needle)}, {offset}"
    check(
        ours,
        theirs,
        f"{hay}.indexOf({args})",
        f"{hay}.lastIndexOf({args})",
        f"{hay}.indexOf({needle[0]}{'' if offset is None else f', {offset}'})",
        f"{hay}.lastIndexOf({needle[0]}{'' if offset is None else f', {offset}'})",
    )


# ------------------------------------------------------------------------------------------------
# Numbers.

FIXED = [
    ("Int8", 1, True),
    ("UInt8", 1, False),
    ("Int16BE", 2, True),
    ("Int16LE", 2, True),
    ("UInt16BE", 2, False),
    ("UInt16LE", 2, False),
    ("Int32BE", 4, True),
    ("Int32LE", 4, True),
    ("UInt32BE", 4, False),
    ("UInt32LE", 4, False),
]


@given(data=st.binary(min_size=8, max_size=16).map(list), offset=st.integers(0, 15))
def test_reads(ours, theirs, data, offset) -> None:  # type: ignore[no-untyped-def]
    items = []
    for name, size, _ in FIXED:
        if offset + size <= len(data):
            items.append(f"{buf(data)}.read{name}({offset})")
    for size in range(1, 7):
        if offset + size <= len(data):
            for name in ("IntBE", "IntLE", "UIntBE", "UIntLE"):
                items.append(f"{buf(data)}.read{name}({offset}, {size})")
    for name, size in (("FloatBE", 4), ("FloatLE", 4), ("DoubleBE", 8), ("DoubleLE", 8)):
        if offset + size <= len(data):
            items.append(f"{buf(data)}.read{name}({offset})")
    check(ours, theirs, *items)


@given(
    name_size_signed=st.sampled_from(FIXED),
    fraction=st.floats(0, 1),
    offset=st.integers(0, 8),
)
def test_fixed_writes(ours, theirs, name_size_signed, fraction, offset) -> None:  # type: ignore[no-untyped-def]
    name, size, signed = name_size_signed
    span = 2 ** (8 * size)
    low = -span // 2 if signed else 0
    value = low + int(fraction * (span - 1))
    check(
        ours,
        theirs,
        f"(() => {{ var b = Buffer.alloc(12, 0xaa); return [b.write{name}({value}, {offset}), b.toString('hex')]; }})()",
    )


@given(
    size=st.integers(1, 6),
    signed=st.booleans(),
    little=st.booleans(),
    fraction=st.floats(0, 1),
    offset=st.integers(0, 6),
)
def test_variable_width_writes(ours, theirs, size, signed, little, fraction, offset) -> None:  # type: ignore[no-untyped-def]
    span = 2 ** (8 * size)
    low = -span // 2 if signed else 0
    value = low + int(fraction * (span - 1))
    name = ("Int" if signed else "UInt") + ("LE" if little else "BE")
    check(
        ours,
        theirs,
        f"(() => {{ var b = Buffer.alloc(12); return [b.write{name}({value}, {offset}, {size}), b.toString('hex'), b.read{name}({offset}, {size})]; }})()",
    )


@given(
    value=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**60), 2**60),
    offset=st.integers(0, 4),
)
def test_float_writes(ours, theirs, value, offset) -> None:  # type: ignore[no-untyped-def]
    js = "NaN" if value != value else repr(value).replace("inf", "Infinity")
    items = []
    for name in ("FloatBE", "FloatLE", "DoubleBE", "DoubleLE"):
        items.append(
            f"(() => {{ var b = Buffer.alloc(12); return [b.write{name}({js}, {offset}), b.toString('hex')]; }})()"
        )
    check(ours, theirs, *items)


# ------------------------------------------------------------------------------------------------
# Building and changing buffers.


@given(parts=st.lists(small_bytes, max_size=5), total=st.none() | st.integers(0, 80))
def test_concat(ours, theirs, parts, total) -> None:  # type: ignore[no-untyped-def]
    items = "[" + ", ".join(buf(p) for p in parts) + "]"
    args = items if total is None else f"{items}, {total}"
    check(ours, theirs, f"Buffer.concat({args})")


fill_values = st.one_of(
    st.tuples(st.integers(-300, 300).map(str), st.none()),
    st.tuples(any_text.filter(bool).map(lit), st.none() | st.just("utf8")),
    st.tuples(st.binary(min_size=1, max_size=5).map(lambda b: buf(list(b))), st.none()),
    st.tuples(st.binary(min_size=1, max_size=5).map(lambda b: lit(b.hex())), st.just("hex")),
    st.tuples(
        st.binary(min_size=1, max_size=5).map(lambda b: f"{buf(list(b))}.toString('base64')"),
        st.just("base64"),
    ),
)


@given(
    data=st.binary(min_size=1, max_size=20).map(list),
    value_encoding=fill_values,
    cuts=st.lists(st.integers(0, 20), min_size=2, max_size=2),
)
def test_fill(ours, theirs, data, value_encoding, cuts) -> None:  # type: ignore[no-untyped-def]
    value, encoding = value_encoding
    start, end = sorted(min(c, len(data)) for c in cuts)
    enc = "" if encoding is None else f", {lit(encoding)}"
    check(
        ours,
        theirs,
        f"{buf(data)}.fill({value}{enc})",
        f"{buf(data)}.fill({value}, {start}, {end}{enc})",
        f"{buf(data)}.fill({value}, {start}{enc})",
        f"Buffer.alloc({len(data)}, {value}{enc})",
    )


@given(
    source=small_bytes,
    target=small_bytes,
    cuts=st.lists(st.integers(0, 45), min_size=3, max_size=3),
)
def test_copy(ours, theirs, source, target, cuts) -> None:  # type: ignore[no-untyped-def]
    ts = min(cuts[0], len(target))
    ss, se = sorted(min(c, len(source)) for c in cuts[1:])
    check(
        ours,
        theirs,
        f"(() => {{ var t = {buf(target)}; return [{buf(source)}.copy(t, {ts}, {ss}, {se}), t.toString('hex')]; }})()",
        f"(() => {{ var b = {buf(source + target)}; return [b.copy(b, {ts}, {ss}, {se}), b.toString('hex')]; }})()",
    )


@given(data=small_bytes)
def test_swaps(ours, theirs, data) -> None:  # type: ignore[no-untyped-def]
    items = []
    for size in (2, 4, 8):
        cut = data[: len(data) - len(data) % size]
        items.append(f"{buf(cut)}.swap{size * 8}()")
    check(ours, theirs, *items)


@given(
    data=small_bytes,
    start=st.none() | st.integers(-50, 50) | st.sampled_from(["'2'", "1.5", "NaN"]),
    end=st.none() | st.integers(-50, 50),
)
def test_slice_and_subarray_share_memory(ours, theirs, data, start, end) -> None:  # type: ignore[no-untyped-def]
    args = "" if start is None else str(start) if end is None else f"{start}, {end}"
    check(
        ours,
        theirs,
        f"{buf(data)}.slice({args})",
        f"{buf(data)}.subarray({args})",
        f"(() => {{ var b = {buf(data)}; var s = b.slice({args}); s.fill(7); return b; }})()",
    )


@given(
    size=st.integers(0, 16),
    text=any_text,
    encoding=encodings,
    offset=st.integers(0, 16),
    length=st.none() | st.integers(0, 16),
)
def test_write(ours, theirs, size, text, encoding, offset, length) -> None:  # type: ignore[no-untyped-def]
    offset = min(offset, size)
    # A string that is valid in the encoding.
    s = lit(text) if encoding == "utf8" else f"Buffer.from({lit(text)}).toString({lit(encoding)})"
    enc = lit(encoding)
    if length is None:
        call = f"{s}, {offset}, {enc}"
    else:
        call = f"{s}, {offset}, {min(length, size - offset)}, {enc}"
    check(
        ours,
        theirs,
        f"(() => {{ var b = Buffer.alloc({size}); return [b.write({call}), b.toString('hex')]; }})()",
        f"(() => {{ var b = Buffer.alloc({size}); return [b.write({s}), b.toString('hex')]; }})()",
    )


# ------------------------------------------------------------------------------------------------
# atob / btoa / TextEncoder / TextDecoder.


@given(data=small_bytes)
def test_btoa_and_atob(ours, theirs, data) -> None:  # type: ignore[no-untyped-def]
    binary = lit(bytes(data).decode("latin-1"))
    check(
        ours,
        theirs,
        f"btoa({binary})",
        f"atob(btoa({binary}))",
        f"atob({buf(data)}.toString('base64'))",
    )


@given(text=any_text, room=st.integers(0, 40))
def test_text_encoder(ours, theirs, text, room) -> None:  # type: ignore[no-untyped-def]
    s = lit(text)
    check(
        ours,
        theirs,
        f"new TextEncoder().encode({s})",
        f"(() => {{ var u = new Uint8Array({room}); var r = new TextEncoder().encodeInto({s}, u); return [r.read, r.written, Array.from(u)]; }})()",
    )


@given(data=utf8ish, cuts=st.lists(st.integers(0, 40), max_size=4))
def test_text_decoder_streaming(ours, theirs, data, cuts) -> None:  # type: ignore[no-untyped-def]
    bounds = sorted({min(c, len(data)) for c in cuts})
    pieces = []
    last = 0
    for b in [*bounds, len(data)]:
        pieces.append(data[last:b])
        last = b
    calls = " + '|' + ".join(
        f"d.decode(new Uint8Array({lit(p)}), {{stream: {'true' if i < len(pieces) - 1 else 'false'}}})"
        for i, p in enumerate(pieces)
    )
    bom = [0xEF, 0xBB, 0xBF]
    check(
        ours,
        theirs,
        f"(() => {{ var d = new TextDecoder(); return {calls}; }})()",
        f"(() => {{ var d = new TextDecoder(); return d.decode(new Uint8Array({lit(bom[:2])}), {{stream: true}}) + d.decode(new Uint8Array({lit(bom[2:] + data)})); }})()",
        f"(() => {{ var d = new TextDecoder(); d.decode(new Uint8Array({lit(data[:3])}), {{stream: true}}); return d.decode(new Uint8Array({lit(data)})); }})()",
    )
