"""The arithmetic of AWS Signature Version 4 for S3: canonical request, string to sign, signing
keys (HMAC for SigV4, an ECDSA P-256 key pair derived from the secret for SigV4A), and the
signature checks. Knows nothing of HTTP servers; :mod:`edgesim.origins.s3auth` applies it to
requests.

Evidence: IAM User Guide, "Elements of an AWS API request signature" and "Create a signed AWS
API request" (canonical request: method, canonical URI, canonical query string, canonical
headers, signed headers, payload hash; string to sign: algorithm, request date, credential scope,
hex SHA-256 of the canonical request; the signing key chain ``AWS4`` + secret → date → region →
service → ``aws4_request``); S3 API reference, "Authenticating Requests (AWS Signature Version
4)" (S3 signs the URI encoded once, not normalised, and the payload hash is the
``x-amz-content-sha256`` header, or ``UNSIGNED-PAYLOAD`` in presigned URLs). SigV4A: the same
canonical request; algorithm ``AWS4-ECDSA-P256-SHA256``; a credential scope without region
(``date/service/aws4_request``); the region set in ``X-Amz-Region-Set``; the signature is the
hex of a DER-encoded ECDSA P-256/SHA-256 signature by a key derived from the credentials with
NIST SP 800-108 HMAC-SHA256 in counter mode (input key ``AWS4A`` + secret, label the algorithm
name, context the access key id and a one-byte counter, 256 output bits; the first candidate
at most n − 2 gives the private key candidate + 1). The derivation is checked in the tests
against signatures made by the AWS CRT signer (botocore's SigV4A).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import quote, unquote_to_bytes

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

SIGV4 = "AWS4-HMAC-SHA256"
SIGV4A = "AWS4-ECDSA-P256-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

# The order n of the P-256 group (SEC 2, secp256r1).
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# RFC 3986 unreserved characters: everything else is percent-encoded (upper-case hex).
_UNRESERVED = "-_.~"


def uri_encode(raw: bytes, *, keep_slash: bool) -> str:
    return quote(raw, safe=_UNRESERVED + ("/" if keep_slash else ""))


def canonical_uri(raw_path: str) -> str:
    """The path as S3 canonicalises it: decoded, then every byte but the unreserved ones and
    ``/`` encoded once. Equivalent spellings (``%7E`` and ``~``) sign alike; a path the signer
    encoded twice does not match what it sent."""
    return uri_encode(unquote_to_bytes(raw_path or "/"), keep_slash=True)


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Names and values decoded then encoded (``/`` too), sorted by name then value; a name
    without ``=`` has an empty value."""
    encoded = sorted(
        (uri_encode(unquote_to_bytes(name), keep_slash=False),
         uri_encode(unquote_to_bytes(value), keep_slash=False))
        for name, value in pairs
    )  # fmt: skip
    return "&".join(f"{name}={value}" for name, value in encoded)


def split_query(raw_query: str) -> list[tuple[str, str]]:
    """The raw query's parameters, still percent-encoded, in order (``+`` stays ``+``: S3
    reads it as a literal plus in a signed query)."""
    pairs = []
    for part in raw_query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return pairs


def canonical_header_value(values: Sequence[str]) -> str:
    """Every value of one header, trimmed with inner runs of spaces collapsed, joined by ``,``."""
    return ",".join(" ".join(value.split()) for value in values)


def canonical_request(
    method: str,
    raw_path: str,
    query: Iterable[tuple[str, str]],
    headers: Sequence[tuple[str, str]],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    by_name: dict[str, list[str]] = {}
    for name, value in headers:
        by_name.setdefault(name.lower(), []).append(value)
    lines = [method, canonical_uri(raw_path), canonical_query(query)]
    lines += [f"{name}:{canonical_header_value(by_name.get(name, []))}" for name in signed_headers]
    lines += ["", ";".join(signed_headers), payload_hash]
    return "\n".join(lines)


def string_to_sign(algorithm: str, amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{algorithm}\n{amz_date}\n{scope}\n{digest}"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def sigv4_signature(secret: str, date: str, region: str, service: str, to_sign: str) -> str:
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def sigv4_matches(provided: str, secret: str, date: str, region: str, to_sign: str) -> bool:
    expected = sigv4_signature(secret, date, region, "s3", to_sign)
    # Bytes: compare_digest refuses str with non-ASCII characters (a hostile presigned URL).
    return hmac.compare_digest(expected.encode(), provided.lower().encode("utf-8", "replace"))


@lru_cache(maxsize=64)
def sigv4a_public_key(access_key_id: str, secret: str) -> ec.EllipticCurvePublicKey:
    """The public half of the key SigV4A signers derive from these credentials."""
    key = ("AWS4A" + secret).encode("utf-8")
    for counter in range(1, 255):
        fixed = (
            (1).to_bytes(4, "big")
            + SIGV4A.encode("ascii")
            + b"\x00"
            + access_key_id.encode("utf-8")
            + bytes([counter])
            + (256).to_bytes(4, "big")
        )
        candidate = int.from_bytes(hmac.new(key, fixed, hashlib.sha256).digest(), "big")
        if candidate <= _P256_ORDER - 2:
            return ec.derive_private_key(candidate + 1, ec.SECP256R1()).public_key()
    raise ValueError("no SigV4A key for these credentials")  # probability ~2^-8000


def sigv4a_matches(provided: str, access_key_id: str, secret: str, to_sign: str) -> bool:
    try:
        signature = bytes.fromhex(provided)
    except ValueError:
        return False
    try:
        sigv4a_public_key(access_key_id, secret).verify(
            signature, to_sign.encode("utf-8"), ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def spaced_hex(text: str) -> str:
    """S3's ``StringToSignBytes``/``CanonicalRequestBytes``: each byte as two hex digits,
    separated by spaces."""
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8"))
