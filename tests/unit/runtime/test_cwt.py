"""runtime_shims/cwt.js: `cf.cwt` (CBOR Web Tokens in COSE_Mac0 with HMAC-SHA256).

Facts from AWS's "CWT support for CloudFront Functions" page (reference notes §4.7); the choices
it leaves open are listed at the top of cwt.js and in docs/runtime.md. Tokens made or checked on
the Python side use cbor2 and hmac; tests/properties/test_cwt_vs_cbor2.py compares more widely.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import cbor2
import pytest

from tests.shimkit import js_json, shim_context
from tests.unit.runtime.helpers import load, request_event, run

SETUP = """
var Buffer = __edgesim_shims.buffer.Buffer;
var cwt = __edgesim_shims.cwt.makeCwt();
function hx(h) { return Buffer.from(h, 'hex'); }
function err(f) { try { f(); return null; } catch (e) { return e.name + ': ' + e.message; } }
function plain(v) {
  if (v instanceof Uint8Array) return {$bytes: v.toString('hex'), isBuffer: Buffer.isBuffer(v)};
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    var out = {};
    Object.keys(v).forEach(function (k) { out[k] = plain(v[k]); });
    return out;
  }
  return v;
}
var CTX = {coseTag: 'MAC0', key: 'secret'};
var SAMPLE = {
  protected: {1: 5},
  unprotected: {4: Buffer.from('kid-1')},
  payload: {1: 'https://iss.example.com', 2: 'user', 4: 1444064944, 401: {2: {1: '/media/'}}},
};
"""

KEY = b"secret"


@pytest.fixture(scope="module")
def ctx():  # type: ignore[no-untyped-def]
    c = shim_context("text", "buffer", "crypto", "cwt")
    c.eval(SETUP)
    return c


def ev(ctx, expr: str) -> Any:  # type: ignore[no-untyped-def]
    return js_json(ctx, expr)


def error_of(ctx, statement: str) -> str | None:  # type: ignore[no-untyped-def]
    return ev(ctx, f"err(function () {{ {statement}; }})")  # type: ignore[no-any-return]


def lit(value: Any) -> str:
    return json.dumps(value)


def make_token(
    claims: Any,
    *,
    key: bytes = KEY,
    protected: Any = None,
    protected_bytes: bytes | None = None,
    unprotected: Any = None,
    cwt_tag: bool = True,
    cose_tag: int = 17,
) -> bytes:
    """A COSE_Mac0 token built on the Python side (RFC 8152 §6.3 MAC structure)."""
    if protected_bytes is None:
        protected_bytes = cbor2.dumps({1: 5} if protected is None else protected)
    payload = cbor2.dumps(claims)
    mac = hmac.new(key, cbor2.dumps(["MAC0", protected_bytes, b"", payload]), hashlib.sha256)
    body = cbor2.CBORTag(cose_tag, [protected_bytes, unprotected or {}, payload, mac.digest()])
    return cbor2.dumps(cbor2.CBORTag(61, body) if cwt_tag else body)


def validate(ctx, token: bytes, key: str = "'secret'") -> Any:  # type: ignore[no-untyped-def]
    return ev(ctx, f"plain(cwt.validateToken(hx({lit(token.hex())}), {{key: {key}}}))")


def validate_error(ctx, token: bytes, key: str = "'secret'") -> str | None:  # type: ignore[no-untyped-def]
    return error_of(ctx, f"cwt.validateToken(hx({lit(token.hex())}), {{key: {key}}})")


def generated(ctx, args: str) -> bytes:  # type: ignore[no-untyped-def]
    return bytes.fromhex(ev(ctx, f"cwt.generateToken({args}).toString('hex')"))


def mac0_parts(token: bytes) -> tuple[bool, list[Any]]:
    """(had the CWT tag, [protected, unprotected, payload, tag]) of a token, via cbor2."""
    item = cbor2.loads(token)
    cwt_tagged = item.tag == 61
    if cwt_tagged:
        item = item.value
    assert item.tag == 17
    return cwt_tagged, list(item.value)


def python_verifies(token: bytes, key: bytes = KEY) -> bool:
    _, (prot, _unprot, payload, tag) = mac0_parts(token)
    expected = hmac.new(key, cbor2.dumps(["MAC0", prot, b"", payload]), hashlib.sha256).digest()
    return hmac.compare_digest(expected, tag)


# ------------------------------------------------------------------------------------------------
# Round trips and the shape of the result.


def test_generate_then_validate_round_trip(ctx) -> None:  # type: ignore[no-untyped-def]
    got = ev(ctx, "plain(cwt.validateToken(cwt.generateToken(CTX, SAMPLE), {key: 'secret'}))")
    assert got == {
        "protectedHeaders": {"1": 5},
        "unprotectedHeaders": {"4": {"$bytes": b"kid-1".hex(), "isBuffer": True}},
        "payload": {
            "1": "https://iss.example.com",
            "2": "user",
            "4": 1444064944,
            "401": {"2": {"1": "/media/"}},
        },
    }


def test_generate_returns_a_buffer_that_python_verifies(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Buffer.isBuffer(cwt.generateToken(CTX, SAMPLE))") is True
    token = generated(ctx, "CTX, SAMPLE")
    assert python_verifies(token)
    _, (prot, unprot, payload, tag) = mac0_parts(token)
    assert cbor2.loads(prot) == {1: 5}
    assert unprot == {4: b"kid-1"}
    assert cbor2.loads(payload) == {
        1: "https://iss.example.com",
        2: "user",
        4: 1444064944,
        401: {2: {1: "/media/"}},
    }
    assert len(tag) == 32


def test_both_argument_orders_give_the_same_token(ctx) -> None:  # type: ignore[no-untyped-def]
    # Documented: (generatorContext, payload); every AWS example: (payload, generatorContext).
    assert generated(ctx, "CTX, SAMPLE") == generated(ctx, "SAMPLE, CTX")


@pytest.mark.parametrize(("flag", "tagged"), [("true", True), ("false", False), (None, False)])
def test_cwt_tag_is_added_only_when_asked(ctx, flag: str | None, tagged: bool) -> None:  # type: ignore[no-untyped-def]
    extra = "" if flag is None else f", cwtTag: {flag}"
    token = generated(ctx, f"SAMPLE, {{coseTag: 'MAC0', key: 'secret'{extra}}}")
    assert token[:2] == (b"\xd8\x3d" if tagged else b"\xd1\x84")
    assert mac0_parts(token)[0] is tagged
    # Both forms validate.
    assert validate(ctx, token)["payload"]["2"] == "user"


def test_validate_result_feeds_generate_again(ctx) -> None:  # type: ignore[no-untyped-def]
    # AWS's refresh example passes validateToken's result (protectedHeaders/unprotectedHeaders)
    # back to generateToken.
    first = generated(ctx, "SAMPLE, CTX")
    again = generated(ctx, f"cwt.validateToken(hx({lit(first.hex())}), {{key: 'secret'}}), CTX")
    assert again == first


def test_claim_keys_come_back_as_strings(ctx) -> None:  # type: ignore[no-untyped-def]
    token = make_token({1: "a", -3: "b", "name": "c", 70000: {5: True}})
    got = ev(
        ctx,
        f"(function () {{ var p = cwt.validateToken(hx({lit(token.hex())}), {{key: 'secret'}}).payload;"
        " return Object.keys(p).map(function (k) { return typeof k + ':' + k; })"
        ".concat(Object.keys(p['70000'])); })()",
    )
    assert sorted(got) == sorted(["string:1", "string:-3", "string:name", "string:70000", "5"])


def test_expired_and_not_yet_valid_tokens_still_validate(ctx) -> None:  # type: ignore[no-untyped-def]
    # The module checks no claim (AWS docs): exp in 1970, nbf in 2286.
    token = make_token({4: 1, 5: 9_999_999_999, 6: 0})
    assert validate(ctx, token)["payload"] == {"4": 1, "5": 9_999_999_999, "6": 0}


def test_key_may_be_a_buffer(ctx) -> None:  # type: ignore[no-untyped-def]
    token = make_token({1: "x"}, key=b"\x00\xffkey")
    assert validate(ctx, token, key="hx('00ff6b6579')")["payload"] == {"1": "x"}
    made = generated(ctx, "{payload: {1: 'x'}}, {coseTag: 'MAC0', key: hx('00ff6b6579')}")
    assert python_verifies(made, key=b"\x00\xffkey")


def test_string_key_is_used_as_utf8(ctx) -> None:  # type: ignore[no-untyped-def]
    token = make_token({1: "x"}, key="clé".encode())
    assert validate(ctx, token, key=lit("clé"))["payload"] == {"1": "x"}


def test_token_without_the_cwt_tag_validates(ctx) -> None:  # type: ignore[no-untyped-def]
    assert validate(ctx, make_token({1: "x"}, cwt_tag=False))["payload"] == {"1": "x"}


def test_byte_strings_come_back_as_buffer_copies(ctx) -> None:  # type: ignore[no-untyped-def]
    token = make_token({8: b"\x01\x02"})
    got = ev(
        ctx,
        f"(function () {{ var t = hx({lit(token.hex())});"
        " var v = cwt.validateToken(t, {key: 'secret'}); t.fill(0);"
        " return plain(v.payload['8']); })()",
    )
    assert got == {"$bytes": "0102", "isBuffer": True}


# ------------------------------------------------------------------------------------------------
# Encoding choices (unverified, documented in cwt.js and docs/runtime.md).


def test_integer_like_string_keys_encode_as_integers(ctx) -> None:  # type: ignore[no-untyped-def]
    token = generated(
        ctx,
        "{payload: {'1': 'a', '-2': 'b', '01': 'c', '-0': 'd', '1.5': 'e', x: 'f',"
        " '9007199254740993': 'g', '401': {'2': ['h']}}}, CTX",
    )
    claims = cbor2.loads(mac0_parts(token)[1][2])
    assert claims == {
        1: "a",
        -2: "b",
        "01": "c",
        "-0": "d",
        "1.5": "e",
        "x": "f",
        "9007199254740993": "g",
        401: {2: ["h"]},
    }


def test_values_encode_as_cbor_types(ctx) -> None:  # type: ignore[no-untyped-def]
    token = generated(
        ctx,
        "{payload: {1: 0, 2: -1, 3: 2**40, 4: -(2**53 - 1), 5: 1.5, 6: true, 7: false, 8: null,"
        " 9: Buffer.from('ab'), 10: new Uint8Array([1, 2]), 11: [1, [2]], 12: {}, 13: 'é'}}, CTX",
    )
    claims = cbor2.loads(mac0_parts(token)[1][2])
    assert claims == {
        1: 0,
        2: -1,
        3: 2**40,
        4: -(2**53 - 1),
        5: 1.5,
        6: True,
        7: False,
        8: None,
        9: b"ab",
        10: b"\x01\x02",
        11: [1, [2]],
        12: {},
        13: "é",
    }


def test_default_protected_header_is_alg_hs256(ctx) -> None:  # type: ignore[no-untyped-def]
    for args in ("{payload: {}}, CTX", "{protected: {}, payload: {}}, CTX"):
        assert cbor2.loads(mac0_parts(generated(ctx, args))[1][0]) == {1: 5}
    # Other protected headers are kept, alg comes first.
    token = generated(ctx, "{protected: {4: 'k'}, payload: {}}, CTX")
    assert mac0_parts(token)[1][0] == cbor2.dumps({1: 5, 4: "k"})


def test_alg_as_the_string_5_of_the_aws_example_is_accepted(ctx) -> None:  # type: ignore[no-untyped-def]
    # AWS's generateToken example writes `protected: { 1: "5" }`.
    token = generated(ctx, "{protected: {1: '5'}, unprotected: {}, payload: {1: 'x'}}, CTX")
    assert cbor2.loads(mac0_parts(token)[1][0]) == {1: "5"}
    assert validate(ctx, token)["protectedHeaders"] == {"1": "5"}


def test_generated_token_over_1kb_throws(ctx) -> None:  # type: ignore[no-untyped-def]
    message = error_of(ctx, "cwt.generateToken({payload: {1: 'x'.repeat(1000)}}, CTX)")
    assert message is not None
    assert message.startswith("Error: cwt.generateToken: token would be 10")
    assert "1024-byte" in message


# ------------------------------------------------------------------------------------------------
# Failures of validateToken.


def test_tampered_payload_throws(ctx) -> None:  # type: ignore[no-untyped-def]
    token = bytearray(make_token({2: "alice"}))
    at = token.index(b"alice")
    token[at] = ord("A")
    message = validate_error(ctx, bytes(token))
    assert message == (
        "Error: cwt.validateToken: signature verification failed: the HMAC-SHA256 tag does not"
        " match (wrong key or altered token)"
    )


def test_tampered_tag_throws(ctx) -> None:  # type: ignore[no-untyped-def]
    token = bytearray(make_token({2: "alice"}))
    token[-1] ^= 1
    assert "signature verification failed" in (validate_error(ctx, bytes(token)) or "")


def test_tag_of_the_wrong_length_throws(ctx) -> None:  # type: ignore[no-untyped-def]
    good = make_token({2: "alice"}, cwt_tag=False)
    prot, unprot, payload, tag = list(cbor2.loads(good).value)
    short = cbor2.dumps(cbor2.CBORTag(17, [prot, unprot, payload, tag[:8]]))
    assert "signature verification failed" in (validate_error(ctx, short) or "")


def test_tampered_protected_header_throws(ctx) -> None:  # type: ignore[no-untyped-def]
    good = make_token({2: "alice"}, protected={1: 5, 4: b"k1"}, cwt_tag=False)
    _prot, unprot, payload, tag = list(cbor2.loads(good).value)
    forged = cbor2.dumps(cbor2.CBORTag(17, [cbor2.dumps({1: 5, 4: b"k2"}), unprot, payload, tag]))
    assert "signature verification failed" in (validate_error(ctx, forged) or "")


def test_unprotected_headers_are_not_covered_by_the_mac(ctx) -> None:  # type: ignore[no-untyped-def]
    # RFC 8152: only protected headers are authenticated.
    good = make_token({2: "alice"}, unprotected={4: b"k1"}, cwt_tag=False)
    prot, _unprot, payload, tag = list(cbor2.loads(good).value)
    changed = cbor2.dumps(cbor2.CBORTag(17, [prot, {4: b"k2"}, payload, tag]))
    assert validate(ctx, changed)["unprotectedHeaders"] == {
        "4": {"$bytes": b"k2".hex(), "isBuffer": True}
    }


def test_wrong_key_throws(ctx) -> None:  # type: ignore[no-untyped-def]
    token = make_token({2: "alice"})
    assert "signature verification failed" in (validate_error(ctx, token, key="'other'") or "")
    assert "signature verification failed" in (validate_error(ctx, token, key="hx('')") or "")


def test_token_over_1kb_throws_and_exactly_1kb_validates(ctx) -> None:  # type: ignore[no-untyped-def]
    def token_of_size(size: int) -> bytes:
        filler = 900
        while True:
            token = make_token({1: "x" * filler})
            if len(token) == size:
                return token
            filler += size - len(token)

    assert validate_error(ctx, token_of_size(1024)) is None
    message = validate_error(ctx, token_of_size(1025))
    assert message == (
        "Error: cwt.validateToken: token is 1025 bytes, over the 1024-byte (1 KB) limit"
    )


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("'0123'", "a string"),
        ("[1, 2]", "an array"),
        ("undefined", "undefined"),
        ("null", "null"),
        ("new Uint16Array(4)", "a Uint16Array"),
        ("new ArrayBuffer(4)", "an object"),
    ],
)
def test_token_that_is_not_a_buffer_throws_type_error(ctx, token: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, f"cwt.validateToken({token}, {{key: 'secret'}})") == (
        f"TypeError: cwt.validateToken: token must be a Buffer, got {shown}"
    )


def test_plain_uint8array_token_is_accepted(ctx) -> None:  # type: ignore[no-untyped-def]
    token = make_token({1: "x"})
    got = ev(
        ctx,
        f"cwt.validateToken(new Uint8Array(hx({lit(token.hex())})), {{key: 'secret'}}).payload",
    )
    assert got == {"1": "x"}


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ("undefined", "second argument must be an object {key}, got undefined"),
        ("'secret'", "second argument must be an object {key}, got a string"),
        ("{}", "key must be a string or Buffer, got undefined"),
        ("{key: 5}", "key must be a string or Buffer, got a number"),
    ],
)
def test_bad_handler_context_throws_type_error(ctx, context: str, message: str) -> None:  # type: ignore[no-untyped-def]
    token = make_token({1: "x"})
    assert error_of(ctx, f"cwt.validateToken(hx({lit(token.hex())}), {context})") == (
        f"TypeError: cwt.validateToken: {message}"
    )


@pytest.mark.parametrize("alg", [4, 6, -7, "HS256", None])
def test_unsupported_algorithm_throws(ctx, alg: Any) -> None:  # type: ignore[no-untyped-def]
    token = make_token({1: "x"}, protected={1: alg})
    message = validate_error(ctx, token)
    assert message is not None
    assert message.startswith("Error: cwt.validateToken: unsupported algorithm ")
    assert "only HS256, COSE algorithm 5, is supported" in message


def test_missing_algorithm_throws(ctx) -> None:  # type: ignore[no-untyped-def]
    for token in (
        make_token({1: "x"}, protected_bytes=b""),
        make_token({1: "x"}, protected={4: b"kid"}),
        # alg only in the unprotected bucket does not count.
        make_token({1: "x"}, protected_bytes=b"", unprotected={1: 5}),
    ):
        message = validate_error(ctx, token)
        assert message is not None
        assert "the protected headers name no algorithm (header 1)" in message


def test_rfc8392_mac0_example_is_rejected_for_its_algorithm(ctx) -> None:  # type: ignore[no-untyped-def]
    # RFC 8392 A.4 (also on AWS's page): alg 4, HMAC 256/64 with an 8-byte tag.
    token = bytes.fromhex(
        "d83dd18443a10104a1044c53796d6d65747269633235365850a70175636f61703a2f2f61732e6578616d"
        "706c652e636f6d02656572696b77037818636f61703a2f2f6c696768742e6578616d706c652e636f6d04"
        "1a5612aeb0051a5610d9f0061a5610d9f007420b7148093101ef6d789200"
    )
    message = validate_error(ctx, token)
    assert message is not None
    assert message.startswith("Error: cwt.validateToken: unsupported algorithm 4 ")


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (
            cbor2.dumps([b"\xa1\x01\x05", {}, b"\xa0", b"\x00" * 32]),
            "token is not tagged as COSE_Mac0 (CBOR tag 17 is required)",
        ),
        (
            cbor2.dumps(cbor2.CBORTag(61, [b"\xa1\x01\x05", {}, b"\xa0", b"\x00" * 32])),
            "token is not tagged as COSE_Mac0 (CBOR tag 17 is required)",
        ),
        (
            cbor2.dumps(cbor2.CBORTag(18, [b"\xa1\x01\x05", {}, b"\xa0", b"\x00" * 32])),
            "token has CBOR tag 18, not COSE_Mac0 (17); only MAC0 tokens are supported",
        ),
        (
            cbor2.dumps(cbor2.CBORTag(17, [b"\xa1\x01\x05", {}, b"\xa0"])),
            "COSE_Mac0 must be an array of 4 items [protected, unprotected, payload, tag]",
        ),
        (
            cbor2.dumps(cbor2.CBORTag(17, {1: 2})),
            "COSE_Mac0 must be an array of 4 items [protected, unprotected, payload, tag]",
        ),
        (
            cbor2.dumps(cbor2.CBORTag(17, [{1: 5}, {}, b"\xa0", b"\x00" * 32])),
            "COSE_Mac0 protected headers must be a byte string",
        ),
        (
            cbor2.dumps(cbor2.CBORTag(17, [b"\xa1\x01\x05", [], b"\xa0", b"\x00" * 32])),
            "COSE_Mac0 unprotected headers must be a map",
        ),
        (
            cbor2.dumps(cbor2.CBORTag(17, [b"\xa1\x01\x05", {}, {1: 2}, b"\x00" * 32])),
            "COSE_Mac0 payload must be a byte string",
        ),
        (
            cbor2.dumps(cbor2.CBORTag(17, [b"\xa1\x01\x05", {}, b"\xa0", "tag"])),
            "COSE_Mac0 tag must be a byte string",
        ),
        (
            cbor2.dumps(cbor2.CBORTag(17, [b"\x82\x01\x05", {}, b"\xa0", b"\x00" * 32])),
            "protected headers is not an encoded CBOR map",
        ),
        (b"", "invalid CBOR at byte 0: unexpected end of data"),
        (
            b"\xd1\x84\x46\xa1\x01\x05\xa0\x40",
            "invalid CBOR at byte 2: byte string of 6 bytes runs past the end of the data",
        ),
        (b"\xd1\x84\x40", "invalid CBOR at byte 1: array of 4 items runs past the end of the data"),
        (b"\xd1\x84\x40\xbb" + b"\xff" * 8, "map of 18446744073709552000 pairs runs past the end"),
        (b"\xd1\x9c", "invalid CBOR at byte 1: reserved additional information 28"),
        (
            b"\xd1\x84\x40\xa0\x40\x40\x00",
            "invalid CBOR at byte 6: data after the COSE_Mac0 structure",
        ),
        (b"\xd1\x84\x40\xa1\xf5\x01\x40\x40", "invalid CBOR at byte 4: map key of major type 7"),
        (b"\xd1\x84\x40\xa2\x01\x01\x61\x31\x02\x40\x40", 'duplicate map key "1"'),
        (b"\xd1\x84\x40\xa1\x01\x62\xc3\x28\x40\x40", "text string is not valid UTF-8"),
        (b"\xd1\x84\x40\xa0\x40\xff", 'unexpected "break"'),
    ],
)
def test_malformed_tokens_throw(ctx, token: bytes, expected: str) -> None:  # type: ignore[no-untyped-def]
    message = validate_error(ctx, token)
    assert message is not None
    assert message.startswith("Error: cwt.validateToken: ")
    assert expected in message


def test_payload_must_be_an_encoded_map(ctx) -> None:  # type: ignore[no-untyped-def]
    for claims in ([1, 2], "text"):
        message = validate_error(ctx, make_token(claims))
        assert message is not None
        assert "payload (claims set) is not an encoded CBOR map" in message
    prot = cbor2.dumps({1: 5})
    payload = cbor2.dumps({1: 2}) + b"\x00"
    tag = hmac.new(KEY, cbor2.dumps(["MAC0", prot, b"", payload]), hashlib.sha256).digest()
    message = validate_error(ctx, cbor2.dumps(cbor2.CBORTag(17, [prot, {}, payload, tag])))
    assert message is not None
    assert "data after the payload (claims set) map" in message


def test_deep_nesting_is_rejected(ctx) -> None:  # type: ignore[no-untyped-def]
    deep: Any = 1
    for _ in range(80):
        deep = [deep]
    message = validate_error(ctx, make_token({1: deep}))
    assert message is not None
    assert "nested more than 64 levels deep" in message


def test_decoding_covers_cbor_forms(ctx) -> None:  # type: ignore[no-untyped-def]
    # Indefinite lengths, half/single/double floats, 64-bit integers, undefined, nested tags.
    claims = bytes.fromhex(
        "a9"
        "01"
        "7f61616162ff"  # indefinite text "ab"
        "02"
        "5f41014102ff"  # indefinite bytes 0102
        "03"
        "9f0102ff"  # indefinite array [1, 2]
        "04"
        "bf0102ff"  # indefinite map {1: 2}
        "05"
        "f93e00"  # half 1.5
        "06"
        "fa3fc00000"  # single 1.5
        "07"
        "1b001fffffffffffff"  # 2^53 - 1
        "08"
        "c11a5612aeb0"  # tag 1 (epoch time) around an integer
        "09"
        "f7"  # undefined
    )
    prot = cbor2.dumps({1: 5})
    tag = hmac.new(KEY, cbor2.dumps(["MAC0", prot, b"", claims]), hashlib.sha256).digest()
    token = cbor2.dumps(cbor2.CBORTag(17, [prot, {}, claims, tag]))
    got = ev(
        ctx,
        f"(function () {{ var p = cwt.validateToken(hx({lit(token.hex())}), {{key: 'secret'}}).payload;"
        " return [plain(p), '9' in p && p['9'] === undefined]; })()",
    )
    assert got == [
        {
            "1": "ab",
            "2": {"$bytes": "0102", "isBuffer": True},
            "3": [1, 2],
            "4": {"1": 2},
            "5": 1.5,
            "6": 1.5,
            "7": 2**53 - 1,
            "8": 1444064944,
        },
        True,
    ]


def test_proto_key_becomes_an_own_property(ctx) -> None:  # type: ignore[no-untyped-def]
    token = make_token({"__proto__": {"polluted": 1}})
    got = ev(
        ctx,
        f"(function () {{ var p = cwt.validateToken(hx({lit(token.hex())}), {{key: 'secret'}}).payload;"
        " return [Object.keys(p), p.polluted === undefined, Object.getPrototypeOf(p) === Object.prototype,"
        " ({}).polluted === undefined]; })()",
    )
    assert got == [["__proto__"], True, True, True]


# ------------------------------------------------------------------------------------------------
# Failures of generateToken.


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            "SAMPLE",
            'TypeError: cwt.generateToken: a generatorContext {coseTag: "MAC0", key} is required',
        ),
        (
            "SAMPLE, {key: 'k'}",
            'TypeError: cwt.generateToken: a generatorContext {coseTag: "MAC0", key} is required',
        ),
        (
            "SAMPLE, {coseTag: 'SIGN1', key: 'k'}",
            'Error: cwt.generateToken: unsupported coseTag "SIGN1" (only "MAC0" is supported)',
        ),
        (
            "SAMPLE, {coseTag: 'MAC0'}",
            "TypeError: cwt.generateToken: key must be a string or Buffer, got undefined",
        ),
        (
            "SAMPLE, {coseTag: 'MAC0', key: 'k', cwtTag: 'yes'}",
            "TypeError: cwt.generateToken: cwtTag must be a boolean, got a string",
        ),
        (
            "'claims', CTX",
            "TypeError: cwt.generateToken: payload must be an object {protected, unprotected,"
            " payload}, got a string",
        ),
        (
            "{protected: {}}, CTX",
            "TypeError: cwt.generateToken: payload.payload (the claims) must be an object,"
            " got undefined",
        ),
        (
            "{payload: [1]}, CTX",
            "TypeError: cwt.generateToken: payload.payload (the claims) must be an object,"
            " got an array",
        ),
        (
            "{protected: [], payload: {}}, CTX",
            "TypeError: cwt.generateToken: protected headers must be an object, got an array",
        ),
        (
            "{payload: {1: function () {}}}, CTX",
            "TypeError: cwt.generateToken: cannot encode a function in a token",
        ),
        (
            "{payload: {1: Symbol('s')}}, CTX",
            "TypeError: cwt.generateToken: cannot encode a symbol in a token",
        ),
        (
            "(function () { var a = {}; a.self = a; return {payload: a}; })(), CTX",
            "TypeError: cwt.generateToken: value nested more than 64 levels deep (or cyclic)",
        ),
    ],
)
def test_generate_errors(ctx, args: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, f"cwt.generateToken({args})") == expected


@pytest.mark.parametrize("alg", ["4", "'HS256'", "-7"])
def test_generate_rejects_other_algorithms(ctx, alg: str) -> None:  # type: ignore[no-untyped-def]
    message = error_of(ctx, f"cwt.generateToken({{protected: {{1: {alg}}}, payload: {{}}}}, CTX)")
    assert message is not None
    assert message.startswith("Error: cwt.generateToken: unsupported algorithm ")


# ------------------------------------------------------------------------------------------------
# Through the runtime: `import cf from 'cloudfront'` in a function.

HANDLER = """import cf from 'cloudfront';
function handler(event) {
  var request = event.request;
  var out;
  try {
    var token = Buffer.from(request.headers['x-cwt'].value, 'base64url');
    var cwt = cf.cwt.validateToken(token, { key: 'secret' });
    if (cwt.payload['4'] < Date.now() / 1000) {
      out = 'expired';
    } else {
      var renewed = cf.cwt.generateToken({ protected: cwt.protectedHeaders,
        unprotected: cwt.unprotectedHeaders, payload: { 2: cwt.payload['2'], 4: 2000000000 } },
        { cwtTag: true, coseTag: 'MAC0', key: 'secret' });
      out = 'ok ' + cwt.payload['2'] + ' ' + renewed.toString('base64url');
    }
  } catch (e) {
    out = 'invalid ' + e.message;
  }
  request.headers['x-out'] = { value: out };
  return request;
}
"""


def out_header(result) -> str:  # type: ignore[no-untyped-def]
    assert result.error is None, result.error
    return result.request["headers"]["x-out"]["value"]  # type: ignore[no-any-return]


def b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_cf_cwt_in_a_function() -> None:
    token = make_token({2: "alice", 4: 1_900_000_000})
    out = out_header(run(HANDLER, request_event(headers={"x-cwt": b64url(token)})))
    word, user, renewed = out.split(" ")
    assert (word, user) == ("ok", "alice")
    import base64

    renewed_bytes = base64.urlsafe_b64decode(renewed + "=" * (-len(renewed) % 4))
    assert python_verifies(renewed_bytes)
    assert cbor2.loads(mac0_parts(renewed_bytes)[1][2]) == {2: "alice", 4: 2_000_000_000}

    expired = make_token({2: "alice", 4: 1_000_000_000})
    assert out_header(run(HANDLER, request_event(headers={"x-cwt": b64url(expired)}))) == "expired"
    forged = make_token({2: "alice", 4: 1_900_000_000}, key=b"guess")
    assert out_header(run(HANDLER, request_event(headers={"x-cwt": b64url(forged)}))).startswith(
        "invalid cwt.validateToken: signature verification failed"
    )


def test_shim_survives_user_code_redefining_built_ins() -> None:
    ctx = shim_context("text", "buffer", "crypto", "cwt")
    ctx.eval(SETUP)
    token = make_token({2: "bob", 3: [1, {"a": b"x"}], 5: 0.1}, unprotected={4: b"k"})
    expected = generated(ctx, f"cwt.validateToken(hx({lit(token.hex())}), {{key: 'secret'}}), CTX")
    ctx.eval(f"var TOKEN = hx({lit(token.hex())}); var STRINGIFY = JSON.stringify;")
    ctx.eval(
        """
        var realDefine = Reflect.defineProperty;
        Object.keys = function () { return []; };
        Object.defineProperty = function () { throw new Error('defineProperty'); };
        Object.prototype.hasOwnProperty = function () { return false; };
        JSON.stringify = function () { return 'x'; };
        realDefine(Array.prototype, '0', { set: function () { throw new Error('array trap'); },
          configurable: true });
        realDefine(Object.prototype, '1', { set: function () { throw new Error('object trap'); },
          configurable: true });
        Array.prototype[Symbol.iterator] = function () { throw new Error('iterator'); };
        Uint8Array.prototype.set = function () { throw new Error('set'); };
        DataView.prototype.getFloat64 = function () { throw new Error('getFloat64'); };
        DataView.prototype.setFloat64 = function () { throw new Error('setFloat64'); };
        String.prototype.charCodeAt = function () { return 0; };
        Buffer.from = function () { throw new Error('from'); };
        Number.isSafeInteger = function () { return false; };
        """
    )
    got = ctx.eval(
        "cwt.generateToken(cwt.validateToken(TOKEN, {key: 'secret'}), CTX).toString('hex')"
    )
    assert bytes.fromhex(got) == expected


def test_each_invocation_gets_its_own_cwt_object() -> None:
    code = (
        "import cf from 'cloudfront';\n"
        "function handler(e) { var before = typeof cf.cwt.validateToken;"
        " cf.cwt.validateToken = null; e.request.headers.out = {value: before}; return e.request; }"
    )
    fn = load(code)
    for _ in range(2):
        result = fn.invoke(request_event(), now=0, seed=1)
        assert result.error is None, result.error
        assert result.request["headers"]["out"]["value"] == "function"


def test_runtime_1_still_loads() -> None:
    # cloudfront.js needs cwt.js in both runtimes; 1.0 itself has no cloudfront module.
    code = "function handler(e) { return e.request; }"
    result = run(code, runtime="cloudfront-js-1.0")
    assert result.error is None, result.error


def test_cwt_calls_are_charged_at_the_modelled_native_cost() -> None:
    from edgesim.runtime.function import BudgetPolicy

    code = (
        "import cf from 'cloudfront';\n"
        "const KEY = 'k'.repeat(32);\n"
        "function handler(e) {\n"
        "  for (let i = 0; i < 20; i++) {\n"
        "    const t = cf.cwt.generateToken({protected: {}, unprotected: {}, payload: {1: 'x'}},"
        " {coseTag: 'MAC0', key: KEY});\n"
        "    cf.cwt.validateToken(t, {key: KEY});\n"
        "  }\n"
        "  return e.request;\n"
        "}\n"
    )
    # Deterministic mode counts the function's own work; the 40 metered CWT calls add the
    # native model on top (25 µs each with these settings: 100 % of a 1 ms budget in all),
    # independent of machine speed.
    base = BudgetPolicy(deterministic=True, native_call_ns=25_000, native_byte_ns=0)
    free = BudgetPolicy(deterministic=True, native_call_ns=0, native_byte_ns=0)
    charged = load(code, budget=base).invoke(request_event())
    uncharged = load(code, budget=free).invoke(request_event())
    assert charged.error is None, charged.error
    assert abs(charged.compute_utilization - uncharged.compute_utilization - 100) <= 1
