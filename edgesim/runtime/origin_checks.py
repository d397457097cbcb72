"""Origin-modification helper calls, checked once when recorded (AWS Developer Guide, "Helper
methods for origin modification").

Each call becomes an :class:`OriginModification` carrying its problems. TestFunction does not
evaluate them, so ``edgesim test`` reports the problems as warnings; ``serve`` answers 502 as
CloudFront does ("The CloudFront function returned an invalid value for origin rewrite.").
Both read the same problems (``InvocationResult.origin_problems``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from edgesim.runtime.event import VIEWER_REQUEST
from edgesim.runtime.result import is_disallowed

_UPDATE_KEYS = frozenset(
    {
        "domainName", "hostHeader", "originPath", "customHeaders", "connectionAttempts",
        "originShield", "originAccessControlConfig", "timeouts", "customOriginConfig",
        "ipAddressType", "sni", "allowedCertificateNames",
        # AWS's select-origin-based-on-country sample also passes `region`.
        "region",
    }
)  # fmt: skip
_OVERRIDE_KEYS = frozenset({"hostHeader", "sni", "allowedCertificateNames"})


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _host_name(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, str) or not value:
        problems.append(f"{where} must be a non-empty string")
    elif ":" in value or _is_ip(value) or len(value) > 253:
        problems.append(f"{where} must be a DNS name of at most 253 characters, without ':' or IP")


def _int_range(value: Any, low: int, high: int, where: str, problems: list[str]) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        problems.append(f"{where} must be an integer from {low} to {high} (got {value!r})")


def _overrides(props: dict[str, Any], allowed: frozenset[str], where: str) -> list[str]:
    problems = [f"{where}.{k} is not a known property" for k in props if k not in allowed]
    for key in ("hostHeader", "sni"):
        if key in props:
            _host_name(props[key], f"{where}.{key}", problems)
    names = props.get("allowedCertificateNames")
    if names is not None and (
        not isinstance(names, list)
        or len(names) > 20
        or not all(isinstance(n, str) and len(n) <= 64 for n in names)
    ):
        problems.append(
            f"{where}.allowedCertificateNames must be up to 20 names of ≤ 64 characters"
        )
    return problems


def _update(props: Any) -> list[str]:
    where = "updateRequestOrigin"
    if not isinstance(props, dict):
        return [f"{where} takes an object of origin properties"]
    problems = _overrides(props, _UPDATE_KEYS, where)
    if "domainName" in props:
        _host_name(props["domainName"], f"{where}.domainName", problems)
    path = props.get("originPath")
    if path is not None and (
        not isinstance(path, str)
        or not path.startswith("/")
        or path.endswith("/")
        or len(path) > 255
    ):
        problems.append(
            f"{where}.originPath must start with '/', not end with '/', ≤ 255 characters"
        )
    headers = props.get("customHeaders")
    if headers is not None:
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            problems.append(
                f"{where}.customHeaders must be a flat {{name: value}} object of strings"
            )
        else:
            for name in headers:
                if name != name.lower() or is_disallowed(name):
                    problems.append(f"{where}.customHeaders.{name}: lowercase, allowed names only")
    if "connectionAttempts" in props:
        _int_range(props["connectionAttempts"], 1, 3, f"{where}.connectionAttempts", problems)
    timeouts = props.get("timeouts")
    if timeouts is not None:
        if not isinstance(timeouts, dict):
            problems.append(f"{where}.timeouts must be an object")
        else:
            for key, high in (
                ("readTimeout", 120),
                ("keepAliveTimeout", 120),
                ("connectionTimeout", 10),
            ):
                if key in timeouts:
                    _int_range(timeouts[key], 1, high, f"{where}.timeouts.{key}", problems)
    config = props.get("customOriginConfig")
    if isinstance(config, dict):
        if "port" in config:
            _int_range(config["port"], 1, 65535, f"{where}.customOriginConfig.port", problems)
        if config.get("protocol", "http") not in ("http", "https"):
            problems.append(f"{where}.customOriginConfig.protocol must be 'http' or 'https'")
    if "ipAddressType" in props:
        if props["ipAddressType"] not in ("ipv4", "ipv6", "dualstack"):
            problems.append(f"{where}.ipAddressType must be 'ipv4', 'ipv6' or 'dualstack'")
        if "domainName" not in props:
            problems.append(f"{where}.ipAddressType is only allowed together with domainName")
    shield = props.get("originShield")
    if isinstance(shield, dict) and shield.get("enabled") and not shield.get("region"):
        problems.append(f"{where}.originShield.region is required when enabled")
    return problems


def _select(argument: Any) -> list[str]:
    where = "selectRequestOriginById"
    # The shim records [originId, overrides] when overrides are given, else the id alone.
    origin_id, overrides = (
        (argument[0], argument[1])
        if isinstance(argument, list) and len(argument) == 2
        else (argument, None)
    )
    problems = [] if isinstance(origin_id, str) and origin_id else [f"{where} needs an origin id"]
    if overrides is not None:
        if not isinstance(overrides, dict):
            problems.append(f"{where}: overrides must be an object")
        else:
            problems.extend(_overrides(overrides, _OVERRIDE_KEYS, f"{where} overrides"))
    return problems


def _group(props: Any) -> list[str]:
    where = "createRequestOriginGroup"
    if not isinstance(props, dict):
        return [f"{where} takes an object"]
    problems = []
    ids = props.get("originIds")
    if not isinstance(ids, list) or len(ids) != 2:
        problems.append(f"{where}.originIds must list exactly two origins (primary, secondary)")
    else:
        for i, item in enumerate(ids):
            ok = isinstance(item, str) or (
                isinstance(item, dict) and isinstance(item.get("originId"), str)
            )
            if not ok:
                problems.append(
                    f"{where}.originIds[{i}] must be an id or {{originId, originOverrides}}"
                )
    criteria = props.get("failoverCriteria")
    codes = criteria.get("statusCodes") if isinstance(criteria, dict) else None
    if not isinstance(codes, list) or not codes or not all(isinstance(c, int) for c in codes):
        problems.append(f"{where}.failoverCriteria.statusCodes must be a non-empty list of codes")
    if props.get("selectionCriteria", "default") not in ("default", "media-quality-score"):
        problems.append(f"{where}.selectionCriteria must be 'default' or 'media-quality-score'")
    return problems


OriginHelper = Literal["updateRequestOrigin", "selectRequestOriginById", "createRequestOriginGroup"]

_CHECKS: dict[str, Callable[[Any], list[str]]] = {
    "updateRequestOrigin": _update,
    "selectRequestOriginById": _select,
    "createRequestOriginGroup": _group,
}


def _problems(event_type: str, helper: str, argument: Any) -> list[str]:
    if event_type != VIEWER_REQUEST:
        return [f"{helper} can only be used in viewer-request functions"]
    return _CHECKS[helper](argument)


@dataclass(frozen=True)
class OriginModification:
    """One origin-modification helper call, in call order, as the function made it.

    ``argument`` is the helper's argument as JSON data, taken at the call: an object of origin
    properties for ``updateRequestOrigin`` and ``createRequestOriginGroup``; for
    ``selectRequestOriginById`` the origin id, or ``[originId, overrides]`` when overrides were
    given. ``problems`` says what CloudFront would reject (empty when the call is valid).
    """

    helper: OriginHelper
    argument: Any
    problems: tuple[str, ...]

    @classmethod
    def checked(cls, event_type: str, helper: str, argument: Any) -> OriginModification:
        """The call, with the problems CloudFront finds in it for an ``event_type`` function."""
        if helper not in _CHECKS:
            raise ValueError(f"{helper!r} is not an origin-modification helper")
        return cls(
            cast(OriginHelper, helper), argument, tuple(_problems(event_type, helper, argument))
        )

    def as_dict(self) -> dict[str, Any]:
        """``{"helper": …, "argument": …}``: how ``edgesim test`` prints the call."""
        return {"helper": self.helper, "argument": self.argument}


def origin_modifications(
    event_type: str, calls: Sequence[Mapping[str, Any]]
) -> list[OriginModification]:
    """The recorded calls (``{"helper", "argument"}`` from the shim), each checked once."""
    return [OriginModification.checked(event_type, c["helper"], c["argument"]) for c in calls]
