"""CloudFront's signed-URL policies: the URL-safe base64, the canned and custom policy
statements, their conditions, and the signature check.

Facts (Developer Guide, "Create a signed URL using a canned policy" / "… a custom policy",
"Set signed cookies using a canned policy" / "… a custom policy", "Code examples for creating a
signature for a signed URL"):

- The policy is JSON with white space removed; the ``Policy`` value is its base64 with the
  characters invalid in a query string replaced: ``+`` → ``-``, ``=`` → ``_``, ``/`` → ``~``
  (the same table for ``Signature``; botocore's ``CloudFrontSigner._url_b64encode`` does it).
- A canned policy is never sent: CloudFront rebuilds
  ``{"Statement":[{"Resource":URL,"Condition":{"DateLessThan":{"AWS:EpochTime":N}}}]}``
  from the request and checks the signature against it, so the order of its members matters.
- A custom policy has exactly one statement; ``Resource`` is optional ("If you omit the Resource
  parameter, users can access all of the objects associated with any distribution that is
  associated with the key pair") and may use ``*`` (zero or more characters) and ``?`` (exactly
  one) anywhere; ``DateLessThan`` is required, ``DateGreaterThan`` and ``IpAddress`` optional;
  epoch times are numbers in seconds ("Do not enclose the value in quotation marks"); parameter
  names are exact ("Abbreviations for parameter names are not accepted").
- The signature is RSA (PKCS#1 v1.5) or ECDSA over the policy bytes, hashed with SHA-1, or with
  SHA-256 when the URL says ``Hash-Algorithm=SHA256`` (cookie ``CloudFront-Hash-Algorithm``);
  keys are "RSA 2048 or ECDSA 256" (API reference, ``PublicKey``).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from edgesim.distribution.trusted_keys import PublicKey, load_public_key

_TO_URL_SAFE = bytes.maketrans(b"+=/", b"-_~")
_FROM_URL_SAFE = str.maketrans("-_~", "+=/")

HASH_ALGORITHMS = ("SHA1", "SHA256")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class MalformedPolicy(ValueError):
    """The policy cannot be read (CloudFront: ``MalformedPolicy``)."""


class MalformedSignature(ValueError):
    """The signature is not CloudFront's base64 (CloudFront: ``MalformedSignature``)."""


def url_safe_b64encode(data: bytes) -> str:
    return base64.b64encode(data).translate(_TO_URL_SAFE).decode("ascii")


