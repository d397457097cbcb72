"""``ImportBundle`` (the CloudFront API's shapes) → the ``Distribution`` model serve runs.

Every front-end (CloudFormation/CDK, Terraform, the API's DistributionConfig JSON) ends here, so
the meaning of each API member is decided once:

- origins: custom (``CustomOriginConfig``: the scheme and port from ``OriginProtocolPolicy`` and
  ``HTTPPort``/``HTTPSPort``), S3 (``S3OriginConfig``, an ``OriginAccessControlId`` or a bucket
  REST endpoint as ``DomainName``: ``Origin.s3``), VPC; the URL is the deployed one and is reached
  here only through ``[origins_local]`` (``overlay.py``);
- origin groups, ordered and default cache behaviours, function associations (ARN → function
  name), policies (a managed policy's id, or a custom policy of the bundle), custom error
  responses, the default root object, the geographic restriction, aliases;
- legacy cache settings (``ForwardedValues`` + ``MinTTL``/``DefaultTTL``/``MaxTTL``): the cache
  policy and origin request policy CloudFront's documented semantics give (``_legacy_policies``);
- functions (inline code written to files under the caller's ``workdir``) and key value stores
  (``items`` written there as an import file).

What the model does not emulate becomes one line of ``Distribution.notes`` ("accepted, not
emulated: …" or "not emulated: requests will differ because …"); nothing is dropped silently.
Every problem is collected and raised together as one ``InputError``, each line naming where it
was written (``bundle.where``) and the property path under it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from edgesim import limits
from edgesim.countries import COUNTRY_CODES
from edgesim.distribution import managed
from edgesim.distribution.behaviors import (
    CACHED_METHOD_SETS,
    MAX_BEHAVIORS,
    METHOD_SETS,
    VIEWER_PROTOCOL_POLICIES,
)
from edgesim.distribution.error_responses import ERROR_CODES, RESPONSE_CODES
from edgesim.distribution.model import (
    GET_HEAD,
    Behavior,
    CachePolicy,
    CorsConfig,
    CustomErrorResponse,
    CustomHeader,
    Distribution,
    Edges,
    FunctionDecl,
    GeoRestriction,
    KvsDecl,
    Origin,
    OriginGroup,
    OriginRequestPolicy,
    ResponseHeadersPolicy,
    Selection,
    SelectionBehavior,
    ServerSettings,
    Throttling,
    ViewerProtocolPolicy,
)
from edgesim.distribution.origins import (
    DEFAULT_FAILOVER_CODES,
    FAILOVER_CODES,
    FORBIDDEN_ORIGIN_HEADER_PREFIXES,
    FORBIDDEN_ORIGIN_HEADERS,
    MAX_ORIGIN_GROUPS,
)
from edgesim.distribution.patterns import validate_pattern
from edgesim.distribution.policies import (
    CACHE_HEADER_BEHAVIORS,
    CACHE_NAMED_BEHAVIORS,
    ORIGIN_HEADER_BEHAVIORS,
    ORIGIN_NAMED_BEHAVIORS,
    ORIGIN_POLICY_ONLY_HEADERS,
)
from edgesim.distribution.response_headers import CORS_METHODS, FRAME_OPTIONS, REFERRER_POLICIES
from edgesim.distribution.tables import header_name_problem
from edgesim.errors import InputError, KvsImportError
from edgesim.importers.bundle import FunctionSource, ImportBundle, KvsSource
from edgesim.kvs.importfile import dump_import, load_import_file, validate_import

ACCEPTED = "accepted, not emulated: "
DIFFERS = "not emulated: requests will differ because "

# The S3 REST endpoint forms (S3 User Guide, "Virtual hosting of buckets"): <bucket>.s3.amazonaws
# .com, <bucket>.s3.<region>.amazonaws.com, the legacy <bucket>.s3-<region>.amazonaws.com and
# the dual-stack <bucket>.s3.dualstack.<region>.amazonaws.com. A website endpoint
# (<bucket>.s3-website[-.]<region>.amazonaws.com) is a custom origin, not an S3 one.
_S3_REST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3(?:[.-](?!website)[a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$"
)
_RESOURCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FUNCTION_ARN = re.compile(r"^arn:aws[a-z-]*:cloudfront::[0-9]*:function/(?P<name>[^/]+)$")
_HOST = re.compile(r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_COUNTRIES = frozenset(COUNTRY_CODES)
# The bundle's resource keys in ``where`` (everything else is a DistributionConfig path).
_RESOURCE_KEYS = frozenset(
    {"functions", "kvs", "cache_policies", "origin_request_policies", "response_headers_policies"}
)

# Members that describe the distribution rather than change what a viewer gets.
_METADATA = frozenset({"CallerReference", "Comment", "Tags"})

_T = TypeVar("_T")


def is_s3_rest_endpoint(domain: str) -> bool:
    """Whether ``domain`` is an S3 bucket's REST endpoint (not a website endpoint)."""
    return _S3_REST.match(domain.lower().rstrip(".")) is not None


@dataclass
class Imported:
    """A converted bundle: the distribution, and where each of its parts was written, keyed
    ``origins.<id>``, ``origin_groups.<id>``, ``behaviors.<path>``, ``default_behavior``,
    ``functions.<name>``, ``kvs.<name>``, ``cache_policies.<name>`` (and the two other policy
    kinds), ``custom_error_responses.<code>`` and ``distribution`` (for ``totoml``'s comments)."""

    dist: Distribution
    where: dict[str, str] = field(default_factory=dict)
    # Policies made from legacy cache settings, by policy name → the behaviour they came from.
    legacy: dict[str, str] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)  # origin id → construct path (CDK)


def to_distribution(
    bundle: ImportBundle,
    *,
    workdir: Path,
    server: ServerSettings | None = None,
    edges: Edges | None = None,
    throttling: Throttling | None = None,
    source: str | None = None,
) -> Imported:
    """Convert ``bundle``; inline function code and KVS items are written under ``workdir``
    (created if needed; a file is rewritten only when its content changed, so hot reload does
    not see a change that is not one). ``source`` names the input in messages when
    ``bundle.where`` has no entry for a path (default: the first source file)."""
    return _Converter(bundle, workdir, source).run(
        server=server or ServerSettings(),
        edges=edges or Edges(),
        throttling=throttling or Throttling(),
    )


