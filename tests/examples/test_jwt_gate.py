"""functions/jwt_gate.js: HS256 JWT gate with per-kid keys in the KVS, fail-secure."""

import base64
import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from edgesim import strategies as es
from edgesim.testing import FAULTS, ReplicatedKvs, load_function, viewer_request
from edgesim.testing.properties import assert_fail_secure
from tests.examples import EVENT_FIXTURES, FUNCTIONS, KVS_FIXTURES

SOURCE = FUNCTIONS / "jwt_gate.js"
FIXTURE_KVS = KVS_FIXTURES / "jwt_gate.json"
FIXTURE_ITEMS = {item["key"]: item["value"] for item in json.loads(FIXTURE_KVS.read_text())["data"]}
NOW = 1_780_000_000  # 2026-05-28T20:26:40Z, in epoch seconds
NOW_AT = datetime.fromtimestamp(NOW, UTC)
B64URL_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_of(kid: str) -> bytes:
    encoded = FIXTURE_ITEMS[f"jwt:key:{kid}"]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


def encode(obj: Any) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def sign_segments(header: str, payload: str, key: bytes) -> str:
    signing_input = header + "." + payload
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


def sign(claims: Any, key: bytes, header: Any = None, *, kid: str = "2026-01") -> str:
    if header is None:
        header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    return sign_segments(encode(header), encode(claims), key)


def token(kid: str = "2026-01", **claims: Any) -> str:
    claims.setdefault("sub", "user-42")
    claims.setdefault("exp", NOW + 3600)
    return sign(claims, key_of(kid), kid=kid)


def bearer(jwt: str, *, forged_sub: str | None = "admin") -> dict:
    headers = {"authorization": f"Bearer {jwt}"}
    if forged_sub is not None:
        headers["x-jwt-sub"] = forged_sub
    return viewer_request("/api/orders", headers=headers)


def allowed(result) -> bool:
    """True if the request went on; otherwise the result must be a well-formed 401."""
    assert result.error is None
    if result.kind == "request":
        return True
    assert result.response["statusCode"] == 401
    assert result.response["headers"]["www-authenticate"]["value"].startswith("Bearer")
    assert result.response["headers"]["cache-control"]["value"] == "no-store"
    return False


@pytest.fixture(scope="module")
def fn():
    return load_function(SOURCE, kvs=FIXTURE_KVS)


@pytest.fixture(scope="module")
def store() -> Iterator[ReplicatedKvs]:
    with ReplicatedKvs(FIXTURE_ITEMS, pops=("IAD",)) as kvs:
        yield kvs


@pytest.fixture(scope="module")
def live_fn(store):
    return load_function(SOURCE, kvs=store)


def test_fixture_event(fn) -> None:
    result = fn.run(json.loads((EVENT_FIXTURES / "jwt_gate.json").read_text()), now=NOW_AT)
    assert allowed(result)
    assert result.request["headers"]["x-jwt-sub"] == {"value": "user-42"}


def test_valid_token_passes_and_forged_subject_is_replaced(fn) -> None:
    result = fn.run(bearer(token(sub="alice")), now=NOW_AT)
    assert allowed(result)
    assert result.request["headers"]["x-jwt-sub"] == {"value": "alice"}


def test_token_in_cookie_and_lowercase_scheme(fn) -> None:
    jwt = token()
    cookie = viewer_request("/api/orders", cookies={"jwt": jwt})
    assert allowed(fn.run(cookie, now=NOW_AT))
    lower = viewer_request("/api/orders", headers={"authorization": f"bearer {jwt}"})
    assert allowed(fn.run(lower, now=NOW_AT))


def test_subject_is_dropped_when_unsafe(fn) -> None:
    result = fn.run(bearer(token(sub="a b\r\nx-admin: 1")), now=NOW_AT)
    assert allowed(result)
    assert "x-jwt-sub" not in result.request["headers"]


def test_missing_token_gets_a_plain_challenge(fn) -> None:
    result = fn.run(viewer_request("/api/orders", headers={"x-jwt-sub": "admin"}), now=NOW_AT)
    assert not allowed(result)
    assert result.response["headers"]["www-authenticate"]["value"] == "Bearer"


KEY = key_of("2026-01")
GOOD_HEADER = {"alg": "HS256", "kid": "2026-01"}
CLAIMS = {"sub": "u", "exp": NOW + 60}


MALFORMED = "jwt gate: malformed token"
HEADER = "jwt gate: unsupported token header"
SIGNATURE = "jwt gate: bad signature"
EXPIRED = "jwt gate: expired or no exp"


