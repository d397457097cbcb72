"""runtime_shims/querystring.js: the querystring module.

Ordinary input must give Node's results (the differential tests at the end run Node on the same
expressions). Where njs, whose module CloudFront exposes, differs from Node, the tests say "njs"
and the expected values follow nginx/njs external/njs_query_string_module.c.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.shimkit import js_json, shim_context

SETUP = """
var querystring = __edgesim_shims.querystring;
function err(f) { try { f(); return null; } catch (e) { return e.name + ': ' + e.message; } }
"""


@pytest.fixture(scope="module")
def ctx():  # type: ignore[no-untyped-def]
    c = shim_context("text", "buffer", "crypto", "querystring")
    c.eval(SETUP)
    return c


def ev(ctx, expr: str) -> Any:  # type: ignore[no-untyped-def]
    return js_json(ctx, expr)


def error_of(ctx, statement: str) -> str | None:  # type: ignore[no-untyped-def]
    return ev(ctx, f"err(function () {{ {statement}; }})")


def lit(value: Any) -> str:
    return json.dumps(value)


def parse(ctx, *args: str) -> Any:  # type: ignore[no-untyped-def]
    return ev(ctx, f"querystring.parse({', '.join(args)})")


# ------------------------------------------------------------------------------------------------
# parse


def test_parse_pairs_and_repeated_keys(ctx) -> None:  # type: ignore[no-untyped-def]
    assert parse(ctx, "'foo=bar&abc=xyz&abc=123'") == {"foo": "bar", "abc": ["xyz", "123"]}
    assert parse(ctx, "'a=1&a=2&a=3&b=&a=4'") == {"a": ["1", "2", "3", "4"], "b": ""}
    assert ev(ctx, "Array.isArray(querystring.parse('a=1&a=2').a)")


def test_parse_edge_shapes(ctx) -> None:  # type: ignore[no-untyped-def]
    # A key without '=' has the value ''; empty pairs are skipped; only the first '=' splits.
    assert parse(ctx, "'a&b=&=c&&d=1=2&'") == {"a": "", "b": "", "": "c", "d": "1=2"}
    assert parse(ctx, "'&&&'") == {}
    assert parse(ctx, "''") == {}
    # Anything but a string parses as empty (no conversion), as in Node and njs.
    for value in ("undefined", "null", "123", "{a: 1}", "['a=1']"):
        assert parse(ctx, value) == {}, value


def test_parse_decodes_percent_escapes_and_plus(ctx) -> None:  # type: ignore[no-untyped-def]
    assert parse(ctx, "'a+b=c+d&%E2%82%AC=%C3%A9%20%F0%9F%98%80&x=%2B%26%3D'") == {
        "a b": "c d",
        "€": "é 😀",
        "x": "+&=",
    }
    # Malformed escapes stay as they are; raw non-ASCII passes through.
    assert parse(ctx, "'a=%zz&b=%4&c=100%&d=é'") == {"a": "%zz", "b": "%4", "c": "100%", "d": "é"}


def test_parsed_object_keeps_odd_keys_as_own_properties(ctx) -> None:  # type: ignore[no-untyped-def]
    # njs 0.8 returns an ordinary object (hasOwnProperty works, unlike Node's null-prototype
    # object); keys never touch inherited properties.
    got = ev(
        ctx,
        """(function () {
          var o = querystring.parse('toString=1&__proto__=2&constructor=3&hasOwnProperty=4&a=5');
          return [Object.keys(o), o.toString, o.__proto__, Object.getPrototypeOf(o) === Object.prototype,
                  Object.prototype.hasOwnProperty.call(o, '__proto__'), typeof Object.prototype.toString];
        })()""",
    )
    assert got == [
        ["toString", "__proto__", "constructor", "hasOwnProperty", "a"],
        "1",
        "2",
        True,
        True,
        "function",
    ]
    assert ev(ctx, "querystring.parse('a=1').hasOwnProperty('a')")


def test_parse_with_custom_separators(ctx) -> None:  # type: ignore[no-untyped-def]
    assert parse(ctx, "'a=1;b=2;a=3'", "';'") == {"a": ["1", "3"], "b": "2"}
    assert parse(ctx, "'a:1;;b:2'", "';;'", "':'") == {"a": "1", "b": "2"}
    assert parse(ctx, "'a=>1<>b=>2'", "'<>'", "'=>'") == {"a": "1", "b": "2"}
    # '' and null/undefined mean the defaults.
    assert parse(ctx, "'a=1&b=2'", "''", "''") == {"a": "1", "b": "2"}
    assert parse(ctx, "'a=1&b=2'", "null", "undefined") == {"a": "1", "b": "2"}
    # njs converts other values with String(): the separator 0 is '0' (Node: default '&').
    assert parse(ctx, "'a=10b=2'", "0") == {"a": "1", "b": "2"}
    # An eq that would run past the separator does not count.
    assert parse(ctx, "'ab=&c'", "'&'", "'=&'") == {"ab=": "", "c": ""}


def test_max_keys(ctx) -> None:  # type: ignore[no-untyped-def]
    many = "Array.from({length: 1005}, function (_, i) { return 'k' + i + '=' + i; }).join('&')"
    assert ev(ctx, f"Object.keys(querystring.parse({many})).length") == 1000
    assert ev(ctx, f"Object.keys(querystring.parse({many}, null, null, {{}})).length") == 1000
    assert parse(ctx, "'a=1&b=2&c=3'", "null", "null", "{maxKeys: 2}") == {"a": "1", "b": "2"}
    # Empty pairs count, as in Node.
    assert parse(ctx, "'a=1&&b=2'", "null", "null", "{maxKeys: 2}") == {"a": "1"}
    # 0 and negative numbers lift the limit; fractions are truncated (njs).
    assert (
        ev(ctx, f"Object.keys(querystring.parse({many}, null, null, {{maxKeys: 0}})).length")
        == 1005
    )
    assert (
        ev(ctx, f"Object.keys(querystring.parse({many}, null, null, {{maxKeys: -1}})).length")
        == 1005
    )
    assert parse(ctx, "'a=1&b=2&c=3'", "null", "null", "{maxKeys: 2.7}") == {"a": "1", "b": "2"}
    # njs: a maxKeys that is not a number is an error (Node ignores it).
    assert error_of(ctx, "querystring.parse('a=1', null, null, {maxKeys: '2'})") == (
        "TypeError: is not a number"
    )
    assert error_of(ctx, "querystring.parse('a=1', null, null, {maxKeys: NaN})") == (
        "TypeError: is not a number"
    )


def test_custom_decoder(ctx) -> None:  # type: ignore[no-untyped-def]
    got = ev(
        ctx,
        """(function () {
          var seen = [];
          var o = querystring.parse('a+b=%41&c=&=d', null, null, {
            decodeURIComponent: function (s) { seen.push(s); return s.length; } });
          return [o, seen];
        })()""",
    )
    # njs: the raw text reaches the decoder ('+' included); empty keys and values are not
    # passed; the result is converted to a string.
    assert got == [{"3": "3", "1": "", "": "1"}, ["a+b", "%41", "c", "d"]]
    assert error_of(ctx, "querystring.parse('a=1', null, null, {decodeURIComponent: 1})") == (
        "TypeError: option decodeURIComponent is not a function"
    )
    # njs: the decoder's exceptions propagate (Node falls back to its own decoder).
    assert error_of(
        ctx,
        "querystring.parse('a=1', null, null, {decodeURIComponent: function () { throw new RangeError('no'); }})",
    ) == ("RangeError: no")
    # undefined means "use the default".
    assert parse(ctx, "'a=%41'", "null", "null", "{decodeURIComponent: undefined}") == {"a": "A"}


def test_parse_uses_this_unescape_like_njs(ctx) -> None:  # type: ignore[no-untyped-def]
    # njs looks the default decoder up on `this`, so a detached parse() throws.
    assert error_of(ctx, "var p = querystring.parse; p('a=1')") == (
        "TypeError: QueryString.unescape is not a function"
    )
    got = ev(
        ctx,
        "querystring.parse.call({unescape: function (s) { return s.toUpperCase(); }}, 'a=b')",
    )
    assert got == {"A": "B"}


# ------------------------------------------------------------------------------------------------
# stringify


def test_stringify_values(ctx) -> None:  # type: ignore[no-untyped-def]
    got = ev(
        ctx,
        "querystring.stringify({a: 1, b: [1, 'x y'], c: 'é€😀', d: null, e: true, f: NaN,"
        " g: Infinity, h: undefined, i: {}, j: [[1]], k: -0, l: 1e21, m: ''})",
    )
    assert got == (
        "a=1&b=1&b=x%20y&c=%C3%A9%E2%82%AC%F0%9F%98%80&d=&e=true&f=&g=&h=&i=&j=&k=0&l=1e%2B21&m="
    )
    assert ev(ctx, "querystring.stringify({'a b&': '=', '': ''})") == "a%20b%26=%3D&="


def test_stringify_separators_and_non_objects(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "querystring.stringify({a: 1, b: [2, 3]}, ';', ':')") == "a:1;b:2;b:3"
    assert ev(ctx, "querystring.stringify({a: 1, b: 2}, '', null)") == "a=1&b=2"
    for value in ("undefined", "null", "'a=1'", "42", "true"):
        assert ev(ctx, f"querystring.stringify({value})") == "", value
    assert ev(ctx, "querystring.stringify([5, 6])") == "0=5&1=6"


def test_stringify_separator_after_empty_arrays_like_njs(ctx) -> None:  # type: ignore[no-untyped-def]
    # njs writes a separator before every key but the first (Node: only between written pairs).
    assert ev(ctx, "querystring.stringify({a: [], b: 1})") == "&b=1"
    assert ev(ctx, "querystring.stringify({a: 1, b: [], c: 2})") == "a=1&c=2"
    assert ev(ctx, "querystring.stringify({a: [], b: [1]})") == "b=1"


def test_custom_encoder(ctx) -> None:  # type: ignore[no-untyped-def]
    got = ev(
        ctx,
        """(function () {
          var seen = [];
          var s = querystring.stringify({a: 'x', b: [1, true], c: null}, null, null, {
            encodeURIComponent: function (v) { seen.push(v); return '<' + v + '>'; } });
          return [s, seen];
        })()""",
    )
    # njs calls the encoder for keys and for string, number and boolean values only.
    assert got == ["<a>=<x>&<b>=<1>&<b>=<true>&<c>=", ["a", "x", "b", "1", "b", "true", "c"]]
    assert error_of(
        ctx, "querystring.stringify({a: 1}, null, null, {encodeURIComponent: 'x'})"
    ) == ("TypeError: option encodeURIComponent is not a function")
    assert error_of(ctx, "var s = querystring.stringify; s({a: 1})") == (
        "TypeError: QueryString.escape is not a function"
    )


# ------------------------------------------------------------------------------------------------
# escape / unescape


def test_escape(ctx) -> None:  # type: ignore[no-untyped-def]
    text = "AZaz09-_.!~*'() &=+/?#%é€😀\u0000"
    assert ev(ctx, f"querystring.escape({lit(text)})") == quote(text, safe="-_.!~*'()")
    assert ev(ctx, "querystring.escape(12.5)") == "12.5"
    # A lone surrogate is written as U+FFFD (Node throws URIError).
    assert ev(ctx, "querystring.escape('a\\ud800b')") == "a%EF%BF%BDb"
    assert ev(ctx, "querystring.escape('\\udc00\\ud83d\\ude00')") == "%EF%BF%BD%F0%9F%98%80"


def test_unescape(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "querystring.unescape('%C3%A9%E2%82%AC%F0%9F%98%80%41%7e')") == "é€😀A~"
    assert ev(ctx, "querystring.unescape('%c3%a9')") == "é"
    assert ev(ctx, "querystring.unescape('100% sure %zz %4')") == "100% sure %zz %4"
    # njs decodes '+' as a space (Node's unescape leaves it; only Node's parse maps it).
    assert ev(ctx, "querystring.unescape('a+b%2B')") == "a b+"


@pytest.mark.parametrize(
    ("escaped", "expected"),
    [
        # A byte that cannot start a sequence: one U+FFFD.
        ("%80", "\ufffd"),
        ("%FF%41", "\ufffdA"),
        # njs: the escaped byte that breaks a sequence is dropped.
        ("%C3%28", "\ufffd"),
        ("%E0%80", "\ufffd"),
        ("%ED%A0%80", "\ufffd\ufffd"),
        ("%F0%9F%98%41x", "\ufffdx"),
        # A raw character that breaks a sequence is kept.
        ("%C3(", "\ufffd("),
        ("%E2%82é", "\ufffdé"),
        # Node mangles the raw character here ('\ufffd\ufffd'): its fallback decoder truncates
        # every character to one byte.
        ("%80é", "\ufffdé"),
        # An unfinished sequence at the end.
        ("%C3", "\ufffd"),
        ("%F0%9F%98", "\ufffd"),
        # njs: '+' is decoded outside the UTF-8 decoder and does not end a sequence.
        ("%C3+%A9", " é"),
        ("%C3+", " "),
        ("%F0+%9F", " \ufffd"),
        ("%F0+%9F%98%80", " 😀"),
    ],
)
def test_unescape_of_malformed_utf8_follows_njs(ctx, escaped: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"querystring.unescape({lit(escaped)})") == expected
    assert parse(ctx, lit("k=" + escaped)) == {"k": expected}


def test_module_shape(ctx) -> None:  # type: ignore[no-untyped-def]
    assert sorted(ev(ctx, "Object.keys(querystring)")) == [
        "decode",
        "encode",
        "escape",
        "parse",
        "stringify",
        "unescape",
    ]
    assert ev(ctx, "querystring.decode === querystring.parse")
    assert ev(ctx, "querystring.encode === querystring.stringify")
    assert ev(ctx, "querystring.decode('a=1&a=2')") == {"a": ["1", "2"]}


# ------------------------------------------------------------------------------------------------
# Differential tests against Node's querystring on ordinary input


@pytest.fixture(scope="module")
def theirs(node):  # type: ignore[no-untyped-def]
    return node


def same(ctx, theirs, expr: str) -> None:  # type: ignore[no-untyped-def]
    mine = ev(ctx, expr)
    node = theirs.eval(f"JSON.parse(JSON.stringify({expr}))")
    assert mine == node, f"{expr}\n  edgesim: {mine!r}\n  node:    {node!r}"


# Pieces of query strings. Escapes are whole, valid UTF-8 sequences and there is no bare '%': with
# a malformed escape Node falls back to a decoder that also mangles raw non-ASCII characters, and
# njs drops an escaped byte that breaks a sequence (the unit tests above cover both).
QUERY_PIECES = [
    "a",
    "b",
    "key",
    "Z9",
    "-_.~!*'()",
    " ",
    "=",
    "&",
    "+",
    "%20",
    "%2B",
    "%26",
    "%3D",
    "%25",
    "%41",
    "%c3%a9",
    "%C3%A9",
    "%E2%82%AC",
    "%F0%9F%98%80",
    "é",
    "€",
    "😀",
    ";",
    ":",
]
queries = st.lists(st.sampled_from(QUERY_PIECES), max_size=14).map("".join)
plain_values = st.one_of(
    st.text(max_size=8),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
    # QuickJS prints some doubles with more digits than V8 (String(2 ** -24)), whatever the shim
    # does, so arbitrary floats are left out.
    st.sampled_from([0.5, -1.25, 3.14159, 1e21, 1.5e-7, -0.0]),
    st.lists(st.text(max_size=5), min_size=1, max_size=3),
)
objects = st.dictionaries(st.text(max_size=6), plain_values, max_size=5)


@pytest.mark.node
@given(query=queries)
def test_parse_matches_node(ctx, theirs, query: str) -> None:  # type: ignore[no-untyped-def]
    same(ctx, theirs, f"querystring.parse({lit(query)})")
    same(ctx, theirs, f"querystring.parse({lit(query)}, null, null, {{maxKeys: 3}})")


@pytest.mark.node
@given(
    query=st.lists(st.sampled_from([p for p in QUERY_PIECES if p not in ";:"]), max_size=14).map(
        "".join
    ),
    sep=st.sampled_from([";", ";;", "|", "&"]),
    eq=st.sampled_from([":", "=", "=>"]),
)
def test_parse_with_separators_matches_node(ctx, theirs, query: str, sep: str, eq: str) -> None:  # type: ignore[no-untyped-def]
    text = query.replace("&", sep).replace("=", eq) if sep != "&" else query.replace("=", eq)
    same(ctx, theirs, f"querystring.parse({lit(text)}, {lit(sep)}, {lit(eq)})")


@pytest.mark.node
@given(obj=objects)
def test_stringify_matches_node(ctx, theirs, obj: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    o = lit(obj)
    same(ctx, theirs, f"querystring.stringify({o})")
    same(ctx, theirs, f"querystring.stringify({o}, ';', ':')")
    same(ctx, theirs, f"querystring.parse(querystring.stringify({o}))")


@pytest.mark.node
@given(text=st.text(max_size=30))
def test_escape_and_unescape_match_node(ctx, theirs, text: str) -> None:  # type: ignore[no-untyped-def]
    t = lit(text)
    same(ctx, theirs, f"querystring.escape({t})")
    same(ctx, theirs, f"querystring.unescape(querystring.escape({t}))")
    assert ev(ctx, f"querystring.unescape(querystring.escape({t}))") == text