# --------------------------------------------------------------------------------------------
# Reading API values: {Quantity, Items} or plain lists, numbers and booleans as strings
# --------------------------------------------------------------------------------------------


class _Problems:
    def __init__(self, bundle: ImportBundle, source: str | None) -> None:
        self.where = bundle.where
        if source is None and "" in bundle.where:
            source = bundle.where[""].split(": ", 1)[0]  # the file as the user named it
        if source is None and bundle.sources:
            source = str(bundle.sources[0])
        self.source = source or "<import>"
        self.messages: list[str] = []

    def place(self, path: str) -> str:
        """Where ``path`` (``Origins.Items.0.DomainName``, ``functions.router``) was written:
        the longest ``bundle.where`` prefix plus the rest of the path."""
        best = None
        for key in self.where:
            if (
                key
                and (path == key or path.startswith(key + "."))
                and (best is None or len(key) > len(best))
            ):
                best = key
        if best is not None:
            rest = path[len(best) :]
            return f"{self.where[best]}{rest}"
        if path.split(".", 1)[0] in _RESOURCE_KEYS:
            return f"{self.source}: {path}"
        root = self.where.get("")
        if root is not None:
            return f"{root}.{path}" if path else root
        return f"{self.source}: DistributionConfig.{path}" if path else self.source

    def add(self, path: str, message: str) -> None:
        self.messages.append(f"{self.place(path)}: {message}")

    def raise_if_any(self) -> None:
        if not self.messages:
            return
        if len(self.messages) == 1:
            raise InputError(self.messages[0])
        header = f"{self.source}: {len(self.messages)} problems in the import:"
        raise InputError("\n".join([header, *self.messages]))


class _Node:
    """One API structure being read, with its property path for messages."""

    def __init__(self, problems: _Problems, path: str, data: object) -> None:
        self.problems = problems
        self.path = path
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            problems.add(path, f"expected an object, got {_kind(data)}")
            data = {}
        self.data: Mapping[str, Any] = data

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str | None, message: str) -> None:
        self.problems.add(self.at(key) if key else self.path, message)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def is_object(self, key: str) -> bool:
        return isinstance(self.data.get(key), Mapping)

    def sub(self, key: str) -> _Node | None:
        value = self.data.get(key)
        return None if value is None else _Node(self.problems, self.at(key), value)

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(key, f"expected a string, got {_kind(value)}")
            return default
        return str(value)

    def integer(
        self, key: str, default: int, *, lo: int | None = None, hi: int | None = None
    ) -> int:
        value = self.data.get(key)
        if value is None:
            return default
        number = _as_int(value)
        if number is None:
            self.error(key, f"expected an integer, got {_kind(value)} {value!r}")
            return default
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            bounds = f"{lo if lo is not None else ''}..{hi if hi is not None else ''}"
            self.error(key, f"{number} is out of range ({bounds})")
            return default
        return number

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.error(key, f"expected true or false, got {_kind(value)} {value!r}")
        return default

    def items(self, key: str) -> list[tuple[str, Any]]:
        """``{Quantity, Items}`` or a plain list, as (path, item) pairs (paths use ``Items``)."""
        value = self.data.get(key)
        if value is None:
            return []
        path = self.at(key)
        found: Any
        if isinstance(value, list):
            found = value
        elif isinstance(value, Mapping):
            found = value.get("Items")
            if found is None:
                found = []
            if not isinstance(found, list):
                self.problems.add(f"{path}.Items", f"expected a list, got {_kind(found)}")
                return []
            quantity = value.get("Quantity")
            if quantity is not None and _as_int(quantity) != len(found):
                self.problems.add(
                    f"{path}.Quantity", f"says {quantity} but Items has {len(found)} entries"
                )
        else:
            self.problems.add(path, f"expected a list or {{Quantity, Items}}, got {_kind(value)}")
            return []
        return [(f"{path}.Items.{index}", item) for index, item in enumerate(found)]

    def texts(self, key: str) -> list[str]:
        found = []
        for path, item in self.items(key):
            if isinstance(item, str) and item.strip():
                found.append(item)
            elif isinstance(item, int | float) and not isinstance(item, bool):
                found.append(str(item))
            else:
                self.problems.add(path, f"expected a non-empty string, got {_kind(item)}")
        return found

    def nodes(self, key: str) -> list[_Node]:
        return [_Node(self.problems, path, item) for path, item in self.items(key)]


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
        return int(value)
    return None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


# --------------------------------------------------------------------------------------------
# Notes: one line per kind of thing not emulated, naming every place it was seen
# --------------------------------------------------------------------------------------------


class _Notes:
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


# --------------------------------------------------------------------------------------------
# The conversion
# --------------------------------------------------------------------------------------------


@dataclass
class _PolicyRefs:
    cache: dict[str, CachePolicy] = field(default_factory=dict)  # custom id → policy
    origin_request: dict[str, OriginRequestPolicy] = field(default_factory=dict)
    response_headers: dict[str, ResponseHeadersPolicy] = field(default_factory=dict)