def url_safe_b64decode(text: str) -> bytes:
    """CloudFront's base64 back to bytes; the standard alphabet is read too (a signer that
    skipped the replacement). ``ValueError`` when it is not base64."""
    try:
        return base64.b64decode(text.translate(_FROM_URL_SAFE), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(str(exc)) from None


@dataclass(frozen=True)
class Policy:
    """One policy statement, canned or custom."""

    resource: str | None  # None: any resource (custom policies only)
    date_less_than: int
    date_greater_than: int | None = None
    ip_address: Network | None = None


def canned_policy(resource: str, expires: int) -> bytes:
    """The statement CloudFront rebuilds for a canned policy, byte for byte (member order as the
    Developer Guide writes it; ``json.dumps`` escapes as botocore's ``build_policy`` does)."""
    return (
        '{"Statement":[{"Resource":' + json.dumps(resource) + ',"Condition":'
        '{"DateLessThan":{"AWS:EpochTime":' + str(expires) + "}}}]}"
    ).encode()


def parse_policy(data: bytes) -> Policy:
    """A custom policy statement (the decoded ``Policy`` value); ``MalformedPolicy`` says why
    it cannot be used."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPolicy(f"not JSON: {exc}") from None
    except RecursionError:  # arrays nested past the parser's depth: no policy looks like that
        raise MalformedPolicy("not JSON: nested too deeply") from None
    top = _members(doc, "the policy", required=("Statement",), allowed=("Statement",))
    statements = top["Statement"]
    if not isinstance(statements, list) or len(statements) != 1:
        raise MalformedPolicy("Statement must be an array of exactly one statement")
    statement = _members(
        statements[0], "the statement", required=("Condition",), allowed=("Resource", "Condition")
    )
    resource = statement.get("Resource")
    if resource is not None and not isinstance(resource, str):
        raise MalformedPolicy("Resource must be a string")
    condition = _members(
        statement["Condition"],
        "Condition",
        required=("DateLessThan",),
        allowed=("DateLessThan", "DateGreaterThan", "IpAddress"),
    )
    greater = condition.get("DateGreaterThan")
    ip = condition.get("IpAddress")
    return Policy(
        resource=resource,
        date_less_than=_epoch(condition["DateLessThan"], "DateLessThan"),
        date_greater_than=None if greater is None else _epoch(greater, "DateGreaterThan"),
        ip_address=None if ip is None else _source_ip(ip),
    )


def _members(
    value: Any, what: str, *, required: tuple[str, ...], allowed: tuple[str, ...]
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPolicy(f"{what} must be a JSON object")
    for key in value:
        if key not in allowed:
            raise MalformedPolicy(f"unknown member {key!r} in {what}")
    for key in required:
        if key not in value:
            raise MalformedPolicy(f"{what} has no {key}")
    return value


def _epoch(value: Any, name: str) -> int:
    inner = _members(value, name, required=("AWS:EpochTime",), allowed=("AWS:EpochTime",))
    moment = inner["AWS:EpochTime"]
    if isinstance(moment, bool) or not isinstance(moment, int):
        raise MalformedPolicy(f"{name} AWS:EpochTime must be a number of seconds, not {moment!r}")
    return moment


def _source_ip(value: Any) -> Network:
    inner = _members(value, "IpAddress", required=("AWS:SourceIp",), allowed=("AWS:SourceIp",))
    cidr = inner["AWS:SourceIp"]
    if not isinstance(cidr, str):
        raise MalformedPolicy("IpAddress AWS:SourceIp must be a string")
    try:
        # Host bits set ("192.0.2.10/24") are accepted as the network they are in (unverified).
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise MalformedPolicy(f"IpAddress AWS:SourceIp {cidr!r} is not a CIDR block") from None


@lru_cache(maxsize=256)
def _pattern(resource: str) -> re.Pattern[str]:
    parts = ("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in resource)
    return re.compile("".join(parts), re.DOTALL)


def resource_matches(resource: str, url: str) -> bool:
    """``*`` matches zero or more characters and ``?`` exactly one, anywhere in the string."""
    return _pattern(resource).fullmatch(url) is not None


def denial(policy: Policy, *, urls: tuple[str, ...], now_s: float, client_ip: str) -> str | None:
    """Why ``policy`` does not allow this request (for the log, never the viewer), or None.

    Valid while ``now < DateLessThan`` and, when given, ``now >= DateGreaterThan`` ("Users are
    not allowed to access the object before the specified date and time")."""
    if now_s >= policy.date_less_than:
        return f"expired: DateLessThan {policy.date_less_than} <= now {int(now_s)}"
    if policy.date_greater_than is not None and now_s < policy.date_greater_than:
        return f"not yet valid: DateGreaterThan {policy.date_greater_than} > now {int(now_s)}"
    if policy.ip_address is not None and not _ip_in(client_ip, policy.ip_address):
        return f"viewer IP {client_ip} is not in IpAddress {policy.ip_address}"
    if policy.resource is not None and not any(resource_matches(policy.resource, u) for u in urls):
        return f"Resource {policy.resource!r} does not match {' or '.join(urls)}"
    return None


def _ip_in(client_ip: str, network: Network) -> bool:
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack listener reports IPv4 viewers this way
    return address.version == network.version and address in network


# -- keys and signatures ----------------------------------------------------------------------
@lru_cache(maxsize=64)
def cached_public_key(pem: bytes) -> PublicKey:
    return load_public_key(pem)


def signature_valid(key: PublicKey, signature: bytes, message: bytes, algorithm: str) -> bool:
    chosen: hashes.HashAlgorithm = hashes.SHA256() if algorithm == "SHA256" else hashes.SHA1()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), chosen)
        else:
            key.verify(signature, message, ec.ECDSA(chosen))
    except InvalidSignature:
        return False
    return True
