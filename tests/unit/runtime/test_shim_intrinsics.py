"""runtime_shims/intrinsics.js: shims keep using the built-ins captured at load time.

User code that redefines String.prototype.charCodeAt, typed-array accessors or
RegExp.prototype.exec after the shims are loaded must not change what Buffer, crypto or atob give.
"""

from __future__ import annotations

import pytest

from tests.unit.runtime.helpers import run


def broken_getters(*keys: str) -> str:
    """User code replacing typed-array accessors on %TypedArray%.prototype and Uint8Array.prototype."""
    return (
        "var taProto = Object.getPrototypeOf(Uint8Array.prototype);\n"
        f"[{', '.join(keys)}].forEach(function (key) {{\n"
        "  var broken = { get: function () { return 3; }, configurable: true };\n"
        "  Object.defineProperty(taProto, key, broken);\n"
        "  Object.defineProperty(Uint8Array.prototype, key, broken);\n"
        "});\n"
    )


CHAR_CODE_AT = "String.prototype.charCodeAt = function () { return 0; };\n"
REGEXP_EXEC = "RegExp.prototype.exec = function () { return null; };\n"
GETTERS = broken_getters("'buffer'", "'byteOffset'", "'byteLength'", "Symbol.toStringTag")

HANDLER = """
var crypto = require('crypto');
function handler(event) {
  var r = event.request;
  r.headers['x-hex'] = { value: Buffer.from('h\\u00e9llo').toString('hex') };
  r.headers['x-sha256'] = { value: crypto.createHash('sha256').update('abc').digest('hex') };
  r.headers['x-atob'] = { value: atob('aGk=') };
  return r;
}
"""

EXPECTED = {
    "x-hex": "68c3a96c6c6f",
    "x-sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "x-atob": "hi",
}


def shim_results(user_code: str) -> dict[str, str]:
    result = run(user_code + HANDLER, compat="lenient")
    assert result.error is None, result.error
    headers = result.request["headers"]
    return {name: headers[name]["value"] for name in EXPECTED}


@pytest.mark.parametrize(
    "user_code",
    [
        "",
        CHAR_CODE_AT,
        REGEXP_EXEC,
        GETTERS,
        CHAR_CODE_AT + REGEXP_EXEC + GETTERS,
    ],
    ids=["intact", "charCodeAt", "exec", "getters", "all"],
)
def test_redefined_builtins_do_not_change_shim_results(user_code: str) -> None:
    assert shim_results(user_code) == EXPECTED


SEEN_HANDLER = """
function handler(event) {
  var r = event.request;
  var seen = ['ab'.charCodeAt(1), /a/.exec('a'), new Uint8Array(4).byteLength];
  r.headers['x-seen'] = { value: seen.join(',') };
  return r;
}
"""


def test_user_code_does_see_its_redefinitions() -> None:
    result = run(CHAR_CODE_AT + REGEXP_EXEC + GETTERS + SEEN_HANDLER, compat="lenient")
    assert result.error is None, result.error
    assert result.request["headers"]["x-seen"]["value"] == "0,,3"


@pytest.mark.xfail(
    reason="known gap, unchanged by the intrinsics refactor: latin1String/utf8 decoding pass a "
    "typed array to fromCharCode.apply, which reads `length` through the prototype chain",
)
def test_redefined_length_getter_does_not_change_atob() -> None:
    assert shim_results(broken_getters("'length'")) == EXPECTED