class _Converter:
    def __init__(self, bundle: ImportBundle, workdir: Path, source: str | None) -> None:
        self.bundle = bundle
        self.workdir = workdir
        self.problems = _Problems(bundle, source)
        self.notes = _Notes()
        self.where: dict[str, str] = {}
        self.legacy: dict[str, str] = {}
        self.policies = _PolicyRefs()
        self.used_functions: dict[str, str] = {}  # name → path of its first association
        self.policy_names: dict[str, set[str]] = {"cache": set(), "origin": set(), "rhp": set()}

    def run(self, *, server: ServerSettings, edges: Edges, throttling: Throttling) -> Imported:
        config = _Node(self.problems, "", self.bundle.distribution_config)
        self.where["distribution"] = self.problems.place("")
        self._distribution_notes(config)
        origins = self._origins(config)
        groups = self._origin_groups(config, origins)
        self._custom_policies()
        targets = [*origins, *groups]
        behaviors = self._behaviors(config, targets)
        default = self._default_behavior(config, targets)
        functions, stores = self._functions_and_stores()
        errors = self._custom_errors(config)
        root = self._default_root_object(config)
        geo = self._geo_restriction(config)
        aliases = tuple(alias.lower() for alias in config.texts("Aliases"))
        for note in self.bundle.notes:
            self.notes.add(note)
        self.problems.raise_if_any()
        dist = Distribution(
            server=server,
            origins=origins,
            origin_groups=groups,
            kvs=stores,
            functions=functions,
            behaviors=behaviors,
            default_behavior=default,
            edges=edges,
            custom_error_responses=errors,
            throttling=throttling,
            default_root_object=root,
            geo_restriction=geo,
            aliases=aliases,
            notes=self.notes.lines(),
            sources=tuple(_abs(p) for p in dict.fromkeys(self.bundle.sources)),
        )
        return Imported(dist, self.where, self.legacy)

    # -- the distribution as a whole -----------------------------------------------------------
    def _distribution_notes(self, config: _Node) -> None:
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
            if key in handled or key in _METADATA or value is None:
                continue
            note = _distribution_member_note(key, value)
            if note is not None:
                self.notes.add(note)
        if "Origins" not in data:
            config.error("Origins", "is required (at least one origin)")
        if "DefaultCacheBehavior" not in data:
            config.error("DefaultCacheBehavior", "is required")

    # -- origins -------------------------------------------------------------------------------
    def _origins(self, config: _Node) -> dict[str, Origin]:
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

    def _origin(self, node: _Node, origin_id: str) -> Origin | None:
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

    def _custom_origin_url(self, custom: _Node, domain: str, label: str) -> str:
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

    def _custom_origin_notes(self, custom: _Node, label: str) -> None:
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

    def _origin_path(self, node: _Node) -> str:
        value = node.text("OriginPath", "") or ""
        if value and (not value.startswith("/") or value.endswith("/") or len(value) > 255):
            node.error(
                "OriginPath", f"{value!r} must start with '/', not end with '/', ≤ 255 chars"
            )
            return ""
        return value

    def _origin_headers(self, node: _Node) -> tuple[CustomHeader, ...]:
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

    # -- origin groups -------------------------------------------------------------------------
    def _origin_groups(
        self, config: _Node, origins: Mapping[str, Origin]
    ) -> dict[str, OriginGroup]:
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

    def _group_members(self, node: _Node, origins: Mapping[str, Origin]) -> tuple[str, str] | None:
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
                member.error("OriginId", f"unknown origin {origin_id!r}{_known(origins)}")
            else:
                ids.append(origin_id)
        if len(ids) != len(members):
            return None  # reported above
        if len(ids) != 2 or ids[0] == ids[1]:
            node.error("Members", "an origin group has exactly two different origins")
            return None
        return ids[0], ids[1]

    def _failover_codes(self, criteria: _Node) -> frozenset[int]:
        if not criteria.has("StatusCodes"):
            criteria.error("StatusCodes", "is required")
            return DEFAULT_FAILOVER_CODES
        allowed = ", ".join(map(str, sorted(FAILOVER_CODES)))
        codes = set()
        entries = criteria.items("StatusCodes")
        for path, item in entries:
            code = _as_int(item)
            if code is None or code not in FAILOVER_CODES:
                self.problems.add(path, f"{item!r} is not one of {allowed}")
            else:
                codes.add(code)
        if not entries:
            criteria.error("StatusCodes", f"needs at least one status code from {allowed}")
        return frozenset(codes) or DEFAULT_FAILOVER_CODES

    # -- policies ------------------------------------------------------------------------------
    def _custom_policies(self) -> None:
        for policy_id, cfg in self.bundle.cache_policies.items():
            node = _Node(self.problems, f"cache_policies.{policy_id}", cfg)
            name = self._policy_name(node, policy_id, "cache", managed.MANAGED_CACHE_POLICIES)
            self.policies.cache[policy_id] = self._cache_policy(node, name)
            self.where[f"cache_policies.{name}"] = self.problems.place(node.path)
        for policy_id, cfg in self.bundle.origin_request_policies.items():
            node = _Node(self.problems, f"origin_request_policies.{policy_id}", cfg)
            name = self._policy_name(
                node, policy_id, "origin", managed.MANAGED_ORIGIN_REQUEST_POLICIES
            )
            self.policies.origin_request[policy_id] = self._origin_request_policy(node, name)
            self.where[f"origin_request_policies.{name}"] = self.problems.place(node.path)
        for policy_id, cfg in self.bundle.response_headers_policies.items():
            node = _Node(self.problems, f"response_headers_policies.{policy_id}", cfg)
            name = self._policy_name(
                node, policy_id, "rhp", managed.MANAGED_RESPONSE_HEADERS_POLICIES
            )
            self.policies.response_headers[policy_id] = self._response_headers_policy(node, name)
            self.where[f"response_headers_policies.{name}"] = self.problems.place(node.path)

    def _policy_name(
        self, node: _Node, policy_id: str, kind: str, managed_names: Iterable[str]
    ) -> str:
        """The policy's ``Name``, made unique among its kind and never a managed policy's name
        (edgesim.toml refers to policies by name); else the name with the id's start added."""
        name = (node.text("Name") or "").strip() or policy_id
        return self._unique_name(name, kind, managed_names, suffix=policy_id[:8] or "custom")

    def _unique_name(
        self, name: str, kind: str, managed_names: Iterable[str], *, suffix: str
    ) -> str:
        taken = self.policy_names[kind]
        managed_list = list(managed_names)
        candidate = name
        counter = 1
        while candidate in taken or managed.is_managed_name(candidate, managed_list):
            candidate = f"{name}-{suffix}" if counter == 1 else f"{name}-{suffix}-{counter}"
            counter += 1
        taken.add(candidate)
        return candidate

    def _cache_policy(self, node: _Node, name: str) -> CachePolicy:
        min_ttl, default_ttl, max_ttl = _ttls(node)
        params = node.sub("ParametersInCacheKeyAndForwardedToOrigin")
        if params is None:
            node.error("ParametersInCacheKeyAndForwardedToOrigin", "is required")
            params = _Node(self.problems, node.at("ParametersInCacheKeyAndForwardedToOrigin"), {})
        headers = self._selection(
            params, "HeadersConfig", "HeaderBehavior", "Headers", CACHE_HEADER_BEHAVIORS, True
        )
        for header in sorted(headers.names & ORIGIN_POLICY_ONLY_HEADERS):
            params.error(
                "HeadersConfig", f"{header!r} can only be added by an origin request policy"
            )
        return CachePolicy(
            name=name,
            min_ttl=min_ttl,
            default_ttl=default_ttl,
            max_ttl=max_ttl,
            headers=headers,
            cookies=self._selection(
                params, "CookiesConfig", "CookieBehavior", "Cookies", CACHE_NAMED_BEHAVIORS
            ),
            query_strings=self._selection(
                params,
                "QueryStringsConfig",
                "QueryStringBehavior",
                "QueryStrings",
                CACHE_NAMED_BEHAVIORS,
            ),
            enable_gzip=params.flag("EnableAcceptEncodingGzip", False),
            enable_brotli=params.flag("EnableAcceptEncodingBrotli", False),
        )

    def _origin_request_policy(self, node: _Node, name: str) -> OriginRequestPolicy:
        headers = self._selection(
            node, "HeadersConfig", "HeaderBehavior", "Headers", ORIGIN_HEADER_BEHAVIORS, True
        )
        if headers.behavior == "whitelist" and "authorization" in headers.names:
            node.error(
                "HeadersConfig",
                "'authorization' cannot be in an origin request policy (the API refuses it); "
                "it belongs in the cache policy",
            )
        if headers.behavior == "allViewerAndWhitelistCloudFront":
            for header in sorted(headers.names):
                if not header.startswith("cloudfront-"):
                    node.error("HeadersConfig", f"{header!r} is not a CloudFront header")
        return OriginRequestPolicy(
            name=name,
            headers=headers,
            cookies=self._selection(
                node, "CookiesConfig", "CookieBehavior", "Cookies", ORIGIN_NAMED_BEHAVIORS
            ),
            query_strings=self._selection(
                node,
                "QueryStringsConfig",
                "QueryStringBehavior",
                "QueryStrings",
                ORIGIN_NAMED_BEHAVIORS,
            ),
        )

    def _selection(
        self,
        parent: _Node,
        key: str,
        behavior_key: str,
        names_key: str,
        allowed: Sequence[SelectionBehavior],
        header_names: bool = False,
    ) -> Selection:
        node = parent.sub(key)
        if node is None:
            parent.error(key, "is required")
            return Selection()
        behavior = node.text(behavior_key, "none") or "none"
        names = node.texts(names_key)
        found = next((b for b in allowed if b == behavior), None)
        if found is None:
            node.error(behavior_key, f"{behavior!r} is not one of {', '.join(allowed)}")
            return Selection()
        needs_names = found in ("whitelist", "allExcept", "allViewerAndWhitelistCloudFront")
        if needs_names and not names:
            node.error(names_key, f"{behavior} needs at least one name")
            return Selection()
        if not needs_names:
            names = []  # the API ignores a list the behaviour does not use
        if header_names:
            checked = []
            for name in names:
                problem = header_name_problem(name)
                if problem:
                    node.error(names_key, problem)
                else:
                    checked.append(name.lower())
            names = checked
        return Selection(found, frozenset(names))

    def _response_headers_policy(self, node: _Node, name: str) -> ResponseHeadersPolicy:
        timing = node.sub("ServerTimingHeadersConfig")
        if timing is not None and timing.flag("Enabled", False):
            self.notes.add(
                DIFFERS + "the Server-Timing header of a response headers policy is not added",
                f"policy {name}",
            )
        cors = node.sub("CorsConfig")
        return ResponseHeadersPolicy(
            name=name,
            security_headers=self._security_headers(node),
            custom_headers=self._response_custom_headers(node),
            remove_headers=frozenset(self._remove_headers(node)),
            cors=None if cors is None else self._cors(cors),
        )

    def _security_headers(self, node: _Node) -> tuple[CustomHeader, ...]:
        sec = node.sub("SecurityHeadersConfig")
        if sec is None:
            return ()
        found: list[CustomHeader] = []
        # The order edgesim.toml's reader builds them in (response_headers._security_headers).
        csp = sec.sub("ContentSecurityPolicy")
        if csp is not None:
            value = csp.text("ContentSecurityPolicy")
            if value is None or not value.strip():
                csp.error("ContentSecurityPolicy", "is required (not empty)")
            else:
                found.append(_security("Content-Security-Policy", value, csp))
        cto = sec.sub("ContentTypeOptions")
        if cto is not None:
            found.append(_security("X-Content-Type-Options", "nosniff", cto))
        frame = sec.sub("FrameOptions")
        if frame is not None:
            value = frame.text("FrameOption")
            if value not in FRAME_OPTIONS:
                frame.error("FrameOption", f"{value!r} is not one of {', '.join(FRAME_OPTIONS)}")
            else:
                found.append(_security("X-Frame-Options", value, frame))
        referrer = sec.sub("ReferrerPolicy")
        if referrer is not None:
            value = referrer.text("ReferrerPolicy")
            if value not in REFERRER_POLICIES:
                referrer.error("ReferrerPolicy", f"{value!r} is not a referrer policy")
            else:
                found.append(_security("Referrer-Policy", value, referrer))
        hsts = sec.sub("StrictTransportSecurity")
        if hsts is not None:
            value = f"max-age={hsts.integer('AccessControlMaxAgeSec', 0, lo=0)}"
            if hsts.flag("IncludeSubdomains", False):
                value += "; includeSubDomains"
            if hsts.flag("Preload", False):
                value += "; preload"
            found.append(_security("Strict-Transport-Security", value, hsts))
        xss = sec.sub("XSSProtection")
        if xss is not None:
            found.append(_security("X-XSS-Protection", _xss_value(xss), xss))
        return tuple(found)

    def _response_custom_headers(self, node: _Node) -> tuple[CustomHeader, ...]:
        config = node.sub("CustomHeadersConfig")
        if config is None:
            return ()
        headers: list[CustomHeader] = []
        seen: set[str] = set()
        for item in config.nodes("Items"):
            name, value = item.text("Header"), item.text("Value")
            if name is None or value is None:
                item.error(None, "needs Header and Value")
                continue
            if not value.strip():
                item.error("Value", "must not be empty")
                continue
            problem = header_name_problem(name)
            if problem is None and name.lower() in seen:
                problem = f"header {name!r} is listed twice (header names ignore case)"
            if problem:
                item.error("Header", problem)
                continue
            seen.add(name.lower())
            headers.append(CustomHeader(name, value, item.flag("Override", True)))
        return tuple(headers)

    def _remove_headers(self, node: _Node) -> list[str]:
        config = node.sub("RemoveHeadersConfig")
        if config is None:
            return []
        names = []
        for item in config.nodes("Items"):
            name = item.text("Header")
            problem = "is required" if name is None else header_name_problem(name)
            if problem or name is None:
                item.error("Header", problem or "is required")
            else:
                names.append(name.lower())
        return names

    def _cors(self, cors: _Node) -> CorsConfig:
        origins = _listing(cors, "AccessControlAllowOrigins")
        if not origins:
            cors.error("AccessControlAllowOrigins", "must list at least one origin")
            origins = ["*"]
        methods = [m.upper() for m in _listing(cors, "AccessControlAllowMethods")]
        for method in methods:
            if method not in CORS_METHODS:
                cors.error("AccessControlAllowMethods", f"{method!r} is not one of {CORS_METHODS}")
        if not methods:
            cors.error("AccessControlAllowMethods", "must list at least one method")
            methods = ["ALL"]
        max_age = (
            cors.integer("AccessControlMaxAgeSec", -1, lo=0)
            if cors.has("AccessControlMaxAgeSec")
            else -1
        )
        return CorsConfig(
            allow_origins=tuple(origins),
            allow_headers=tuple(_listing(cors, "AccessControlAllowHeaders")),
            allow_methods=tuple(methods),
            allow_credentials=cors.flag("AccessControlAllowCredentials", False),
            expose_headers=tuple(_listing(cors, "AccessControlExposeHeaders")),
            max_age_s=None if max_age < 0 else max_age,
            origin_override=cors.flag("OriginOverride", False),
        )

    # -- behaviours ----------------------------------------------------------------------------
    def _behaviors(self, config: _Node, targets: Sequence[str]) -> tuple[Behavior, ...]:
        nodes = config.nodes("CacheBehaviors")
        if len(nodes) > MAX_BEHAVIORS:
            config.error(
                "CacheBehaviors",
                f"{len(nodes)} cache behaviours; CloudFront allows {MAX_BEHAVIORS}",
            )
        seen: dict[str, str] = {}
        behaviors = []
        for node in nodes:
            path = node.text("PathPattern")
            if path is None:
                node.error("PathPattern", "is required")
                continue
            try:
                validate_pattern(path)
            except InputError as exc:
                node.error("PathPattern", str(exc))
                continue
            key = path[1:] if path.startswith("/") else path
            if key in seen:
                node.error("PathPattern", f"pattern {path!r} repeats {seen[key]}")
                continue
            seen[key] = self.problems.place(node.path)
            behaviors.append(self._behavior(node, path, targets))
            self.where[f"behaviors.{path}"] = self.problems.place(node.path)
        return tuple(behaviors)

    def _default_behavior(self, config: _Node, targets: Sequence[str]) -> Behavior:
        node = config.sub("DefaultCacheBehavior") or _Node(
            self.problems, "DefaultCacheBehavior", {}
        )
        if node.has("PathPattern"):
            node.error("PathPattern", "the default cache behaviour has no path pattern")
        self.where["default_behavior"] = self.problems.place(node.path)
        return self._behavior(node, "*", targets)

    def _behavior(self, node: _Node, path: str, targets: Sequence[str]) -> Behavior:
        label = "default behaviour" if path == "*" else f"behaviour {path}"
        target = node.text("TargetOriginId")
        if target is None:
            node.error("TargetOriginId", "is required")
            target = ""
        elif target not in targets:
            node.error(
                "TargetOriginId", f"unknown origin or origin group {target!r}{_known(targets)}"
            )
        viewer_request, viewer_response = self._function_associations(node, label)
        self._lambda_associations(node, label)
        self._behavior_notes(node, label)
        allowed, cached = self._methods(node)
        cache_policy, origin_request_policy = self._cache_settings(node, path, label)
        return Behavior(
            path=path,
            origin=target,
            cache_policy=cache_policy,
            origin_request_policy=origin_request_policy,
            response_headers_policy=self._policy_ref(
                node,
                "ResponseHeadersPolicyId",
                self.policies.response_headers,
                managed.find_response_headers_policy,
                "response headers",
            ),
            viewer_request=viewer_request,
            viewer_response=viewer_response,
            allowed_methods=allowed,
            cached_methods=cached,
            viewer_protocol_policy=self._viewer_protocol_policy(node),
            # The API's default is false (the console's is true).
            compress=node.flag("Compress", False),
        )

    def _viewer_protocol_policy(self, node: _Node) -> ViewerProtocolPolicy:
        value = node.text("ViewerProtocolPolicy")
        if value is None:
            node.error("ViewerProtocolPolicy", "is required")
            return "allow-all"
        for policy in VIEWER_PROTOCOL_POLICIES:
            if policy == value:
                return policy
        node.error(
            "ViewerProtocolPolicy",
            f"{value!r} is not one of allow-all, redirect-to-https, https-only",
        )
        return "allow-all"

    def _methods(self, node: _Node) -> tuple[frozenset[str], frozenset[str]]:
        """The API nests CachedMethods in AllowedMethods; CloudFormation has two plain lists."""
        allowed, cached_at = GET_HEAD, "CachedMethods"
        cached_names = node.texts("CachedMethods")
        if node.has("AllowedMethods"):
            allowed = frozenset(m.upper() for m in node.texts("AllowedMethods"))
            nested = node.sub("AllowedMethods") if node.is_object("AllowedMethods") else None
            if nested is not None and nested.has("CachedMethods"):
                cached_names = nested.texts("CachedMethods")
                cached_at = "AllowedMethods.CachedMethods"
        if allowed not in METHOD_SETS:
            node.error(
                "AllowedMethods",
                "CloudFront allows only [GET, HEAD], [GET, HEAD, OPTIONS] or all seven methods",
            )
            allowed = GET_HEAD
        cached = frozenset(m.upper() for m in cached_names) if cached_names else GET_HEAD
        if cached not in CACHED_METHOD_SETS or not cached <= allowed:
            node.error(
                cached_at, "must be [GET, HEAD] or [GET, HEAD, OPTIONS] (OPTIONS if allowed)"
            )
            cached = GET_HEAD
        return allowed, cached

    def _function_associations(self, node: _Node, label: str) -> tuple[str | None, str | None]:
        chosen: dict[str, str] = {}
        for item in node.nodes("FunctionAssociations"):
            event = item.text("EventType")
            arn = item.text("FunctionARN")
            if event is None or arn is None:
                item.error(None, "needs EventType and FunctionARN")
                continue
            if event not in ("viewer-request", "viewer-response"):
                item.error(
                    "EventType",
                    f"{event!r}: CloudFront Functions run on viewer-request or viewer-response "
                    "only (origin events are Lambda@Edge)",
                )
                continue
            if event in chosen:
                item.error("EventType", f"a second {event} function; a behaviour has one")
                continue
            name = self._function_name(item, arn)
            if name is not None:
                chosen[event] = name
                self.used_functions.setdefault(name, item.path)
        return chosen.get("viewer-request"), chosen.get("viewer-response")

    def _function_name(self, item: _Node, arn: str) -> str | None:
        match = _FUNCTION_ARN.match(arn)
        name = match.group("name") if match else arn
        if name in self.bundle.functions:
            return name
        if match is None and not _RESOURCE_NAME.fullmatch(arn):
            item.error("FunctionARN", f"{arn!r} is not a CloudFront function ARN")
            return None
        known = sorted(self.bundle.functions)
        listing = f" (functions in the import: {', '.join(known)})" if known else ""
        item.error(
            "FunctionARN",
            f"function {name!r} is not part of the import{listing}; give its code with "
            f"--function {name}=PATH.js",
        )
        return None

    def _lambda_associations(self, node: _Node, label: str) -> None:
        for item in node.nodes("LambdaFunctionAssociations"):
            event = item.text("EventType") or "?"
            arn = item.text("LambdaFunctionARN") or "?"
            self.notes.add(
                f"Lambda@Edge {event} function {arn}: not emulated yet: a documented "
                "pass-through (requests go on as if it returned them unchanged)",
                label,
            )

    def _behavior_notes(self, node: _Node, label: str) -> None:
        for key in ("TrustedKeyGroups", "TrustedSigners"):
            trusted = node.sub(key)
            if trusted is not None and (trusted.flag("Enabled", False) or trusted.texts("Items")):
                self.notes.add(
                    DIFFERS + f"signed URLs and cookies ({key}) are not checked yet: requests "
                    "without a signature are served",
                    label,
                )
        if node.flag("SmoothStreaming", False):
            self.notes.add(ACCEPTED + "SmoothStreaming", label)
        if node.text("FieldLevelEncryptionId"):
            self.notes.add(
                DIFFERS + "field-level encryption is not applied (origins get the fields in clear)",
                label,
            )
        if node.text("RealtimeLogConfigArn"):
            self.notes.add(ACCEPTED + "real-time logs (RealtimeLogConfigArn)", label)
        grpc = node.sub("GrpcConfig")
        if grpc is not None and grpc.flag("Enabled", False):
            self.notes.add(DIFFERS + "gRPC (GrpcConfig) is not proxied", label)

    def _cache_settings(
        self, node: _Node, path: str, label: str
    ) -> tuple[CachePolicy, OriginRequestPolicy | None]:
        policy_id = node.text("CachePolicyId")
        legacy = node.sub("ForwardedValues")
        if policy_id:
            if legacy is not None:
                node.error("ForwardedValues", "give either CachePolicyId or ForwardedValues")
            for key in ("MinTTL", "DefaultTTL", "MaxTTL"):
                if node.has(key):
                    node.error(key, "belongs to legacy cache settings; the cache policy has TTLs")
            cache = self._policy_ref(
                node, "CachePolicyId", self.policies.cache, managed.find_cache_policy, "cache"
            )
            origin = self._policy_ref(
                node,
                "OriginRequestPolicyId",
                self.policies.origin_request,
                managed.find_origin_request_policy,
                "origin request",
            )
            return cache or managed.MANAGED_CACHE_POLICIES["CachingOptimized"], origin
        if legacy is None:
            node.error(None, "needs a CachePolicyId (or legacy ForwardedValues)")
            return managed.MANAGED_CACHE_POLICIES["CachingOptimized"], None
        if node.text("OriginRequestPolicyId"):
            node.error("OriginRequestPolicyId", "needs a CachePolicyId (not legacy settings)")
        cache_policy, origin_policy = self._legacy_policies(node, legacy, path, label)
        return cache_policy, origin_policy

    def _policy_ref(
        self,
        node: _Node,
        key: str,
        custom: Mapping[str, _T],
        find_managed: Callable[[str], _T | None],
        kind: str,
    ) -> _T | None:
        policy_id = node.text(key)
        if not policy_id:
            return None
        if policy_id in custom:
            return custom[policy_id]
        found = find_managed(policy_id)
        if found is None:
            node.error(
                key,
                f"{policy_id!r} is neither a managed {kind} policy nor a custom one in the "
                f"import; give it with --policy {policy_id}=POLICY.json (the output of aws "
                f"cloudfront get-{kind.replace(' ', '-')}-policy)",
            )
        return found

    def _legacy_policies(
        self, node: _Node, legacy: _Node, path: str, label: str
    ) -> tuple[CachePolicy, OriginRequestPolicy | None]:
        """Legacy cache settings as the cache policy and origin request policy with the same
        effect, following the Developer Guide ("Values that you specify when you create or update
        a distribution" → Cache based on selected request headers, Forward cookies, Query string
        forwarding and caching, Minimum/Default/Maximum TTL; "Caching content based on cookies";
        "Caching content based on query string parameters"; "Serving compressed files"):

        - headers: None → nothing keyed; Whitelist → those headers are keyed (and so forwarded);
          All (``*``) → "CloudFront doesn't cache the objects that are associated with this
          cache behavior. Instead, CloudFront sends every request to the origin": TTLs 0 and
          every viewer header forwarded (an origin request policy with ``allViewer``);
        - cookies: none / whitelist / all — forwarded and "caches … using the cookie names and
          values", i.e. keyed (with headers All: forwarded only, nothing is cached);
        - query strings: ``QueryString`` false → neither forwarded nor keyed; true without
          ``QueryStringCacheKeys`` → "forward all, cache based on all"; true with keys →
          "forward all, cache based on whitelist" (keys in the cache key, all forwarded);
        - TTLs: the behaviour's ``MinTTL`` (required), ``DefaultTTL`` (86400, or MinTTL if
          larger), ``MaxTTL`` (31536000, or DefaultTTL if larger), as given;
        - compression: with legacy settings ``Compress`` alone turns it on, and CloudFront then
          keys the normalised Accept-Encoding itself: gzip and brotli follow ``Compress``.
        """
        min_ttl, default_ttl, max_ttl = _ttls(node, required_min=False)
        headers_all = False
        cache_headers: list[str] = []
        origin_only_headers: list[str] = []
        for name in legacy.texts("Headers"):
            if name == "*":
                headers_all = True
                continue
            problem = header_name_problem(name)
            if problem:
                legacy.error("Headers", problem)
            elif name.lower() in ORIGIN_POLICY_ONLY_HEADERS:
                origin_only_headers.append(name.lower())
            else:
                cache_headers.append(name.lower())
        cookies = self._legacy_cookies(legacy, label)
        query_all = legacy.flag("QueryString", False)
        query_keys = legacy.texts("QueryStringCacheKeys") if query_all else []
        compress = node.flag("Compress", False)
        policy_name = self._unique_name(
            f"legacy:{path}", "cache", managed.MANAGED_CACHE_POLICIES, suffix="behavior"
        )
        self.legacy[policy_name] = label
        self.where[f"cache_policies.{policy_name}"] = self.problems.place(legacy.path)
        if headers_all:
            cache = CachePolicy(name=policy_name, min_ttl=0, default_ttl=0, max_ttl=0)
            origin = OriginRequestPolicy(
                name=self._unique_name(
                    f"legacy:{path}",
                    "origin",
                    managed.MANAGED_ORIGIN_REQUEST_POLICIES,
                    suffix="behavior",
                ),
                headers=Selection("allViewer"),
                cookies=cookies,
                query_strings=Selection("all") if query_all else Selection(),
            )
            self.legacy[origin.name] = label
            self.where[f"origin_request_policies.{origin.name}"] = self.problems.place(legacy.path)
            return cache, origin
        query = Selection()
        if query_all:
            query = (
                Selection("whitelist", frozenset(query_keys)) if query_keys else Selection("all")
            )
        cache = CachePolicy(
            name=policy_name,
            min_ttl=min_ttl,
            default_ttl=default_ttl,
            max_ttl=max_ttl,
            headers=Selection("whitelist", frozenset(cache_headers))
            if cache_headers
            else Selection(),
            cookies=cookies,
            query_strings=query,
            enable_gzip=compress,
            enable_brotli=compress,
        )
        if not origin_only_headers and not query_keys:
            return cache, None
        origin = OriginRequestPolicy(
            name=self._unique_name(
                f"legacy:{path}",
                "origin",
                managed.MANAGED_ORIGIN_REQUEST_POLICIES,
                suffix="behavior",
            ),
            headers=(
                Selection("whitelist", frozenset(origin_only_headers))
                if origin_only_headers
                else Selection()
            ),
            query_strings=Selection("all") if query_keys else Selection(),
        )
        self.legacy[origin.name] = label
        self.where[f"origin_request_policies.{origin.name}"] = self.problems.place(legacy.path)
        return cache, origin

    def _legacy_cookies(self, legacy: _Node, label: str) -> Selection:
        cookies = legacy.sub("Cookies")
        if cookies is None:
            legacy.error("Cookies", "is required in ForwardedValues (Forward: none|whitelist|all)")
            return Selection()
        forward = cookies.text("Forward", "none") or "none"
        if forward == "none":
            return Selection()
        if forward == "all":
            return Selection("all")
        if forward != "whitelist":
            cookies.error("Forward", f"{forward!r} is not one of none, whitelist, all")
            return Selection()
        names = cookies.texts("WhitelistedNames")
        if not names:
            cookies.error("WhitelistedNames", "whitelist needs at least one cookie name")
            return Selection()
        if any("*" in n or "?" in n for n in names):
            self.notes.add(
                DIFFERS + "wildcards (* ?) in whitelisted cookie names match only literally",
                label,
            )
        return Selection("whitelist", frozenset(names))

    # -- functions and stores ------------------------------------------------------------------
    def _functions_and_stores(self) -> tuple[dict[str, FunctionDecl], dict[str, KvsDecl]]:
        functions: dict[str, FunctionDecl] = {}
        wanted_stores: dict[str, str] = {}
        for name in self.used_functions:
            source = self.bundle.functions[name]
            decl = self._function(source, name)
            if decl is not None:
                functions[name] = decl
                if decl.kvs is not None:
                    wanted_stores.setdefault(decl.kvs, f"functions.{name}")
        stores: dict[str, KvsDecl] = {}
        for store, _ in sorted(wanted_stores.items()):
            decl_store = self._store(self.bundle.kvs[store], store)
            if decl_store is not None:
                stores[store] = decl_store
        return functions, stores

    def _function(self, source: FunctionSource, name: str) -> FunctionDecl | None:
        at = f"functions.{name}"
        self.where[at] = self.problems.place(at)
        if not _RESOURCE_NAME.fullmatch(name):
            self.problems.add(at, f"function name {name!r} must be 1-64 of A-Z a-z 0-9 - _")
            return None
        runtime = source.runtime or limits.RUNTIME_JS_2
        if runtime not in limits.RUNTIMES:
            self.problems.add(
                f"{at}.Runtime",
                f"unknown runtime {runtime!r}; use one of {', '.join(limits.RUNTIMES)}",
            )
            return None
        if not source.auto_publish:
            self.notes.add(
                ACCEPTED + "AutoPublish false (edgesim runs the code as written; CloudFront "
                "would keep serving the LIVE stage)",
                f"function {name}",
            )
        file = self._function_file(source, at, name)
        store = None
        if len(source.kvs) > 1:
            self.problems.add(
                f"{at}.KeyValueStoreAssociations",
                f"{len(source.kvs)} key value stores; a function can have one",
            )
        elif source.kvs:
            store = source.kvs[0]
            if store not in self.bundle.kvs:
                known = ", ".join(sorted(self.bundle.kvs)) or "none"
                self.problems.add(
                    f"{at}.KeyValueStoreAssociations",
                    f"unknown key value store {store!r} (stores in the import: {known})",
                )
                store = None
            elif runtime != limits.RUNTIME_JS_2:
                self.problems.add(
                    f"{at}.Runtime",
                    f"a function using a key value store needs runtime {limits.RUNTIME_JS_2!r}",
                )
        if file is None:
            return None
        return FunctionDecl(name=name, file=file, runtime=runtime, kvs=store)

    def _function_file(self, source: FunctionSource, at: str, name: str) -> Path | None:
        if source.code is not None:
            path = self.workdir / "functions" / f"{name}.js"
            _write_if_changed(path, source.code.encode("utf-8"))
            return _abs(path)
        if source.file is None:
            self.problems.add(at, "has neither inline code nor a file")
            return None
        if not Path(source.file).is_file():
            found = "is a directory" if Path(source.file).is_dir() else "does not exist"
            self.problems.add(at, f"function file {source.file} {found}")
            return None
        return _abs(source.file)

    def _store(self, source: KvsSource, name: str) -> KvsDecl | None:
        at = f"kvs.{name}"
        self.where[at] = self.problems.place(at)
        if not _RESOURCE_NAME.fullmatch(name):
            self.problems.add(at, f"key value store name {name!r} must be 1-64 of A-Z a-z 0-9 - _")
            return None
        if source.data is not None:
            try:
                load_import_file(source.data)
            except KvsImportError as exc:
                self.problems.add(at, f"not a valid CloudFront KVS import file: {exc}")
                return None
            return KvsDecl(name=name, data=_abs(source.data))
        if source.items is not None:
            doc = {"data": [{"key": k, "value": v} for k, v in source.items.items()]}
            try:
                validate_import(doc, source=at)
            except KvsImportError as exc:
                self.problems.add(at, str(exc).removeprefix(f"{at}: "))
                return None
            path = self.workdir / "kvs" / f"{name}.json"
            _write_if_changed(path, dump_import(dict(source.items)))
            return KvsDecl(name=name, data=_abs(path))
        return KvsDecl(name=name)

    # -- errors, root object, restrictions -----------------------------------------------------
    def _custom_errors(self, config: _Node) -> dict[int, CustomErrorResponse]:
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

    def _default_root_object(self, config: _Node) -> str | None:
        root = config.text("DefaultRootObject") or None
        if root is not None and (root.startswith("/") or len(root) > 255):
            config.error(
                "DefaultRootObject", "must not start with '/' and be at most 255 characters"
            )
            return None
        return root

    def _geo_restriction(self, config: _Node) -> GeoRestriction:
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


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _ttls(node: _Node, *, required_min: bool = True) -> tuple[int, int, int]:
    """MinTTL, DefaultTTL, MaxTTL with CloudFront's defaults (DefaultTTL 86400 or MinTTL if
    larger; MaxTTL 31536000 or DefaultTTL if larger; Developer Guide, "Minimum TTL" …)."""
    if required_min and not node.has("MinTTL"):
        node.error("MinTTL", "is required")
    min_ttl = node.integer("MinTTL", 0, lo=0)
    default_ttl = node.integer("DefaultTTL", max(86_400, min_ttl), lo=0)
    max_ttl = node.integer("MaxTTL", max(31_536_000, default_ttl, min_ttl), lo=0)
    if min_ttl > default_ttl:
        node.error("DefaultTTL", f"{default_ttl} is below MinTTL ({min_ttl})")
        default_ttl = min_ttl
    if default_ttl > max_ttl:
        node.error("MaxTTL", f"{max_ttl} is below DefaultTTL ({default_ttl})")
        max_ttl = default_ttl
    return min_ttl, default_ttl, max_ttl


def _security(header: str, value: str, node: _Node) -> CustomHeader:
    return CustomHeader(header, value, node.flag("Override", True))


def _xss_value(xss: _Node) -> str:
    mode_block, report = xss.flag("ModeBlock", False), xss.text("ReportUri") or None
    if not xss.flag("Protection", True):
        if mode_block or report:
            xss.error("Protection", "ModeBlock and ReportUri need Protection true")
        return "0"
    if mode_block and report:
        xss.error("ReportUri", "cannot be combined with ModeBlock")
        report = None
    return "1" + ("; mode=block" if mode_block else "") + (f"; report={report}" if report else "")


def _listing(node: _Node, key: str) -> list[str]:
    sub = node.data.get(key)
    if sub is None:
        return []
    return node.texts(key)


def _known(names: Iterable[str]) -> str:
    listed = sorted(names)
    return f" (known: {', '.join(listed)})" if listed else ""


def _abs(path: Path | str) -> Path:
    """An absolute, normalised path (symlinks kept, as edgesim.toml's reader keeps them)."""
    return Path(os.path.abspath(path))


def _write_if_changed(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.read_bytes() == content:
            return
    except OSError:
        pass
    path.write_bytes(content)


def _distribution_member_note(key: str, value: Any) -> str | None:
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
