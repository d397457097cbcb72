"""``[distribution]``: settings of the distribution as a whole — the default root object, the
alternate domain names (aliases) and the geographic restriction (``DefaultRootObject``,
``Aliases``, ``Restrictions.GeoRestriction`` in the API)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edgesim.countries import COUNTRY_CODES
from edgesim.distribution.model import GeoRestriction
from edgesim.distribution.tables import Context, Table, suggest

DISTRIBUTION_KEYS = ("default_root_object", "aliases", "geo_restriction")
GEO_KEYS = ("type", "countries")
GEO_TYPES = ("none", "whitelist", "blacklist")
_KNOWN = frozenset(COUNTRY_CODES)


@dataclass(frozen=True)
class DistributionSettings:
    default_root_object: str | None = None
    aliases: tuple[str, ...] = ()
    geo_restriction: GeoRestriction = field(default_factory=GeoRestriction)


def read_distribution_settings(ctx: Context, data: Mapping[str, Any]) -> DistributionSettings:
    t = ctx.table("distribution", data, DISTRIBUTION_KEYS)
    root = t.text("default_root_object")
    if root is not None and (root.startswith("/") or len(root) > 255):
        # The API refuses a leading "/" (InvalidDefaultRootObject); 255 characters at most.
        t.error("default_root_object", "must not start with '/' and be at most 255 characters")
        root = None
    aliases = tuple(alias.lower() for alias in t.texts("aliases") or ())
    return DistributionSettings(root, aliases, _geo(t))


def _geo(t: Table) -> GeoRestriction:
    geo = t.sub("geo_restriction", GEO_KEYS)
    if geo is None:
        return GeoRestriction()
    kind = geo.text("type", "none") or "none"
    if kind not in GEO_TYPES:
        geo.error(
            "type", f"must be one of {', '.join(GEO_TYPES)}, got {kind!r}{suggest(kind, GEO_TYPES)}"
        )
        kind = "none"
    countries = []
    for index, code in enumerate(geo.texts("countries") or ()):
        if code.upper() not in _KNOWN:
            geo.problems.add(
                f"{geo.at('countries')}[{index}]",
                f"{code!r} is not an ISO 3166-1 alpha-2 country code like 'DE'",
            )
        else:
            countries.append(code.upper())
    if kind != "none" and not countries:
        geo.error("countries", f"a {kind} needs at least one country")
        kind = "none"
    return GeoRestriction(kind, frozenset(countries))  # type: ignore[arg-type]
