"""Origins and origin groups: custom (``CustomOriginConfig``: the scheme and port from
``OriginProtocolPolicy`` and ``HTTPPort``/``HTTPSPort``), S3 (``S3OriginConfig``, an
``OriginAccessControlId`` or a bucket REST endpoint as ``DomainName``: ``Origin.s3``) and VPC
origins, their path, custom headers and timeouts; groups of two origins with their failover
status codes. The URL is the deployed one, reached only through ``[origins_local]``
(``overlay.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from edgesim.distribution.model import CustomHeader, Origin, OriginGroup
from edgesim.distribution.origins import (
    DEFAULT_FAILOVER_CODES,
    FAILOVER_CODES,
    FORBIDDEN_ORIGIN_HEADER_PREFIXES,
    FORBIDDEN_ORIGIN_HEADERS,
    MAX_ORIGIN_GROUPS,
    is_s3_rest_endpoint,
)
from edgesim.distribution.tables import header_name_problem
from edgesim.importers.apishape.notes import ACCEPTED, DIFFERS
from edgesim.importers.apishape.shape import Node, as_int, known_names
from edgesim.importers.apishape.state import ConverterState

_HOST = re.compile(r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


class OriginsMixin(ConverterState):
    """Origins and origin groups of a DistributionConfig."""

    def _origins(self, config: Node) -> dict[str, Origin]:
        origins: dict[str, Origin] = {}
        nodes = config.nodes("Origins")
        if "Origins" in config.data and not nodes:
            config.error("Origins", "lists no origin; a distribution needs at least one")
        for node in nodes:
            origin_id = node.text("Id")
            if origin_id is None or not origin_id.strip():
                node.error("Id", "is required")
                continue
            if origin_id in origins:
                node.error("Id", f"duplicate origin id {origin_id!r}")
                continue
            origin = self._origin(node, origin_id)
            if origin is not None:
                origins[origin_id] = origin
                self.where[f"origins.{origin_id}"] = self.problems.place(node.path)
        return origins

    def _origin(self, node: Node, origin_id: str) -> Origin | None:
        domain = node.text("DomainName")
        if domain is None or not domain.strip():
            node.error("DomainName", "is required")
            return None
        domain = domain.strip().rstrip(".")
        if not _HOST.fullmatch(domain):
            node.error("DomainName", f"{domain!r} is not a host name (no scheme, path or port)")
            return None
        custom = node.sub("CustomOriginConfig")
        s3_config = node.sub("S3OriginConfig")
        vpc = node.sub("VpcOriginConfig")
        oac = node.text("OriginAccessControlId")
        is_s3 = (
            custom is None
            and vpc is None
            and (s3_config is not None or bool(oac) or is_s3_rest_endpoint(domain))
        )
        label = f"origin {origin_id}"
        response_timeout = 30
        if custom is not None:
            url = self._custom_origin_url(custom, domain, label)
            response_timeout = custom.integer("OriginReadTimeout", 30, lo=1, hi=120)
            self._custom_origin_notes(custom, label)
        else:
            url = f"https://{domain}"
            if s3_config is not None:
                response_timeout = s3_config.integer("OriginReadTimeout", 30, lo=1, hi=120)
                if s3_config.text("OriginAccessIdentity"):
                    self.notes.add(
                        ACCEPTED + "S3 origin access identity (OAI): a directory mapped to the "
                        "origin is served as the bucket would answer CloudFront",
                        label,
                    )
            if vpc is not None:
                response_timeout = vpc.integer("OriginReadTimeout", 30, lo=1, hi=120)
                self.notes.add(
                    ACCEPTED + "VPC origin: reached at its [origins_local] mapping", label
                )
        if node.has("ResponseCompletionTimeout"):
            self.notes.add(
                DIFFERS + "an origin's ResponseCompletionTimeout is not enforced (only the "
                "connection and read timeouts are)",
                label,
            )
        shield = node.sub("OriginShield")
        if shield is not None and shield.flag("Enabled", False):
            self.notes.add(ACCEPTED + "Origin Shield (one cache layer per POP here)", label)
        return Origin(
            id=origin_id,
            url=url,
            origin_path=self._origin_path(node),
            custom_headers=self._origin_headers(node),
            connect_timeout_s=float(node.integer("ConnectionTimeout", 10, lo=1, hi=10)),
            response_timeout_s=float(response_timeout),
            connection_attempts=node.integer("ConnectionAttempts", 3, lo=1, hi=3),
            s3=is_s3,
        )

    def _custom_origin_url(self, custom: Node, domain: str, label: str) -> str:
        policy = custom.text("OriginProtocolPolicy", "https-only") or "https-only"
        http_port = custom.integer("HTTPPort", 80, lo=1, hi=65535)
        https_port = custom.integer("HTTPSPort", 443, lo=1, hi=65535)
        if policy not in ("http-only", "https-only", "match-viewer"):
            custom.error(
                "OriginProtocolPolicy",
                f"{policy!r} is not one of http-only, https-only, match-viewer",
            )
        if policy == "http-only":
            return f"http://{domain}" + ("" if http_port == 80 else f":{http_port}")
        if policy == "match-viewer":
            self.notes.add(
                ACCEPTED + "OriginProtocolPolicy match-viewer (the origin is reached at its "
                "local URL whatever the viewer's protocol)",
                label,
            )
        return f"https://{domain}" + ("" if https_port == 443 else f":{https_port}")

    def _custom_origin_notes(self, custom: Node, label: str) -> None:
        if any(custom.has(k) for k in ("OriginSslProtocols", "OriginKeepaliveTimeout")):
            self.notes.add(
                ACCEPTED + "OriginSslProtocols, OriginKeepaliveTimeout (local origins are "
                "reached as mapped)",
                label,
            )
        if custom.has("IpAddressType"):
            self.notes.add(ACCEPTED + "IpAddressType", label)
        if custom.has("OriginMtlsConfig"):
            self.notes.add(ACCEPTED + "origin mutual TLS (OriginMtlsConfig)", label)
        if custom.has("OriginHttpVersion"):
            self.notes.add(
                ACCEPTED + "OriginHttpVersion (origins are reached over HTTP/1.1)", label
            )

    def _origin_path(self, node: Node) -> str:
        value = node.text("OriginPath", "") or ""
        if value and (not value.startswith("/") or value.endswith("/") or len(value) > 255):
            node.error(
                "OriginPath", f"{value!r} must start with '/', not end with '/', ≤ 255 chars"
            )
            return ""
        return value

    def _origin_headers(self, node: Node) -> tuple[CustomHeader, ...]:
        headers: list[CustomHeader] = []
        seen: set[str] = set()
        for item in node.nodes("CustomHeaders"):
            name, value = item.text("HeaderName"), item.text("HeaderValue")
            if name is None or value is None:
                item.error(None, "needs HeaderName and HeaderValue")
                continue
            lower = name.lower()
            problem = header_name_problem(name)
            if problem is None and (
                lower in FORBIDDEN_ORIGIN_HEADERS
                or lower.startswith(FORBIDDEN_ORIGIN_HEADER_PREFIXES)
            ):
                problem = f"CloudFront cannot add {name!r} to origin requests"
            if problem is None and lower in seen:
                problem = f"header {name!r} is listed twice (header names ignore case)"
            if problem:
                item.error("HeaderName", problem)
                continue
            seen.add(lower)
            headers.append(CustomHeader(name, value))
        return tuple(headers)

    def _origin_groups(self, config: Node, origins: Mapping[str, Origin]) -> dict[str, OriginGroup]:
        groups: dict[str, OriginGroup] = {}
        nodes = config.nodes("OriginGroups")
        if len(nodes) > MAX_ORIGIN_GROUPS:
            config.error(
                "OriginGroups", f"{len(nodes)} origin groups; CloudFront allows {MAX_ORIGIN_GROUPS}"
            )
        for node in nodes:
            group_id = node.text("Id")
            if group_id is None or not group_id.strip():
                node.error("Id", "is required")
                continue
            if group_id in groups or group_id in origins:
                node.error("Id", f"duplicate origin or group id {group_id!r}")
                continue
            members = self._group_members(node, origins)
            if members is None:
                continue
            criteria = node.sub("FailoverCriteria")
            codes = DEFAULT_FAILOVER_CODES
            if criteria is None:
                node.error("FailoverCriteria", "is required (StatusCodes to fail over on)")
            else:
                codes = self._failover_codes(criteria)
            selection = node.text("SelectionCriteria", "default")
            if selection not in (None, "default"):
                self.notes.add(
                    ACCEPTED + f"origin group SelectionCriteria {selection} (failover as "
                    "'default')",
                    f"group {group_id}",
                )
            groups[group_id] = OriginGroup(group_id, members[0], members[1], codes)
            self.where[f"origin_groups.{group_id}"] = self.problems.place(node.path)
        return groups

    def _group_members(self, node: Node, origins: Mapping[str, Origin]) -> tuple[str, str] | None:
        if not node.has("Members"):
            node.error("Members", "is required (two origins)")
            return None
        ids = []
        members = node.nodes("Members")
        for member in members:
            origin_id = member.text("OriginId")
            if origin_id is None:
                member.error("OriginId", "is required")
            elif origin_id not in origins:
                member.error("OriginId", f"unknown origin {origin_id!r}{known_names(origins)}")
            else:
                ids.append(origin_id)
        if len(ids) != len(members):
            return None  # reported above
        if len(ids) != 2 or ids[0] == ids[1]:
            node.error("Members", "an origin group has exactly two different origins")
            return None
        return ids[0], ids[1]

    def _failover_codes(self, criteria: Node) -> frozenset[int]:
        if not criteria.has("StatusCodes"):
            criteria.error("StatusCodes", "is required")
            return DEFAULT_FAILOVER_CODES
        allowed = ", ".join(map(str, sorted(FAILOVER_CODES)))
        codes = set()
        entries = criteria.items("StatusCodes")
        for path, item in entries:
            code = as_int(item)
            if code is None or code not in FAILOVER_CODES:
                self.problems.add(path, f"{item!r} is not one of {allowed}")
            else:
                codes.add(code)
        if not entries:
            criteria.error("StatusCodes", f"needs at least one status code from {allowed}")
        return frozenset(codes) or DEFAULT_FAILOVER_CODES