@pytest.mark.parametrize(
    ("jwt", "reason"),
    [
        pytest.param("", "jwt gate: no token", id="empty"),
        pytest.param(token().rsplit(".", 1)[0], MALFORMED, id="two-parts"),
        pytest.param(token() + ".", MALFORMED, id="four-parts"),
        pytest.param(token().replace(".", ".=", 1), MALFORMED, id="padding"),
        pytest.param(token(pad="x" * 4000), MALFORMED, id="too-long"),
        pytest.param(sign(CLAIMS, KEY, {"alg": "none", "kid": "2026-01"}), HEADER, id="alg-none"),
        pytest.param(sign(CLAIMS, KEY, {"alg": "HS512", "kid": "2026-01"}), HEADER, id="hs512"),
        pytest.param(sign(CLAIMS, KEY, {"alg": "HS256"}), HEADER, id="no-kid"),
        pytest.param(sign(CLAIMS, KEY, {"alg": "HS256", "kid": 7}), HEADER, id="numeric-kid"),
        pytest.param(sign(CLAIMS, KEY, {"alg": "HS256", "kid": "a/b"}), HEADER, id="bad-kid"),
        pytest.param(sign(CLAIMS, KEY, ["HS256"]), HEADER, id="header-array"),
        pytest.param(
            sign(CLAIMS, KEY, kid="2024-01"),
            "jwt gate: no usable key for kid 2024-01",
            id="unknown",
        ),
        pytest.param(sign(CLAIMS, key_of("2025-07"), kid="2026-01"), SIGNATURE, id="other-key"),
        pytest.param(token()[:-43] + "A" * 43, SIGNATURE, id="wrong-signature"),
        pytest.param(token(exp=NOW), EXPIRED, id="exp-now"),
        pytest.param(token(exp=NOW - 1), EXPIRED, id="expired"),
        pytest.param(token(exp=str(NOW + 60)), EXPIRED, id="exp-string"),
        pytest.param(sign({"sub": "u"}, KEY), EXPIRED, id="no-exp"),
        pytest.param(sign([CLAIMS], KEY, GOOD_HEADER), EXPIRED, id="claims-array"),
        pytest.param(
            sign_segments(encode(GOOD_HEADER), b64url(b"{not json"), KEY), EXPIRED, id="not-json"
        ),
        pytest.param(token(nbf=NOW + 1), "jwt gate: not yet valid", id="not-yet-valid"),
        pytest.param(token(nbf="0"), "jwt gate: not yet valid", id="nbf-string"),
    ],
)
def test_rejected(fn, jwt: str, reason: str) -> None:
    event = viewer_request("/api/orders", headers={"authorization": f"Bearer {jwt}"})
    result = fn.run(event, now=NOW_AT)
    assert not allowed(result)
    assert result.logs == [reason]


def test_other_schemes_are_ignored(fn) -> None:
    event = viewer_request("/api/orders", headers={"authorization": "Basic dXNlcjpwYXNz"})
    assert not allowed(fn.run(event, now=NOW_AT))


def test_claim_boundaries(fn) -> None:
    assert allowed(fn.run(bearer(token(exp=NOW + 1, nbf=NOW)), now=NOW_AT))
    assert not allowed(
        fn.run(bearer(token(exp=NOW + 1, nbf=NOW)), now=NOW_AT.timestamp() * 1000 + 1000)
    )


def test_short_or_malformed_keys_are_refused(store, live_fn) -> None:
    short = bytes(range(31))
    store.put("jwt:key:short", b64url(short))
    store.put("jwt:key:padded", base64.urlsafe_b64encode(bytes(32)).decode())  # has '='
    store.settle()
    assert not allowed(live_fn.run(bearer(sign(CLAIMS, short, kid="short")), now=NOW_AT))
    assert not allowed(live_fn.run(bearer(sign(CLAIMS, bytes(32), kid="padded")), now=NOW_AT))


SUBJECTS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)


@given(
    kid=st.sampled_from(["2026-01", "2025-07"]),
    sub=SUBJECTS,
    lifetime=st.integers(1, 10**8),
    age=st.one_of(st.none(), st.integers(0, 10**6)),
    extra=st.dictionaries(st.sampled_from(["iss", "aud", "scope", "role"]), st.text(max_size=10)),
)
def test_valid_tokens_pass(fn, kid: str, sub: str, lifetime: int, age, extra) -> None:
    claims = dict(extra, sub=sub, exp=NOW + lifetime)
    if age is not None:
        claims["nbf"] = NOW - age
        claims["iat"] = NOW - age
    result = fn.run(bearer(sign(claims, key_of(kid), kid=kid)), now=NOW_AT)
    assert allowed(result)
    assert result.request["headers"]["x-jwt-sub"] == {"value": sub}


