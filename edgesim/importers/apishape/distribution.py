"""The DistributionConfig's distribution-wide members: notes for those not emulated, the
required ones, custom error responses, the default root object and the geographic restriction.
"""

from __future__ import annotations

from edgesim.countries import COUNTRY_CODES
from edgesim.distribution.error_responses import ERROR_CODES, RESPONSE_CODES
from edgesim.distribution.model import CustomErrorResponse, GeoRestriction
from edgesim.importers.apishape.notes import METADATA, distribution_member_note
from edgesim.importers.apishape.shape import Node
from edgesim.importers.apishape.state import ConverterState

_COUNTRIES = frozenset(COUNTRY_CODES)


class DistributionMixin(ConverterState):
    """The distribution-wide members."""

    def _distribution_notes(self, config: Node) -> None:
        handled = {
            "Aliases",
            "DefaultRootObject",
            "Origins",
            "OriginGroups",
            "DefaultCacheBehavior",
            "CacheBehaviors",
            "CustomErrorResponses",
            "Restrictions",
        }
        data = config.data
        for key, value in data.items():
            if key in handled or key in METADATA or value is None:
                continue
            note = distribution_member_note(key, value)
            if note is not None:
                self.notes.add(note)
        if "Origins" not in data:
            config.error("Origins", "is required (at least one origin)")
        if "DefaultCacheBehavior" not in data:
            config.error("DefaultCacheBehavior", "is required")

    def _custom_errors(self, config: Node) -> dict[int, CustomErrorResponse]:
        responses: dict[int, CustomErrorResponse] = {}
        codes = ", ".join(map(str, sorted(ERROR_CODES)))
        for node in config.nodes("CustomErrorResponses"):
            code = node.integer("ErrorCode", -1)
            if code not in ERROR_CODES:
                node.error("ErrorCode", f"{node.data.get('ErrorCode')!r} is not one of {codes}")
                continue
            if code in responses:
                node.error("ErrorCode", f"a second custom error response for {code}")
                continue
            page = node.text("ResponsePagePath") or None
            response_code: int | None = None
            if node.text("ResponseCode"):
                response_code = node.integer("ResponseCode", -1)
                if response_code not in RESPONSE_CODES:
                    node.error("ResponseCode", f"{node.data.get('ResponseCode')!r} is not allowed")
                    response_code = None
            if page is not None and not page.startswith("/"):
                node.error("ResponsePagePath", f"{page!r} must start with '/'")
            if (page is None) != (response_code is None):
                node.error(
                    None, "ResponsePagePath and ResponseCode go together: set both or neither"
                )
            responses[code] = CustomErrorResponse(
                error_code=code,
                response_page_path=page,
                response_code=response_code,
                error_caching_min_ttl=node.integer("ErrorCachingMinTTL", 10, lo=0),
            )
            self.where[f"custom_error_responses.{code}"] = self.problems.place(node.path)
        return responses

    def _default_root_object(self, config: Node) -> str | None:
        root = config.text("DefaultRootObject") or None
        if root is not None and (root.startswith("/") or len(root) > 255):
            config.error(
                "DefaultRootObject", "must not start with '/' and be at most 255 characters"
            )
            return None
        return root

    def _geo_restriction(self, config: Node) -> GeoRestriction:
        restrictions = config.sub("Restrictions")
        geo = None if restrictions is None else restrictions.sub("GeoRestriction")
        if geo is None:
            return GeoRestriction()
        kind = geo.text("RestrictionType", "none") or "none"
        if kind not in ("none", "whitelist", "blacklist"):
            geo.error("RestrictionType", f"{kind!r} is not one of none, whitelist, blacklist")
            return GeoRestriction()
        # The API lists countries in Items; CloudFormation calls the list Locations.
        key = "Locations" if geo.has("Locations") else "Items"
        countries = []
        for code in geo.texts(key):
            if code.upper() not in _COUNTRIES:
                geo.error(key, f"{code!r} is not an ISO 3166-1 alpha-2 country code")
            else:
                countries.append(code.upper())
        if kind == "none":
            return GeoRestriction()
        if not countries:
            geo.error(key, f"a {kind} needs at least one country")
            return GeoRestriction()
        return GeoRestriction(kind, frozenset(countries))  # type: ignore[arg-type]
