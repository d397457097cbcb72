"""Key pairs made at test time (no private key is committed) and signed URLs made the way users
make them: botocore's ``CloudFrontSigner`` with a ``cryptography`` signer, as boto3's
documentation shows."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@lru_cache(maxsize=8)
def private_key(kind: str = "rsa", n: int = 0) -> PrivateKey:
    """A fresh key (cached per process: RSA generation is the slow part); ``n`` tells keys of
    the same kind apart."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec384":
        return ec.generate_private_key(ec.SECP384R1())
    raise ValueError(kind)


def public_pem(kind: str = "rsa", n: int = 0) -> str:
    return (
        private_key(kind, n)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(kind: str = "rsa", n: int = 0) -> str:
    return (
        private_key(kind, n)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def raw_signer(key: PrivateKey, algorithm: str = "SHA1"):  # type: ignore[no-untyped-def]
    chosen: hashes.HashAlgorithm = hashes.SHA256() if algorithm == "SHA256" else hashes.SHA1()

    def sign(message: bytes) -> bytes:
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(message, padding.PKCS1v15(), chosen)
        return key.sign(message, ec.ECDSA(chosen))

    return sign


def signer(key_id: str, kind: str = "rsa", algorithm: str = "SHA1", n: int = 0) -> CloudFrontSigner:
    return CloudFrontSigner(key_id, raw_signer(private_key(kind, n), algorithm))


def at(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def canned_url(url: str, key_id: str, expires: int, *, kind: str = "rsa", algorithm: str = "SHA1",
               n: int = 0) -> str:  # fmt: skip
    signed = signer(key_id, kind, algorithm, n).generate_presigned_url(
        url, date_less_than=at(expires)
    )
    return signed + ("&Hash-Algorithm=SHA256" if algorithm == "SHA256" else "")


def custom_url(
    url: str,
    key_id: str,
    *,
    resource: str | None = None,
    less_than: int,
    greater_than: int | None = None,
    ip: str | None = None,
    kind: str = "rsa",
    algorithm: str = "SHA1",
    n: int = 0,
) -> str:
    s = signer(key_id, kind, algorithm, n)
    policy = s.build_policy(
        resource or url,
        at(less_than),
        date_greater_than=at(greater_than) if greater_than is not None else None,
        ip_address=ip,
    )
    signed = s.generate_presigned_url(url, policy=policy)
    return signed + ("&Hash-Algorithm=SHA256" if algorithm == "SHA256" else "")


def cookies_from(signed_url: str) -> dict[str, str]:
    """The signed cookies carrying what ``signed_url``'s signing parameters carry."""
    query = signed_url.split("?", 1)[1]
    names = ("Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm")
    out = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name in names:
            out["CloudFront-" + name] = value
    return out
