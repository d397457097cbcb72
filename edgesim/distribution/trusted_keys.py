"""``[[public_keys]]``, ``[[key_groups]]`` and ``[private_content]``: the keys signed URLs and
signed cookies are checked with, the groups a behaviour's ``trusted_key_groups`` names, and
edgesim's settings where CloudFront documents nothing (docs/private-content.md).

A public key is ``pem`` (a file relative to the configuration) or ``encoded_key`` (the PEM text,
the API's ``PublicKeyConfig.EncodedKey``); CloudFront takes "RSA 2048 or ECDSA 256" keys (API
reference, ``PublicKey``). Every key is parsed here, so a bad one stops start-up naming its key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from edgesim.distribution.model import KeyGroupDecl, PrivateContent, PublicKeyDecl
from edgesim.distribution.tables import Context, Table, suggest, unique

PUBLIC_KEY_KEYS = ("id", "pem", "encoded_key", "comment")
KEY_GROUP_KEYS = ("name", "keys", "comment")
PRIVATE_CONTENT_KEYS = ("strip_signing_parameters", "check")
CHECK_ORDERS = ("before-function", "after-function")

# Key ids travel in query strings and cookies (Key-Pair-Id): CloudFront's are like
# K2JCJMDEHXQW5F; locally any name of these characters (an imported resource's logical name).
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")
# KeyGroupConfig.Name and PublicKeyConfig.Name: at most 128 characters (API reference).
_GROUP_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")


PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def load_public_key(pem: bytes) -> PublicKey:
    """A PEM public key CloudFront accepts for signed URLs ("RSA 2048 or ECDSA 256", API
    reference ``PublicKey``); ``ValueError`` naming what is wrong otherwise."""
    key = serialization.load_pem_public_key(pem)
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size != 2048:
            raise ValueError(f"an RSA key of {key.key_size} bits; CloudFront takes RSA 2048")
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name != "secp256r1":
            raise ValueError(
                f"an ECDSA key on {key.curve.name}; CloudFront takes ECDSA 256 (P-256)"
            )
        return key
    raise ValueError(
        f"a {type(key).__name__.lstrip('_')}; CloudFront takes RSA 2048 or ECDSA 256 keys"
    )


def read_public_keys(ctx: Context, doc: Mapping[str, Any]) -> dict[str, PublicKeyDecl]:
    keys: dict[str, PublicKeyDecl] = {}
    seen: dict[str, str] = {}
    for t in ctx.entries(doc, "public_keys", PUBLIC_KEY_KEYS, required=("id",)):
        key_id = t.text("id")
        t.text("comment")
        if key_id is not None and not _KEY_ID.fullmatch(key_id):
            t.error("id", f"key id {key_id!r} must be 1-128 characters from A-Z a-z 0-9 _ . -")
            key_id = None
        pem = _pem(ctx, t)
        if key_id is None or not unique(t, "id", key_id, seen, "public key id"):
            continue
        if pem is not None:
            keys[key_id] = PublicKeyDecl(id=key_id, pem=pem)
    return keys


def _pem(ctx: Context, t: Table) -> bytes | None:
    if t.has("pem") == t.has("encoded_key"):
        t.error(None, "give exactly one of pem (a file) and encoded_key (the PEM text)")
        return None
    if t.has("encoded_key"):
        text = t.text("encoded_key")
        return None if text is None else _checked(t, "encoded_key", text.encode(), "the key")
    path = ctx.existing_file(t, "pem", "key file")
    if path is None or not path.is_file():
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        t.error("pem", f"cannot read {path}: {exc.strerror}")
        return None
    return _checked(t, "pem", data, f"{path}")


def _checked(t: Table, key: str, data: bytes, what: str) -> bytes | None:
    if b"PRIVATE KEY" in data:
        t.error(key, f"{what} is a private key; give the public key (keep the private one secret)")
        return None
    try:
        load_public_key(data)
    except ValueError as exc:
        t.error(key, f"{what} is not a PEM public key CloudFront accepts: {_one_line(exc)}")
        return None
    return data


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def read_key_groups(
    ctx: Context, doc: Mapping[str, Any], public_keys: Mapping[str, PublicKeyDecl]
) -> dict[str, KeyGroupDecl]:
    groups: dict[str, KeyGroupDecl] = {}
    seen: dict[str, str] = {}
    for t in ctx.entries(doc, "key_groups", KEY_GROUP_KEYS, required=("name", "keys")):
        name = t.text("name")
        t.text("comment")
        if name is not None and not _GROUP_NAME.fullmatch(name):
            t.error(
                "name", f"key group name {name!r} must be 1-128 characters from A-Z a-z 0-9 _ . -"
            )
            name = None
        keys = t.texts("keys")
        if keys is not None and not keys:
            t.error("keys", "a key group needs at least one public key (KeyGroupConfig.Items)")
        for key_id in keys or ():
            if key_id not in public_keys:
                t.error("keys", f"unknown public key {key_id!r}{_known(key_id, public_keys)}")
        if name is None or not unique(t, "name", name, seen, "key group"):
            continue
        groups[name] = KeyGroupDecl(name=name, keys=tuple(dict.fromkeys(keys or ())))
    return groups


def _known(name: str, names: Mapping[str, object]) -> str:
    hint = suggest(name, names)
    if hint:
        return hint
    return f" (declared: {', '.join(names)})" if names else " (no [[public_keys]] declared)"


def check_trusted_groups(t: Table, names: list[str], groups: Mapping[str, KeyGroupDecl]) -> None:
    """A behaviour's ``trusted_key_groups``: each a declared group."""
    for name in names:
        if name not in groups:
            hint = suggest(name, groups)
            listing = f" (declared: {', '.join(groups)})" if groups and not hint else ""
            none = " (no [[key_groups]] declared)" if not groups else ""
            t.error("trusted_key_groups", f"unknown key group {name!r}{hint}{listing}{none}")


def read_private_content(ctx: Context, data: Mapping[str, Any]) -> PrivateContent:
    t = ctx.table("private_content", data, PRIVATE_CONTENT_KEYS)
    check = t.text("check", CHECK_ORDERS[0]) or CHECK_ORDERS[0]
    if check not in CHECK_ORDERS:
        t.error("check", f"{check!r}: expected {' or '.join(repr(c) for c in CHECK_ORDERS)}")
        check = CHECK_ORDERS[0]
    return PrivateContent(
        strip_signing_parameters=t.flag("strip_signing_parameters", False),
        after_function=check == "after-function",
    )
