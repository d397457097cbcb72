"""Differential tests: `cf.cwt` (runtime_shims/cwt.js) against cbor2 and hmac.

Tokens built in Python (cbor2 with tags 61/17 as CBORTag, HMAC-SHA256 over the RFC 8152 §6.3
MAC_structure) must validate in JavaScript and give back the same headers and claims, with every
map key as a string; tokens generated in JavaScript must decode with cbor2 to the claims they were
made from and carry a tag Python's hmac verifies. Values cross into QuickJS as JavaScript source
(byte strings as ``hx('<hex>')``) and come back through JSON, byte strings as ``{"$bytes": hex}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

import cbor2
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.shimkit import js_json, shim_context

SETUP = """
var Buffer = __edgesim_shims.buffer.Buffer;
var cwt = __edgesim_shims.cwt.makeCwt();
function hx(h) { return Buffer.from(h, 'hex'); }
function plain(v) {
  if (v instanceof Uint8Array) return {$bytes: v.toString('hex')};
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    var out = {};
    Object.keys(v).forEach(function (k) { out[k] = plain(v[k]); });
    return out;
  }
  return v;
}
function attempt(f) {
  try { return {ok: f()}; } catch (e) { return {error: e.name + ': ' + e.message}; }
}
"""

MAX_TOKEN = 1024
INTEGER_LIKE = re.compile(r"0|-?[1-9][0-9]*")


@pytest.fixture(scope="module")
def ctx():  # type: ignore[no-untyped-def]
    c = shim_context("text", "buffer", "crypto", "cwt")
    c.eval(SETUP)
    return c


def lit(value: Any) -> str:
    return json.dumps(value)


def js_source(value: Any) -> str:
    """JavaScript source for a claim value (dict keys become property names)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bytes):
        return f"hx({lit(value.hex())})"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(js_source(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{lit(str(k))}: {js_source(v)}" for k, v in value.items()) + "}"


def normal(value: Any) -> Any:
    """A decoded value as the JS side reports it: string keys, lists, byte strings as hex.

    Numbers become floats: JSON.stringify writes 7.083247964896249e16 as 70832479648962490, which
    json.loads reads as an int that differs from the float. (Integers here stay below 2^53.)
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, list | tuple):
        return [normal(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): normal(v) for k, v in value.items()}
    return value


def mac_of(key: bytes, protected: bytes, payload: bytes) -> bytes:
    structure = cbor2.dumps(["MAC0", protected, b"", payload])
    return hmac.new(key, structure, hashlib.sha256).digest()


def python_token(
    claims: Any,
    key: bytes,
    *,
    protected: Any = None,
    unprotected: Any = None,
    cwt_tag: bool = True,
    canonical: bool = False,
) -> bytes:
    protected_bytes = cbor2.dumps({1: 5} if protected is None else protected, canonical=canonical)
    payload = cbor2.dumps(claims, canonical=canonical)
    body = cbor2.CBORTag(
        17, [protected_bytes, unprotected or {}, payload, mac_of(key, protected_bytes, payload)]
    )
    return cbor2.dumps(cbor2.CBORTag(61, body) if cwt_tag else body, canonical=canonical)


def js_validate(ctx, token: bytes, key: bytes) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return js_json(  # type: ignore[no-any-return]
        ctx,
        f"attempt(function () {{ return plain(cwt.validateToken(hx({lit(token.hex())}),"
        f" {{key: hx({lit(key.hex())})}})); }})",
    )


def js_generate(ctx, cwt_object: str, key: bytes, cwt_tag: bool) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    context = f"{{coseTag: 'MAC0', cwtTag: {lit(cwt_tag)}, key: hx({lit(key.hex())})}}"
    return js_json(  # type: ignore[no-any-return]
        ctx,
        f"attempt(function () {{ return cwt.generateToken({cwt_object}, {context})"
        ".toString('hex'); })",
    )


def decode_python(token: bytes, key: bytes, cwt_tag: bool) -> tuple[Any, Any, Any]:
    """(protected, unprotected, claims) of a JS-made token, after checking its tags and MAC."""
    item = cbor2.loads(token)
    assert isinstance(item, cbor2.CBORTag)
    if cwt_tag:
        assert item.tag == 61
        item = item.value
    assert item.tag == 17
    protected, unprotected, payload, tag = item.value
    assert hmac.compare_digest(tag, mac_of(key, protected, payload))
    return cbor2.loads(protected), unprotected, cbor2.loads(payload)


# ------------------------------------------------------------------------------------------------
# Fixed examples.

AWS_EXAMPLE_CLAIMS = {
    1: "cloudfront-documentation",
    2: "cwt-support-on-cloudfront-functions",
    4: 1740000000,
    401: {
        1: {2: ".cloudfront.net"},
        2: {1: "/media/live-stream/cf-4k/"},
        3: {3: [".m3u8", ".ts", ".mpd"]},
    },
    402: ["192.0.2.1", "198.51.100.0/24"],
    403: ["GET", "HEAD"],
    404: {1: "header_renewal", 2: 1750000000, 3: 5},
}


def test_python_token_with_the_aws_example_claims_validates(ctx) -> None:  # type: ignore[no-untyped-def]
    key = b"example-secret"
    token = python_token(AWS_EXAMPLE_CLAIMS, key, unprotected={4: b"Symmetric256"})
    got = js_validate(ctx, token, key)
    assert got == {
        "ok": {
            "protectedHeaders": {"1": 5},
            "unprotectedHeaders": {"4": {"$bytes": b"Symmetric256".hex()}},
            "payload": normal(AWS_EXAMPLE_CLAIMS),
        }
    }


def test_js_token_with_the_aws_example_claims_decodes_in_python(ctx) -> None:  # type: ignore[no-untyped-def]
    key = b"example-secret"
    cwt_object = f"{{protected: {{}}, unprotected: {{}}, payload: {js_source(AWS_EXAMPLE_CLAIMS)}}}"
    made = js_generate(ctx, cwt_object, key, cwt_tag=True)
    token = bytes.fromhex(made["ok"])
    assert decode_python(token, key, cwt_tag=True) == ({1: 5}, {}, AWS_EXAMPLE_CLAIMS)


def test_canonical_and_non_canonical_encodings_both_validate(ctx) -> None:  # type: ignore[no-untyped-def]
    key = b"k"
    claims = {1: 1.5, 2: 65504.0, 3: 0.15625, 4: 1.1, 5: -0.0}
    for canonical in (False, True):
        got = js_validate(ctx, python_token(claims, key, canonical=canonical), key)
        assert normal(got["ok"]["payload"]) == normal(claims)


# ------------------------------------------------------------------------------------------------
# Properties.

safe_ints = st.integers(-(2**53) + 1, 2**53 - 1)
text_keys = st.text(max_size=6).filter(lambda s: not INTEGER_LIKE.fullmatch(s) and s != "__proto__")
map_keys = st.one_of(st.integers(-(2**31), 2**31), text_keys)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    safe_ints,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=16),
    st.binary(max_size=16),
)
values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(map_keys, children, max_size=4)
    ),
    max_leaves=10,
)
claim_maps = st.dictionaries(map_keys, values, max_size=6)
header_maps = st.dictionaries(st.integers(2, 40) | text_keys, leaves, max_size=3)
secret_keys = st.binary(max_size=80)


@given(
    claims=claim_maps,
    extra_protected=header_maps,
    unprotected=header_maps,
    key=secret_keys,
    cwt_tag=st.booleans(),
    canonical=st.booleans(),
)
def test_python_made_tokens_validate_in_js(  # type: ignore[no-untyped-def]
    ctx,
    claims: dict[Any, Any],
    extra_protected: dict[Any, Any],
    unprotected: dict[Any, Any],
    key: bytes,
    cwt_tag: bool,
    canonical: bool,
) -> None:
    protected = {1: 5, **extra_protected}
    token = python_token(
        claims,
        key,
        protected=protected,
        unprotected=unprotected,
        cwt_tag=cwt_tag,
        canonical=canonical,
    )
    got = js_validate(ctx, token, key)
    if len(token) > MAX_TOKEN:
        assert got["error"].startswith("Error: cwt.validateToken: token is ")
        return
    assert normal(got) == {
        "ok": {
            "protectedHeaders": normal(protected),
            "unprotectedHeaders": normal(unprotected),
            "payload": normal(claims),
        }
    }
    # Any other key fails.
    assume(key != b"other")
    assert "signature verification failed" in js_validate(ctx, token, b"other")["error"]


@given(
    claims=claim_maps,
    extra_protected=header_maps,
    unprotected=header_maps,
    key=secret_keys,
    cwt_tag=st.booleans(),
    documented_order=st.booleans(),
)
def test_js_made_tokens_decode_and_verify_in_python(  # type: ignore[no-untyped-def]
    ctx,
    claims: dict[Any, Any],
    extra_protected: dict[Any, Any],
    unprotected: dict[Any, Any],
    key: bytes,
    cwt_tag: bool,
    documented_order: bool,
) -> None:
    cwt_object = (
        f"{{protected: {js_source(extra_protected)}, unprotected: {js_source(unprotected)},"
        f" payload: {js_source(claims)}}}"
    )
    context = f"{{coseTag: 'MAC0', cwtTag: {lit(cwt_tag)}, key: hx({lit(key.hex())})}}"
    args = f"{context}, {cwt_object}" if documented_order else f"{cwt_object}, {context}"
    made = js_json(
        ctx, f"attempt(function () {{ return cwt.generateToken({args}).toString('hex'); }})"
    )
    if "error" in made:
        # Only the size limit may stop it, and then cbor2's encoding (never shorter) is too big.
        assert made["error"].startswith("Error: cwt.generateToken: token would be ")
        too_big = python_token(
            claims, key, protected={1: 5, **extra_protected}, unprotected=unprotected
        )
        assert len(too_big) > MAX_TOKEN
        return
    token = bytes.fromhex(made["ok"])
    assert len(token) <= MAX_TOKEN
    protected, got_unprotected, got_claims = decode_python(token, key, cwt_tag)
    assert protected == {1: 5, **extra_protected}
    assert normal(got_unprotected) == normal(unprotected)
    assert normal(got_claims) == normal(claims)
    # And the JS side reads back what it wrote.
    assert normal(js_validate(ctx, token, key)["ok"]["payload"]) == normal(claims)
