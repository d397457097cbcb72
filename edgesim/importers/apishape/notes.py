"""What the model does not emulate, as ``Distribution.notes``: one line per kind of thing
("accepted, not emulated: …" or "not emulated: requests will differ because …") naming every
place it was seen (``Notes``), and the note for each DistributionConfig member the model has no
place for (``distribution_member_note``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ACCEPTED = "accepted, not emulated: "


DIFFERS = "not emulated: requests will differ because "


# Members that describe the distribution rather than change what a viewer gets.
METADATA = frozenset({"CallerReference", "Comment", "Tags"})


class Notes:
    def __init__(self) -> None:
        self._lines: dict[str, list[str]] = {}

    def add(self, line: str, place: str | None = None) -> None:
        places = self._lines.setdefault(line, [])
        if place is not None and place not in places:
            places.append(place)

    def lines(self) -> tuple[str, ...]:
        out = []
        for line, places in self._lines.items():
            out.append(f"{line} ({', '.join(places)})" if places else line)
        return tuple(out)


def distribution_member_note(key: str, value: Any) -> str | None:
    """The note for a DistributionConfig member the model does not emulate (None: nothing to
    say, e.g. a default or an empty value)."""
    if isinstance(value, str | list | Mapping) and not value:
        return None
    if key == "Enabled":
        if value is False or str(value).lower() == "false":
            return ACCEPTED + "Enabled = false (CloudFront would not serve it; edgesim does)"
        return None
    if key == "WebACLId":
        return DIFFERS + f"the AWS WAF web ACL is not applied ({value}): every request passes"
    if key == "Logging":
        enabled = value.get("Enabled", True) if isinstance(value, Mapping) else True
        if enabled is False or str(enabled).lower() == "false":
            return None
        return ACCEPTED + "standard logs (Logging); [server] access_log writes a local one"
    if key == "PriceClass":
        if value == "PriceClass_All":
            return None
        return ACCEPTED + f"PriceClass {value} (the POPs are [edges] pops)"
    if key == "ViewerCertificate":
        return ACCEPTED + "ViewerCertificate (edgesim's HTTPS listener uses a local certificate)"
    if key == "HttpVersion":
        return None if value == "http1.1" else ACCEPTED + f"HttpVersion {value} (HTTP/1.1 here)"
    if key == "IsIPV6Enabled":
        return None if value in (False, "false") else ACCEPTED + "IsIPV6Enabled"
    if key == "ContinuousDeploymentPolicyId":
        return DIFFERS + "continuous deployment is not emulated: no traffic goes to a staging copy"
    if key == "Staging":
        return None if value in (False, "false") else ACCEPTED + "Staging (served as primary)"
    if key == "AnycastIpListId":
        return ACCEPTED + "AnycastIpListId"
    if key == "ViewerMtlsConfig":
        return DIFFERS + "viewer mutual TLS (ViewerMtlsConfig) is not checked"
    if key == "ConnectionFunctionAssociation":
        return DIFFERS + "the connection function (ConnectionFunctionAssociation) does not run"
    if key in ("TenantConfig", "ConnectionMode", "CacheTagConfig"):
        return ACCEPTED + key
    return f"not recognised, ignored: DistributionConfig.{key}"
