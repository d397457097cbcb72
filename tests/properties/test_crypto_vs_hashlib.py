"""Property tests: the crypto shim against Python's hashlib and hmac.

Bytes cross into QuickJS as hex (``Buffer.from(hex, 'hex')``), text as JSON string literals
(``\\u`` escapes, so every code point survives). Each example hashes the same input several ways
(one update, many updates, Buffer or string) and every way must give hashlib's digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.shimkit import js_json, shim_context

SETUP = """
var Buffer = __edgesim_shims.buffer.Buffer;
var C2 = __edgesim_shims.crypto.makeCrypto('cloudfront-js-2.0');
var C1 = __edgesim_shims.crypto.makeCrypto('cloudfront-js-1.0');
function codes(s) {
  var out = [];
  for (var i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
  return out;
}
function hx(h) { return Buffer.from(h, 'hex'); }
"""

algorithms = st.sampled_from(["md5", "sha1", "sha256"])
# Up to five SHA blocks, so that every partial-block path is exercised.
data_bytes = st.binary(max_size=330)
keys = st.binary(max_size=200)
# Text without lone surrogates (they become U+FFFD, covered by the unit tests).
texts = st.text(max_size=120)


@pytest.fixture(scope="module")
def ctx():  # type: ignore[no-untyped-def]
    c = shim_context("text", "buffer", "crypto")
    c.eval(SETUP)
    return c


def lit(value: Any) -> str:
    return json.dumps(value)


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@given(alg=algorithms, data=data_bytes, cuts=st.lists(st.integers(0, 330), max_size=4))
def test_hash_of_bytes(ctx, alg: str, data: bytes, cuts: list[int]) -> None:  # type: ignore[no-untyped-def]
    a = lit(alg)
    chain = "".join(f".update(hx({lit(c.hex())}))" for c in chunks(data, cuts))
    got = js_json(
        ctx,
        f"[C2.createHash({a}).update(hx({lit(data.hex())})).digest('hex'),"
        f" C2.createHash({a}){chain}.digest('hex'),"
        f" C2.createHash({a}).update(new Uint8Array(hx({lit(data.hex())})).buffer).digest('base64'),"
        f" C2.createHash({a}).update({lit(data.hex())}, 'hex').digest().toString('hex')]",
    )
    digest = hashlib.new(alg, data).digest()
    assert got == [digest.hex(), digest.hex(), base64.b64encode(digest).decode(), digest.hex()]


@given(alg=algorithms, text=texts, cut=st.integers(0, 120))
def test_hash_of_text_is_the_hash_of_its_utf8(ctx, alg: str, text: str, cut: int) -> None:  # type: ignore[no-untyped-def]
    a = lit(alg)
    head, tail = text[:cut], text[cut:]
    got = js_json(
        ctx,
        f"[C2.createHash({a}).update({lit(text)}).digest('hex'),"
        f" C2.createHash({a}).update({lit(head)}).update({lit(tail)}).digest('base64url')]",
    )
    digest = hashlib.new(alg, text.encode()).digest()
    assert got == [digest.hex(), base64.urlsafe_b64encode(digest).decode().rstrip("=")]


@given(alg=algorithms, key=keys, data=data_bytes, cut=st.integers(0, 330))
def test_hmac_of_bytes(ctx, alg: str, key: bytes, data: bytes, cut: int) -> None:  # type: ignore[no-untyped-def]
    a = lit(alg)
    k = f"hx({lit(key.hex())})"
    got = js_json(
        ctx,
        f"[C2.createHmac({a}, {k}).update(hx({lit(data.hex())})).digest('hex'),"
        f" C2.createHmac({a}, {k}).update(hx({lit(data[:cut].hex())}))"
        f".update(hx({lit(data[cut:].hex())})).digest().toString('hex'),"
        f" codes(C1.createHmac({a}, {k}).update(hx({lit(data.hex())})).digest())]",
    )
    mac = hmac.new(key, data, alg).digest()
    assert got == [mac.hex(), mac.hex(), list(mac)]


@given(alg=algorithms, key=st.text(max_size=100), text=texts)
def test_hmac_of_text_with_a_text_key(ctx, alg: str, key: str, text: str) -> None:  # type: ignore[no-untyped-def]
    got = js_json(ctx, f"C2.createHmac({lit(alg)}, {lit(key)}).update({lit(text)}).digest('hex')")
    assert got == hmac.new(key.encode(), text.encode(), alg).hexdigest()


@given(alg=algorithms, key=keys, data=data_bytes)
def test_runtime_1_byte_strings_are_hashed_as_bytes(ctx, alg: str, key: bytes, data: bytes) -> None:  # type: ignore[no-untyped-def]
    # In 1.0 a string of characters U+0000..U+00FF is a byte string: one byte per character.
    got = js_json(
        ctx,
        f"[codes(C1.createHash({lit(alg)}).update({lit(data.decode('latin-1'))}).digest()),"
        f" C1.createHmac({lit(alg)}, {lit(key.decode('latin-1'))})"
        f".update({lit(data.decode('latin-1'))}).digest('hex')]",
    )
    assert got == [list(hashlib.new(alg, data).digest()), hmac.new(key, data, alg).hexdigest()]