@given(data=st.data(), sub=SUBJECTS)
def test_any_single_character_tampering_fails(fn, data, sub: str) -> None:
    jwt = token(sub=sub)
    position = data.draw(st.integers(0, len(jwt) - 1), label="position")
    replacement = data.draw(
        st.sampled_from(B64URL_CHARS + ".").filter(lambda c: c != jwt[position]), label="char"
    )
    tampered = jwt[:position] + replacement + jwt[position + 1 :]
    assert not allowed(fn.run(bearer(tampered), now=NOW_AT))


@given(expired_for=st.integers(0, 10**8), kid=st.sampled_from(["2026-01", "2025-07"]))
def test_expired_tokens_fail(fn, expired_for: int, kid: str) -> None:
    assert not allowed(fn.run(bearer(token(kid, exp=NOW - expired_for)), now=NOW_AT))


ROTATIONS = itertools.count()


@given(old_key=st.binary(min_size=32, max_size=64), new_key=st.binary(min_size=32, max_size=64))
def test_key_rotation(store, live_fn, old_key: bytes, new_key: bytes) -> None:
    """New kid works as soon as it is in the store; the old kid fails once it is removed."""
    assume(old_key != new_key)
    serial = next(ROTATIONS)  # fresh kids: the store outlives one example
    old_kid, new_kid = f"rot-{serial}-old", f"rot-{serial}-new"
    old_token = sign(CLAIMS, old_key, kid=old_kid)
    new_token = sign(CLAIMS, new_key, kid=new_kid)
    store.put(f"jwt:key:{old_kid}", b64url(old_key))
    store.settle()
    assert allowed(live_fn.run(bearer(old_token), now=NOW_AT))
    assert not allowed(live_fn.run(bearer(new_token), now=NOW_AT))
    store.put(f"jwt:key:{new_kid}", b64url(new_key))
    store.settle()
    assert allowed(live_fn.run(bearer(old_token), now=NOW_AT))  # overlap: both accepted
    assert allowed(live_fn.run(bearer(new_token), now=NOW_AT))
    store.delete(f"jwt:key:{old_kid}")
    store.settle()
    assert not allowed(live_fn.run(bearer(old_token), now=NOW_AT))
    assert allowed(live_fn.run(bearer(new_token), now=NOW_AT))
    # A token that names the new kid but was signed with the old key never passes.
    assert not allowed(live_fn.run(bearer(sign(CLAIMS, old_key, kid=new_kid)), now=NOW_AT))


@given(
    fault=es.kvs_faults(),
    keys=st.sampled_from([frozenset(), frozenset({"jwt:key:2026-01"})]),
)
def test_any_kvs_fault_denies(fn, fault: str, keys: frozenset[str]) -> None:
    """Fail-secure: a valid token is refused when its key cannot be read properly (or has not
    reached the POP yet), and the refusal is a 401, not an error page."""
    event = bearer(token())
    assert_fail_secure(
        fn, event, granted=lambda r: r.kind == "request", faults=[fault], keys=keys, now=NOW_AT
    )
    if fault in FAULTS:
        assert not allowed(fn.run(event, now=NOW_AT, kvs=fn.with_fault(fault, keys=keys)))


# Paths the coverage report found untested (pytest --edgesim-cov=functions).


@pytest.mark.parametrize("segment", ["null", "5", "[]"])
def test_a_header_that_is_not_a_json_object_is_refused(fn, segment: str) -> None:
    payload = encode({"sub": "user-42", "exp": NOW + 3600})
    jwt = sign_segments(b64url(segment.encode()), payload, key_of("2026-01"))
    assert not allowed(fn.run(bearer(jwt), now=NOW_AT))


def test_a_signature_of_the_wrong_length_is_refused(fn) -> None:
    head, payload, _signature = token().split(".")
    assert not allowed(fn.run(bearer(f"{head}.{payload}.abc"), now=NOW_AT))


@pytest.mark.parametrize("sub", [None, 42])
def test_without_a_string_subject_the_request_passes_without_x_jwt_sub(fn, sub) -> None:
    claims: dict[str, Any] = {"exp": NOW + 3600}
    if sub is not None:
        claims["sub"] = sub
    result = fn.run(bearer(sign(claims, key_of("2026-01"))), now=NOW_AT)
    assert allowed(result)
    assert "x-jwt-sub" not in result.request["headers"]  # the forged one removed, none added
