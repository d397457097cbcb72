"""``edgesim sign URL``: a signed URL (or, with ``--cookies``, signed cookies) for the private
content a behaviour with ``trusted_key_groups`` serves, as ``aws cloudfront sign`` and
``aws cloudfront sign-cookies`` make them.

As the AWS CLI's reference says: "A custom policy is used when --date-greater-than or
--ip-address is provided, when the signed resource contains a ``*`` wildcard, or when
--policy-resource differs from --url; otherwise a canned policy is used"; RSA and ECDSA private
keys are told apart by their PEM; ``--hash-algorithm SHA256`` adds ``Hash-Algorithm=SHA256``
(cookie ``CloudFront-Hash-Algorithm``). The policy and signature follow the Developer Guide
(edgesim/edge/signed_policy.py). Dates: ISO 8601, epoch seconds, or a duration from now
(``90s``, ``15m``, ``1h``, ``7d``).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from edgesim.edge.signed_policy import canned_policy, url_safe_b64encode
from edgesim.edge.signed_urls import URL_PARAMETERS
from edgesim.errors import InputError

_DURATION = re.compile(r"(\d+)(ms|s|m|h|d)")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sign",
        help="make a signed URL or signed cookies for private content",
        description="Sign URL for a behaviour with trusted_key_groups, as `aws cloudfront sign` "
        "(or, with --cookies, `aws cloudfront sign-cookies`) does. A custom policy is used when "
        "--date-greater-than or --ip-address is given, when the resource has a '*', or when "
        "--policy-resource differs from URL; otherwise a canned policy.",
    )
    p.add_argument("url", help="the URL to sign, e.g. http://127.0.0.1:8080/private/a.pdf")
    p.add_argument("--key-pair-id", required=True, help="the public key's id ([[public_keys]] id)")
    p.add_argument("--private-key", required=True, type=Path, help="the private key (PEM file)")
    p.add_argument(
        "--date-less-than",
        required=True,
        help="expiry: ISO 8601, epoch seconds, or a duration from now (90s, 15m, 1h, 7d)",
    )
    p.add_argument("--date-greater-than", help="start of validity (same forms)")
    p.add_argument("--ip-address", help="viewer IP or CIDR block allowed (custom policy)")
    p.add_argument("--policy-resource", help="the policy's Resource (may use * and ?); default URL")
    p.add_argument("--hash-algorithm", choices=("SHA1", "SHA256"), default="SHA1")
    p.add_argument(
        "--cookies",
        action="store_true",
        help="print signed cookies instead, one NAME=VALUE per line (add Domain, Path, Secure, "
        "HttpOnly when setting them)",
    )
    p.add_argument("--json", action="store_true", help="with --cookies: a JSON name → value map")
    p.add_argument(
        "--now",
        help="the time durations count from (ISO 8601), e.g. serve's clock; default: real time",
    )
    p.set_defaults(handler=cmd_sign)


def cmd_sign(args: argparse.Namespace) -> int:
    now = _now(args.now)
    less = parse_time(args.date_less_than, now, "--date-less-than")
    greater = (
        None
        if args.date_greater_than is None
        else parse_time(args.date_greater_than, now, "--date-greater-than")
    )
    url = _checked_url(args.url)
    key = load_private_key(args.private_key)
    values = sign(
        url,
        key_pair_id=args.key_pair_id,
        key=key,
        date_less_than=less,
        date_greater_than=greater,
        ip_address=args.ip_address,
        policy_resource=args.policy_resource,
        hash_algorithm=args.hash_algorithm,
        cookies=args.cookies,
    )
    if not args.cookies:
        print(with_parameters(url, values))
    elif args.json:
        print(json.dumps({f"CloudFront-{k}": v for k, v in values.items()}, indent=2))
    else:
        for name, value in values.items():
            print(f"CloudFront-{name}={value}")
    return 0


def sign(
    url: str,
    *,
    key_pair_id: str,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    date_less_than: int,
    date_greater_than: int | None = None,
    ip_address: str | None = None,
    policy_resource: str | None = None,
    hash_algorithm: str = "SHA1",
    cookies: bool = False,
) -> dict[str, str]:
    """The signing values (names without ``CloudFront-``), in the order CloudFront's examples
    give them."""
    resource = policy_resource or url
    custom = (
        date_greater_than is not None
        or ip_address is not None
        or "*" in resource
        or resource != url
    )
    values: dict[str, str] = {}
    if custom:
        condition: dict[str, Any] = {"DateLessThan": {"AWS:EpochTime": date_less_than}}
        if ip_address is not None:
            condition["IpAddress"] = {
                "AWS:SourceIp": ip_address if "/" in ip_address else ip_address + "/32"
            }
        if date_greater_than is not None:
            condition["DateGreaterThan"] = {"AWS:EpochTime": date_greater_than}
        statement = {"Statement": [{"Resource": resource, "Condition": condition}]}
        policy = json.dumps(statement, separators=(",", ":")).encode()
        values["Policy"] = url_safe_b64encode(policy)
    else:
        policy = canned_policy(resource, date_less_than)
        values["Expires"] = str(date_less_than)
    values["Signature"] = url_safe_b64encode(_signature(key, policy, hash_algorithm))
    values["Key-Pair-Id"] = key_pair_id
    if hash_algorithm == "SHA256":
        values["Hash-Algorithm"] = "SHA256"
    return values


def with_parameters(url: str, values: dict[str, str]) -> str:
    query = "&".join(f"{k}={v}" for k, v in values.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _signature(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, message: bytes, algorithm: str
) -> bytes:
    chosen: hashes.HashAlgorithm = hashes.SHA256() if algorithm == "SHA256" else hashes.SHA1()
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), chosen)
    return key.sign(message, ec.ECDSA(chosen))


def load_private_key(path: Path) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"--private-key {path}: cannot read it: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        why = " ".join(str(exc).split()) or "not a PEM private key"
        raise InputError(
            f"--private-key {path}: not an unencrypted PEM private key ({why})"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise InputError(f"--private-key {path}: CloudFront signs with RSA or ECDSA keys only")
    return key


def _checked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"URL {url!r}: give an absolute http:// or https:// URL")
    if parts.fragment:
        raise InputError(f"URL {url!r}: remove the fragment (#…); viewers never send it")
    names = {part.partition("=")[0] for part in parts.query.split("&")} if parts.query else set()
    taken = sorted(names & set(URL_PARAMETERS))
    if taken:
        raise InputError(f"URL {url!r}: already has signing parameters ({', '.join(taken)})")
    return url


def _now(text: str | None) -> float:
    if text is None:
        return time.time()
    return _iso(text, "--now")


def parse_time(text: str, now: float, option: str) -> int:
    """Epoch seconds from ISO 8601, epoch seconds, or a duration from ``now``."""
    text = text.strip()
    match = _DURATION.fullmatch(text)
    if match:
        return int(now + int(match[1]) * _UNIT_S[match[2]])
    if text.isdigit():
        return int(text)
    return int(_iso(text, option))


def _iso(text: str, option: str) -> float:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{option} {text!r}: give an ISO 8601 time (2030-01-01T09:00:00Z), epoch seconds, "
            "or a duration such as 90s, 15m, 1h, 7d"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a time without an offset is taken as UTC
    return moment.timestamp()
