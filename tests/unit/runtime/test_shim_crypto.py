"""runtime_shims/crypto.js: the crypto module (createHash / createHmac over md5, sha1, sha256).

Digests are checked against published vectors and against Python's hashlib / hmac. Error texts
and the 1.0 / 2.0 differences follow the reference notes (§2.4, §3), i.e. njs's crypto module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from tests.shimkit import js_json, shim_context

SETUP = """
var Buffer = __edgesim_shims.buffer.Buffer;
var C2 = __edgesim_shims.crypto.makeCrypto('cloudfront-js-2.0');
var C1 = __edgesim_shims.crypto.makeCrypto('cloudfront-js-1.0');
function hexOf(u) {
  return Array.prototype.map.call(u, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
}
function codes(s) {
  var out = [];
  for (var i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
  return out;
}
function err(f) { try { f(); return null; } catch (e) { return e.name + ': ' + e.message; } }
"""

ALGORITHMS = ["md5", "sha1", "sha256"]


@pytest.fixture(scope="module")
def ctx():  # type: ignore[no-untyped-def]
    c = shim_context("text", "buffer", "crypto")
    c.eval(SETUP)
    return c


def ev(ctx, expr: str) -> Any:  # type: ignore[no-untyped-def]
    return js_json(ctx, expr)


def error_of(ctx, statement: str) -> str | None:  # type: ignore[no-untyped-def]
    return ev(ctx, f"err(function () {{ {statement}; }})")


def lit(value: Any) -> str:
    return json.dumps(value)


def buf(data: bytes) -> str:
    return f"Buffer.from({lit(data.hex())}, 'hex')"


# ------------------------------------------------------------------------------------------------
# Published vectors

NIST_TWO_BLOCKS = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"


@pytest.mark.parametrize(
    ("alg", "message", "expected"),
    [
        ("md5", "", "d41d8cd98f00b204e9800998ecf8427e"),
        ("md5", "abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("md5", "message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("sha1", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("sha1", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("sha1", NIST_TWO_BLOCKS, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("sha256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("sha256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "sha256",
            NIST_TWO_BLOCKS,
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
    ],
)
def test_hash_vectors(ctx, alg: str, message: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, f"C2.createHash({lit(alg)}).update({lit(message)}).digest('hex')") == expected


@pytest.mark.parametrize(
    ("alg", "expected"),
    [
        # RFC 2104 / RFC 2202 test case 2, RFC 4231 test case 2: key "Jefe".
        ("md5", "750c783e6ab0b503eaa86e310a5db738"),
        ("sha1", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
        ("sha256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    ],
)
def test_hmac_vectors(ctx, alg: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    got = ev(
        ctx,
        f"C2.createHmac({lit(alg)}, 'Jefe').update('what do ya want for nothing?').digest('hex')",
    )
    assert got == expected


def test_hmac_sha256_with_a_key_longer_than_the_block(ctx) -> None:  # type: ignore[no-untyped-def]
    # RFC 4231 test case 6: a 131-byte key is hashed first.
    key = bytes([0xAA] * 131)
    got = ev(
        ctx,
        f"C2.createHmac('sha256', {buf(key)})"
        ".update('Test Using Larger Than Block-Size Key - Hash Key First').digest('hex')",
    )
    assert got == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


def test_njs_test_suite_vectors(ctx) -> None:  # type: ignore[no-untyped-def]
    # Values from njs's own crypto tests (test/crypto.t.mjs).
    assert ev(ctx, "C2.createHash('md5').update('abc'.repeat(100)).digest('hex')") == (
        "f571117acbd8153c8dc3c81b8817773a"
    )
    assert ev(ctx, "C2.createHash('sha256').update('AB').digest('base64')") == (
        "OBZPvRdgPXP2lri01yZk1zW7anyIV3aH/SrjP9aWQVM="
    )
    assert ev(ctx, "C2.createHash('sha1').update('AB').digest('base64url')") == (
        "BtlFlCqiamG-GMPiK_GbvKjdK10"
    )
    assert ev(
        ctx, "C2.createHmac('md5', Buffer.from('secret')).update('abc'.repeat(100)).digest('hex')"
    ) == ("91eb74a225cdd3bbfccc34396c6e3ac5")
    assert ev(ctx, "C2.createHmac('sha1', '').digest('hex')") == (
        "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d"
    )


# ------------------------------------------------------------------------------------------------
# Every length around the block boundaries, against hashlib


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_every_length_up_to_three_blocks(ctx, alg: str) -> None:  # type: ignore[no-untyped-def]
    data = bytes((i * 37 + 11) % 256 for i in range(200))
    got = ev(
        ctx,
        f"(function () {{ var d = {buf(data)}; var out = [];"
        f" for (var n = 0; n <= d.length; n++) out.push(C2.createHash({lit(alg)}).update(d.subarray(0, n)).digest('hex'));"
        " return out; })()",
    )
    assert got == [hashlib.new(alg, data[:n]).hexdigest() for n in range(len(data) + 1)]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_hmac_key_lengths_around_the_block_size(ctx, alg: str) -> None:  # type: ignore[no-untyped-def]
    for n in (0, 1, 63, 64, 65, 128, 300):
        key = bytes((i * 13 + 5) % 256 for i in range(n))
        got = ev(ctx, f"C2.createHmac({lit(alg)}, {buf(key)}).update('payload').digest('hex')")
        assert got == hmac.new(key, b"payload", alg).hexdigest(), n


# ------------------------------------------------------------------------------------------------
# update(): chaining, splitting, input types


def test_update_returns_the_same_object_for_chaining(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "(function () { var h = C2.createHash('md5'); return h.update('a') === h; })()")
    assert ev(
        ctx, "(function () { var h = C2.createHmac('md5', 'k'); return h.update('a') === h; })()"
    )


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_many_updates_equal_one_update(ctx, alg: str) -> None:  # type: ignore[no-untyped-def]
    data = bytes(range(256)) * 2
    whole = hashlib.new(alg, data).hexdigest()
    for cuts in ([1], [63, 64, 65], [5, 70, 71, 200, 330], list(range(0, 512, 7))):
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        chain = "".join(f".update({buf(c)})" for c in chunks)
        assert ev(ctx, f"C2.createHash({lit(alg)}){chain}.digest('hex')") == whole, cuts
        mac = ev(ctx, f"C2.createHmac({lit(alg)}, 'key'){chain}.digest('hex')")
        assert mac == hmac.new(b"key", data, alg).hexdigest(), cuts


def test_strings_are_hashed_as_utf8(ctx) -> None:  # type: ignore[no-untyped-def]
    text = "héllo €uro 😀 ascii"
    assert ev(ctx, f"C2.createHash('sha256').update({lit(text)}).digest('hex')") == (
        hashlib.sha256(text.encode()).hexdigest()
    )


def test_a_lone_surrogate_is_hashed_as_the_replacement_character(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "C2.createHash('md5').update('a\\ud800b').digest('hex')") == (
        hashlib.md5("a\ufffdb".encode()).hexdigest()
    )


def test_long_strings_and_buffers(ctx) -> None:  # type: ignore[no-untyped-def]
    # Longer than the internal scratch space, ASCII and non-ASCII.
    assert ev(ctx, "C2.createHash('sha1').update('x'.repeat(20000)).digest('hex')") == (
        hashlib.sha1(b"x" * 20000).hexdigest()
    )
    assert ev(ctx, "C2.createHash('sha1').update('é'.repeat(9000)).digest('hex')") == (
        hashlib.sha1(("é" * 9000).encode()).hexdigest()
    )
    assert ev(ctx, "C2.createHash('md5').update(new Uint8Array(70000)).digest('hex')") == (
        hashlib.md5(bytes(70000)).hexdigest()
    )


def test_buffer_like_inputs_hash_their_own_bytes(ctx) -> None:  # type: ignore[no-untyped-def]
    expected = hashlib.sha256(b"BC").hexdigest()
    for data in (
        "Buffer.from('ABCD').subarray(1, 3)",
        "new Uint8Array([65, 66, 67, 68]).subarray(1, 3)",
        "new DataView(new Uint8Array([65, 66, 67, 68]).buffer, 1, 2)",
        "new Uint8Array([66, 67]).buffer",
        "new Uint16Array(new Uint8Array([66, 67]).buffer)",
        "new Int8Array([66, 67])",
    ):
        assert ev(ctx, f"C2.createHash('sha256').update({data}).digest('hex')") == expected, data


def test_update_with_an_input_encoding(ctx) -> None:  # type: ignore[no-untyped-def]
    # njs: update(data, 'hex' | 'base64' | 'base64url') decodes the string first.
    expected = hashlib.md5(b"AB").hexdigest()
    for args in ("'4142', 'hex'", "'QUI=', 'base64'", "'QUI', 'base64url'", "'AB', 'utf8'"):
        assert ev(ctx, f"C2.createHash('md5').update({args}).digest('hex')") == expected, args
    assert error_of(ctx, "C2.createHash('md5').update('x', 'ascii')") == (
        'TypeError: "ascii" encoding is not supported'
    )


def test_hmac_keys_of_every_kind(ctx) -> None:  # type: ignore[no-untyped-def]
    expected = hmac.new("kéy".encode(), b"data", "sha256").hexdigest()
    for key in (
        lit("kéy"),
        "Buffer.from('kéy')",
        "new Uint8Array(Buffer.from('kéy'))",
        "new Uint8Array(Buffer.from('kéy')).buffer",
        "new DataView(new Uint8Array(Buffer.from('kéy')).buffer)",
    ):
        assert ev(ctx, f"C2.createHmac('sha256', {key}).update('data').digest('hex')") == expected


def test_reused_hmac_keys_give_fresh_results(ctx) -> None:  # type: ignore[no-untyped-def]
    # The shim remembers the pad states of recent keys; results must never depend on that.
    got = ev(
        ctx,
        """(function () {
          var key = Buffer.from('secret');
          var out = [];
          for (var i = 0; i < 3; i++) out.push(C2.createHmac('sha256', key).update('m').digest('hex'));
          key[0] = 0x53;  // 'Secret': same length, new bytes
          out.push(C2.createHmac('sha256', key).update('m').digest('hex'));
          out.push(C2.createHmac('sha1', 'secret').update('m').digest('hex'));
          for (var k = 0; k < 6; k++) out.push(C2.createHmac('md5', 'k' + k).update('m').digest('hex'));
          out.push(C2.createHmac('md5', 'k0').update('m').digest('hex'));
          out.push(C2.createHmac('md5', 'x'.repeat(300)).update('m').digest('hex'));
          out.push(C2.createHmac('md5', 'x'.repeat(300)).update('m').digest('hex'));
          return out;
        })()""",
    )
    mac = hmac.new
    assert got == [
        mac(b"secret", b"m", "sha256").hexdigest(),
        mac(b"secret", b"m", "sha256").hexdigest(),
        mac(b"secret", b"m", "sha256").hexdigest(),
        mac(b"Secret", b"m", "sha256").hexdigest(),
        mac(b"secret", b"m", "sha1").hexdigest(),
        *[mac(f"k{k}".encode(), b"m", "md5").hexdigest() for k in range(6)],
        mac(b"k0", b"m", "md5").hexdigest(),
        mac(b"x" * 300, b"m", "md5").hexdigest(),
        mac(b"x" * 300, b"m", "md5").hexdigest(),
    ]


def test_interleaved_hashes_do_not_share_state(ctx) -> None:  # type: ignore[no-untyped-def]
    got = ev(
        ctx,
        """(function () {
          var a = C2.createHash('sha256'), b = C2.createHmac('sha256', 'k');
          a.update('x'.repeat(100)); b.update('y'.repeat(30)); a.update('z'); b.update('w'.repeat(90));
          return [a.digest('hex'), b.digest('hex')];
        })()""",
    )
    assert got == [
        hashlib.sha256(b"x" * 100 + b"z").hexdigest(),
        hmac.new(b"k", b"y" * 30 + b"w" * 90, "sha256").hexdigest(),
    ]


# ------------------------------------------------------------------------------------------------
# digest(): encodings and the 1.0 / 2.0 difference


def test_digest_encodings(ctx) -> None:  # type: ignore[no-untyped-def]
    raw = hashlib.sha1(b"abc").digest()
    assert ev(ctx, "C2.createHash('sha1').update('abc').digest('hex')") == raw.hex()
    assert ev(ctx, "C2.createHash('sha1').update('abc').digest('base64')") == (
        base64.b64encode(raw).decode()
    )
    # base64url has no padding.
    assert ev(ctx, "C2.createHash('sha1').update('abc').digest('base64url')") == (
        base64.urlsafe_b64encode(raw).decode().rstrip("=")
    )


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_runtime_2_digest_without_encoding_is_a_buffer(ctx, alg: str) -> None:  # type: ignore[no-untyped-def]
    got = ev(
        ctx,
        f"(function () {{ var d = C2.createHash({lit(alg)}).update('abc').digest();"
        " return [Buffer.isBuffer(d), d instanceof Buffer, d.length, d.toString('hex')]; })()",
    )
    digest = hashlib.new(alg, b"abc").digest()
    assert got == [True, True, len(digest), digest.hex()]
    mac = ev(ctx, f"hexOf(C2.createHmac({lit(alg)}, 'k').update('abc').digest())")
    assert mac == hmac.new(b"k", b"abc", alg).hexdigest()


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_runtime_1_digest_without_encoding_is_a_byte_string(ctx, alg: str) -> None:  # type: ignore[no-untyped-def]
    got = ev(
        ctx,
        f"(function () {{ var d = C1.createHash({lit(alg)}).update('abc').digest(); return [typeof d, codes(d)]; }})()",
    )
    assert got == ["string", list(hashlib.new(alg, b"abc").digest())]
    mac = ev(ctx, f"codes(C1.createHmac({lit(alg)}, 'k').update('abc').digest())")
    assert mac == list(hmac.new(b"k", b"abc", alg).digest())
    assert ev(ctx, f"C1.createHash({lit(alg)}).update('abc').digest('hex')") == (
        hashlib.new(alg, b"abc").hexdigest()
    )


def test_runtime_1_hashes_byte_strings_as_bytes(ctx) -> None:  # type: ignore[no-untyped-def]
    # A 1.0 digest() is a byte string and is commonly fed back as the next key (SigV4-style key
    # derivation); njs hashes byte strings as their raw bytes.
    got = ev(
        ctx,
        """(function () {
          var k = C1.createHmac('sha256', 'AWS4secret').update('20260101').digest();
          k = C1.createHmac('sha256', k).update('us-east-1').digest();
          return C1.createHmac('sha256', k).update('payload').digest('hex');
        })()""",
    )
    k = hmac.new(b"AWS4secret", b"20260101", "sha256").digest()
    k = hmac.new(k, b"us-east-1", "sha256").digest()
    assert got == hmac.new(k, b"payload", "sha256").hexdigest()
    # Characters U+0080..U+00FF are single bytes in 1.0 (a byte string), UTF-8 in 2.0.
    assert (
        ev(ctx, "C1.createHash('md5').update('\\xe9').digest('hex')")
        == hashlib.md5(b"\xe9").hexdigest()
    )
    assert ev(ctx, "C2.createHash('md5').update('\\xe9').digest('hex')") == (
        hashlib.md5("\xe9".encode()).hexdigest()
    )
    # A string with any character above U+00FF is Unicode text: UTF-8 in both runtimes.
    assert ev(ctx, "C1.createHash('md5').update('é€').digest('hex')") == (
        hashlib.md5("é€".encode()).hexdigest()
    )


def test_a_failed_digest_leaves_the_hash_usable(ctx) -> None:  # type: ignore[no-untyped-def]
    got = ev(
        ctx,
        """(function () {
          var h = C2.createHash('md5').update('a');
          var e = err(function () { h.digest('latin1'); });
          return [e, h.update('b').digest('hex')];
        })()""",
    )
    assert got == ['TypeError: Unknown digest encoding: "latin1"', hashlib.md5(b"ab").hexdigest()]


# ------------------------------------------------------------------------------------------------
# Errors (reference notes §3, njs texts)


def test_algorithm_errors(ctx) -> None:  # type: ignore[no-untyped-def]
    assert (
        error_of(ctx, "C2.createHash('sha512')") == 'TypeError: not supported algorithm: "sha512"'
    )
    assert error_of(ctx, "C2.createHmac('sha384', 'k')") == (
        'TypeError: not supported algorithm: "sha384"'
    )
    # Names are matched exactly, as in njs (Node accepts 'SHA256').
    assert (
        error_of(ctx, "C2.createHash('SHA256')") == 'TypeError: not supported algorithm: "SHA256"'
    )
    assert error_of(ctx, "C2.createHash()") == "TypeError: algorithm must be a string"
    assert error_of(ctx, "C2.createHmac(1, 'k')") == "TypeError: algorithm must be a string"


def test_data_and_key_errors(ctx) -> None:  # type: ignore[no-untyped-def]
    for data in ("", "undefined", "null", "1", "{}", "[1, 2]", "true"):
        assert error_of(ctx, f"C2.createHash('md5').update({data})") == (
            "TypeError: data is not a string or Buffer-like object"
        ), data
        assert error_of(ctx, f"C2.createHmac('md5', 'k').update({data})") == (
            "TypeError: data is not a string or Buffer-like object"
        ), data
    assert error_of(ctx, "C2.createHmac('sha1', 1)") == (
        "TypeError: key is not a string or Buffer-like object"
    )
    assert error_of(ctx, "C2.createHmac('sha1')") == (
        "TypeError: key is not a string or Buffer-like object"
    )


def test_digest_encoding_errors(ctx) -> None:  # type: ignore[no-untyped-def]
    assert (
        error_of(ctx, "C2.createHash('md5').digest('x')")
        == 'TypeError: Unknown digest encoding: "x"'
    )
    # 'buffer' is njs's internal name for "no encoding"; it cannot be asked for.
    assert error_of(ctx, "C2.createHash('md5').digest('buffer')") == (
        'TypeError: Unknown digest encoding: "buffer"'
    )
    assert error_of(ctx, "C2.createHmac('md5', 'k').digest('HEX')") == (
        'TypeError: Unknown digest encoding: "HEX"'
    )
    assert error_of(ctx, "C2.createHash('md5').digest(1)") == "TypeError: encoding must be a string"


def test_digest_already_called(ctx) -> None:  # type: ignore[no-untyped-def]
    for make in ("C2.createHash('sha1')", "C2.createHmac('sha1', 'k')", "C1.createHash('md5')"):
        assert error_of(ctx, f"var h = {make}; h.digest(); h.update('x')") == (
            "Error: Digest already called"
        )
        assert error_of(ctx, f"var h = {make}; h.digest('hex'); h.digest('hex')") == (
            "Error: Digest already called"
        )
        assert error_of(ctx, f"var h = {make}; h.digest('hex'); h.digest('nope')") == (
            "Error: Digest already called"
        )


def test_methods_check_their_receiver(ctx) -> None:  # type: ignore[no-untyped-def]
    assert error_of(ctx, "C2.createHash('md5').update.call({}, 'x')") == (
        'TypeError: "this" is not a hash object'
    )
    assert error_of(ctx, "C2.createHash('md5').update.call(C2.createHmac('md5', 'k'), 'x')") == (
        'TypeError: "this" is not a hash object'
    )
    assert error_of(ctx, "C2.createHmac('md5', 'k').digest.call(undefined)") == (
        'TypeError: "this" is not a hmac object'
    )


# ------------------------------------------------------------------------------------------------
# Shape of the module


def test_module_offers_only_create_hash_and_create_hmac(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Object.keys(C2)") == ["createHash", "createHmac"]
    assert ev(ctx, "Object.keys(C1)") == ["createHash", "createHmac"]
    assert ev(ctx, "[typeof C2.randomBytes, typeof C2.subtle, typeof C2.createCipheriv]") == [
        "undefined",
        "undefined",
        "undefined",
    ]
    # hash.copy() exists in newer njs but AWS does not document it.
    assert ev(ctx, "typeof C2.createHash('md5').copy") == "undefined"
    assert ev(ctx, "Object.keys(C2.createHash('md5'))") == []


def test_objects_are_tagged_and_constructible_like_njs(ctx) -> None:  # type: ignore[no-untyped-def]
    assert ev(ctx, "Object.prototype.toString.call(C2.createHash('md5'))") == "[object Hash]"
    assert ev(ctx, "Object.prototype.toString.call(C2.createHmac('md5', ''))") == "[object Hmac]"
    # njs: a hash's constructor is createHash itself, callable with or without new.
    assert ev(ctx, "C2.createHash('sha1').constructor('md5').update('abc').digest('hex')") == (
        hashlib.md5(b"abc").hexdigest()
    )
    assert ev(ctx, "new (C2.createHmac('sha1', '').constructor)('md5', 'k').digest('hex')") == (
        hmac.new(b"k", b"", "md5").hexdigest()
    )
    # Each crypto object keeps its runtime's digest type.
    assert ev(ctx, "typeof C1.createHash('md5').constructor('md5').digest()") == "string"


def test_required_through_the_runtime() -> None:
    from tests.unit.runtime.helpers import load, request_event

    code = """
    var crypto = require('crypto');
    function handler(event) {
      var d = crypto.createHash('sha256').update(event.request.uri).digest();
      event.request.headers['x-d'] = { value: typeof d + ':' + d.length + ':' + Object.isFrozen(crypto) };
      return event.request;
    }
    """
    for runtime, kind in (("cloudfront-js-2.0", "object"), ("cloudfront-js-1.0", "string")):
        result = load(code, runtime=runtime).invoke(request_event("/x"))
        assert result.request is not None
        assert result.request["headers"]["x-d"] == {"value": f"{kind}:32:true"}
