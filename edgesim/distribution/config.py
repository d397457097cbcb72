"""``edgesim.toml`` → ``Distribution``: every key type-checked, cross-checked and defaulted.

Every problem becomes one line naming the file, the table path and the key, e.g.
``edgesim.toml: behaviors[1].cache_policy: unknown cache policy 'CachingOptimised' (did you mean
'CachingOptimized'?)``. All problems in a document are collected and raised together as one
``InputError``, so a user fixes them in one pass. Array-of-tables indices count from 0.

The key reference, with the CloudFront setting each key mirrors, is docs/configuration.md.
"""

from __future__ import annotations

import contextlib
import datetime
import difflib
import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import SplitResult, urlsplit

from edgesim import limits
from edgesim.distribution import managed
from edgesim.distribution.model import (
    ALL_METHODS,
    GET_HEAD,
    GET_HEAD_OPTIONS,
    Behavior,
    CachePolicy,
    CidrRule,
    CorsConfig,
    CustomErrorResponse,
    CustomHeader,
    Distribution,
    Edges,
    FunctionDecl,
    KvsDecl,
    Origin,
    OriginGroup,
    OriginRequestPolicy,
    ResponseHeadersPolicy,
    Selection,
    SelectionBehavior,
    ServerSettings,
    ViewerProtocolPolicy,
)
from edgesim.distribution.patterns import validate_pattern
from edgesim.errors import InputError, KvsImportError
from edgesim.kvs.importfile import load_import_file

# --------------------------------------------------------------------------------------------
# Reading TOML tables: types, paths, unknown keys, suggestions
# --------------------------------------------------------------------------------------------

_MISSING: Any = object()


def _toml_type(value: object) -> str:
    """The TOML name of a parsed value's type, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return "date/time"
    return type(value).__name__


def _suggest(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when one candidate is close to ``word``, else ``""``."""
    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    if not close and len(word) >= 3:
        # A shortened key ("path" for "origin_path") is too far for difflib but still a hint.
        close = [c for c in by_lower if word.lower() in c]
    return f" (did you mean {by_lower[close[0]]!r}?)" if len(close) == 1 else ""


class _Problems:
    """Every problem found in one configuration document, each already formatted."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.messages: list[str] = []

    def add(self, where: str, message: str) -> None:
        prefix = f"{self.source}: {where}" if where else self.source
        self.messages.append(f"{prefix}: {message}")

    def raise_if_any(self) -> None:
        if not self.messages:
            return
        if len(self.messages) == 1:
            raise InputError(self.messages[0])
        # One problem per line: a user fixes them all in one pass instead of one per run.
        header = f"{self.source}: {len(self.messages)} problems in the configuration:"
        raise InputError("\n".join([header, *self.messages]))


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


class _Table:
    """One TOML table being read: knows its path for messages and the keys it may contain.

    The typed getters record a problem and return the default when a value is wrong, so reading
    goes on and later problems are reported in the same run.
    """

    def __init__(
        self,
        problems: _Problems,
        where: str,
        data: Mapping[str, Any],
        allowed: Sequence[str],
        *,
        required: Sequence[str] = (),
    ) -> None:
        self.problems = problems
        self.where = where
        self.data = data
        for key in data:
            if key not in allowed:
                hint = _suggest(key, allowed)
                self.error(key, f"unknown key{hint}; allowed keys: {', '.join(allowed)}")
        for key in required:
            if key not in data:
                self.error(key, "is required")

    def at(self, key: str) -> str:
        return _join(self.where, key)

    def error(self, key: str | None, message: str) -> None:
        self.problems.add(self.at(key) if key else self.where, message)

    def _wrong_type(self, key: str, expected: str, value: object) -> None:
        self.error(key, f"expected {expected}, got {_toml_type(value)} {value!r}")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        return self.data.get(key, _MISSING)

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self._wrong_type(key, "a string", value)
            return default
        if not value.strip():
            self.error(key, "must not be empty")
            return default
        return value

    def integer(
        self, key: str, default: int, *, lo: int | None = None, hi: int | None = None
    ) -> int:
        value = self.raw(key)
        if value is _MISSING:
            return default
        # bool is an int subclass in Python; TOML's true is not a number.
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong_type(key, "an integer", value)
            return default
        return value if self._in_range(key, value, lo, hi) else default

    def number(
        self, key: str, default: float, *, lo: float | None = None, hi: float | None = None
    ) -> float:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong_type(key, "a number", value)
            return default
        return float(value) if self._in_range(key, value, lo, hi) else default

    def _in_range(self, key: str, value: float, lo: float | None, hi: float | None) -> bool:
        if value != value or value in (math.inf, -math.inf):  # TOML allows nan and inf
            self.error(key, f"must be a finite number, not {value}")
            return False
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.error(key, f"{_num(value)} is out of range ({_range_text(lo, hi)})")
            return False
        return True

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self._wrong_type(key, "true or false", value)
            return default
        return value

    def texts(self, key: str) -> list[str] | None:
        """An array of non-empty strings; None when absent or not an array."""
        value = self.raw(key)
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            self._wrong_type(key, "an array of strings", value)
            return None
        items: list[str] = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                items.append(item)
            else:
                where = f"{self.at(key)}[{index}]"
                got = f"{_toml_type(item)} {item!r}"
                self.problems.add(where, f"expected a non-empty string, got {got}")
        return items

    def table(self, key: str) -> Mapping[str, Any] | None:
        """A sub-table (``[a.b]`` or an inline table); None when absent or not a table."""
        value = self.raw(key)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self._wrong_type(key, "a table", value)
            return None
        return value

    def sub(
        self, key: str, allowed: Sequence[str], *, required: Sequence[str] = ()
    ) -> _Table | None:
        data = self.table(key)
        if data is None:
            return None
        return _Table(self.problems, self.at(key), data, allowed, required=required)


def _range_text(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"allowed: {_num(lo)} to {_num(hi)}"
    if lo is not None:
        return f"must be at least {_num(lo)}"
    return f"must be at most {_num(hi)}"


def _num(value: float | None) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table_array(
    problems: _Problems, doc: Mapping[str, Any], key: str, prefix: str = ""
) -> list[tuple[str, Mapping[str, Any]]]:
    """The entries of ``[[key]]`` as (path, table) pairs; anything else is a problem."""
    value = doc.get(key, _MISSING)
    path = _join(prefix, key)
    if value is _MISSING:
        return []
    if not isinstance(value, list):
        problems.add(path, f"expected an array of tables ([[{key}]]), got {_toml_type(value)}")
        return []
    entries: list[tuple[str, Mapping[str, Any]]] = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if isinstance(item, dict):
            entries.append((where, item))
        else:
            problems.add(where, f"expected a table, got {_toml_type(item)} {item!r}")
    return entries


def _section(problems: _Problems, doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A single top-level table (``[server]``); empty when absent or of the wrong type."""
    value = doc.get(key, _MISSING)
    if value is _MISSING:
        return {}
    if not isinstance(value, dict):
        problems.add(key, f"expected a table ([{key}]), got {_toml_type(value)}")
        return {}
    return value


# --------------------------------------------------------------------------------------------
# Keys and CloudFront rules
# --------------------------------------------------------------------------------------------

TOP_LEVEL_KEYS = (
    "server",
    "origins",
    "origin_groups",
    "kvs",
    "functions",
    "cache_policies",
    "origin_request_policies",
    "response_headers_policies",
    "behaviors",
    "default_behavior",
    "custom_error_responses",
    "edges",
)
SERVER_KEYS = ("host", "port", "admin_port", "state_dir", "ephemeral", "domain_name", "access_log")
ORIGIN_KEYS = (
    "id",
    "url",
    "origin_path",
    "custom_headers",
    "connect_timeout_s",
    "response_timeout_s",
    "connection_attempts",
)
ORIGIN_GROUP_KEYS = ("id", "primary", "secondary", "failover_status_codes")
KVS_KEYS = ("name", "data")
FUNCTION_KEYS = ("name", "file", "runtime", "kvs")
BEHAVIOR_KEYS = (
    "path",
    "origin",
    "viewer_request",
    "viewer_response",
    "function_associations",
    "cache_policy",
    "origin_request_policy",
    "response_headers_policy",
    "allowed_methods",
    "cached_methods",
    "viewer_protocol_policy",
    "compress",
)
DEFAULT_BEHAVIOR_KEYS = tuple(k for k in BEHAVIOR_KEYS if k != "path")
ASSOCIATION_KEYS = ("event_type", "function")
CACHE_POLICY_KEYS = (
    "name",
    "min_ttl",
    "default_ttl",
    "max_ttl",
    "headers",
    "cookies",
    "query_strings",
    "enable_gzip",
    "enable_brotli",
)
ORIGIN_REQUEST_POLICY_KEYS = ("name", "headers", "cookies", "query_strings")
SELECTION_KEYS = ("behavior", "names")
RESPONSE_HEADERS_POLICY_KEYS = (
    "name",
    "security_headers",
    "cors",
    "custom_headers",
    "remove_headers",
)
SECURITY_HEADER_KEYS = (
    "content_security_policy",
    "content_type_options",
    "frame_options",
    "referrer_policy",
    "strict_transport_security",
    "xss_protection",
)
CORS_KEYS = (
    "allow_origins",
    "allow_headers",
    "allow_methods",
    "allow_credentials",
    "expose_headers",
    "max_age_s",
    "origin_override",
)
ERROR_RESPONSE_KEYS = ("error_code", "response_page_path", "response_code", "error_caching_min_ttl")
EDGES_KEYS = (
    "pops",
    "propagation",
    "propagation_per_pop",
    "pop_cidrs",
    "country_cidrs",
    "default_country",
    "geoip_database",
)
PROPAGATION_KEYS = {
    "fixed": ("model", "lag_ms", "per_pop_ms"),
    "uniform": ("model", "min_ms", "max_ms", "seed", "per_pop_ms"),
}

# CloudFront quotas (Developer Guide "Quotas"; reference B.1, B.8).
MAX_BEHAVIORS = 75
MAX_ORIGIN_GROUPS = 10

# Reference B.8: the only status codes an origin group may fail over on.
FAILOVER_CODES = frozenset({400, 403, 404, 416, 500, 502, 503, 504})
DEFAULT_FAILOVER_CODES = frozenset({500, 502, 503, 504})
# CustomErrorResponse.ErrorCode / ResponseCode values the CloudFront API accepts.
ERROR_CODES = frozenset({400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504})
RESPONSE_CODES = ERROR_CODES | {200}

METHOD_SETS = (GET_HEAD, GET_HEAD_OPTIONS, ALL_METHODS)
CACHED_METHOD_SETS = (GET_HEAD, GET_HEAD_OPTIONS)
VIEWER_PROTOCOL_POLICIES: tuple[ViewerProtocolPolicy, ...] = (
    "allow-all",
    "redirect-to-https",
    "https-only",
)
EVENT_TYPES = ("viewer-request", "viewer-response")
CORS_METHODS = ("GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "HEAD", "ALL")
FRAME_OPTIONS = ("DENY", "SAMEORIGIN")
REFERRER_POLICIES = (
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
)

# Selection behaviours per policy type (reference B.3 and B.4).
CACHE_HEADER_BEHAVIORS: tuple[SelectionBehavior, ...] = ("none", "whitelist")
CACHE_NAMED_BEHAVIORS: tuple[SelectionBehavior, ...] = ("none", "whitelist", "allExcept", "all")
ORIGIN_HEADER_BEHAVIORS: tuple[SelectionBehavior, ...] = (
    "none",
    "whitelist",
    "allViewer",
    "allViewerAndWhitelistCloudFront",
    "allExcept",
)
ORIGIN_NAMED_BEHAVIORS: tuple[SelectionBehavior, ...] = ("none", "whitelist", "all", "allExcept")
_NEEDS_NAMES = frozenset({"whitelist", "allExcept", "allViewerAndWhitelistCloudFront"})

# Reference B.4: these CloudFront headers may only be added by an origin request policy.
ORIGIN_POLICY_ONLY_HEADERS = frozenset(
    {
        "cloudfront-viewer-address",
        "cloudfront-viewer-asn",
        "cloudfront-viewer-ja3-fingerprint",
        "cloudfront-viewer-tls",
    }
)
# Developer Guide "Custom headers that CloudFront can't add to origin requests".
FORBIDDEN_ORIGIN_HEADERS = frozenset(
    {
        "cache-control",
        "connection",
        "content-length",
        "cookie",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-range",
        "if-unmodified-since",
        "max-forwards",
        "pragma",
        "proxy-authorization",
        "proxy-connection",
        "range",
        "request-range",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
        "x-real-ip",
    }
)
FORBIDDEN_ORIGIN_HEADER_PREFIXES = ("x-amz-", "x-edge-")

# Function and KVS names: [a-zA-Z0-9-_]{1,64} (CloudFront API, reference A.5 and A.7).
_RESOURCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
_POP_CODE = re.compile(r"[A-Z]{3}[A-Z0-9-]{0,12}")
_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
_HOSTNAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+")

_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def load_config(path: Path) -> Distribution:
    """Read and validate ``edgesim.toml``; relative paths in it are relative to its directory."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{source}: cannot read the configuration: {exc.strerror}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 (byte {exc.start}); TOML files are UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line L, column C)".
        raise InputError(f"{source}: invalid TOML: {exc}") from None
    resolved = path.resolve()
    return parse_config(doc, base_dir=resolved.parent, source=source, config_path=resolved)


def parse_config(
    doc: Mapping[str, Any],
    *,
    base_dir: Path,
    source: str,
    config_path: Path | None = None,
) -> Distribution:
    """Validate an already-parsed TOML document; raise InputError listing every problem."""
    ctx = _Context(_Problems(source), base_dir)
    _Table(ctx.problems, "", doc, TOP_LEVEL_KEYS)
    server = _server(ctx, _section(ctx.problems, doc, "server"))
    origins = _origins(ctx, doc)
    groups = _origin_groups(ctx, doc, origins)
    stores = _kvs(ctx, doc)
    functions = _functions(ctx, doc, stores)
    refs = _Refs(
        targets=[*origins, *groups],
        functions=functions,
        cache_policies=_cache_policies(ctx, doc),
        origin_request_policies=_origin_request_policies(ctx, doc),
        response_headers_policies=_response_headers_policies(ctx, doc),
    )
    behaviors = _behaviors(ctx, doc, refs)
    default = _default_behavior(ctx, doc, refs)
    errors = _custom_error_responses(ctx, doc)
    edges = _edges(ctx, _section(ctx.problems, doc, "edges"))
    ctx.problems.raise_if_any()
    return Distribution(
        server=server,
        origins=origins,
        origin_groups=groups,
        kvs=stores,
        functions=functions,
        behaviors=behaviors,
        default_behavior=default,
        edges=edges,
        custom_error_responses=errors,
        config_path=config_path,
    )


@dataclass
class _Context:
    problems: _Problems
    base_dir: Path

    def table(
        self, where: str, data: Mapping[str, Any], allowed: Sequence[str], **kw: Any
    ) -> _Table:
        return _Table(self.problems, where, data, allowed, **kw)

    def entries(
        self, doc: Mapping[str, Any], key: str, allowed: Sequence[str], **kw: Any
    ) -> list[_Table]:
        return [self.table(w, d, allowed, **kw) for w, d in _table_array(self.problems, doc, key)]

    def under(self, name: str) -> Path:
        """``name`` relative to the config directory, without ``..`` left in it."""
        return Path(os.path.normpath(self.base_dir / name))

    def existing_file(self, table: _Table, key: str, what: str) -> Path | None:
        """A path relative to the config directory that must name an existing file."""
        name = table.text(key)
        if name is None:
            return None
        path = self.under(name)
        if not path.is_file():
            found = "is a directory" if path.is_dir() else "does not exist"
            table.error(key, f"{what} {name!r} {found} (looked for {path})")
        return path


@dataclass
class _Refs:
    """What behaviours may refer to, gathered before the behaviours are read."""

    targets: list[str]
    functions: Mapping[str, FunctionDecl]
    cache_policies: Mapping[str, CachePolicy] = field(default_factory=dict)
    origin_request_policies: Mapping[str, OriginRequestPolicy] = field(default_factory=dict)
    response_headers_policies: Mapping[str, ResponseHeadersPolicy] = field(default_factory=dict)


def _unique(table: _Table, key: str, name: str, seen: dict[str, str], what: str) -> bool:
    """Record ``name`` as declared at ``table``; a problem if an earlier entry has it."""
    if name in seen:
        table.error(key, f"duplicate {what} {name!r} (first declared at {seen[name]})")
        return False
    seen[name] = table.where
    return True


def _resource_name(table: _Table, what: str) -> str | None:
    name = table.text("name")
    if name is not None and not _RESOURCE_NAME.fullmatch(name):
        table.error("name", f"{what} name {name!r} must be 1-64 characters from A-Z a-z 0-9 - _")
    return name


# --------------------------------------------------------------------------------------------
# [server]
# --------------------------------------------------------------------------------------------


def _server(ctx: _Context, data: Mapping[str, Any]) -> ServerSettings:
    t = ctx.table("server", data, SERVER_KEYS)
    defaults = ServerSettings()
    port = t.integer("port", defaults.port, lo=0, hi=65_535)
    admin_port = t.integer("admin_port", defaults.admin_port, lo=0, hi=65_535)
    if port == admin_port and port != 0:  # 0 means "any free port" for both
        t.error("admin_port", f"must differ from port ({port})")
    domain = t.text("domain_name", defaults.domain_name) or defaults.domain_name
    if not _HOSTNAME.fullmatch(domain):
        t.error("domain_name", f"{domain!r} is not a host name")
    access_log = t.text("access_log")
    return ServerSettings(
        host=t.text("host", defaults.host) or defaults.host,
        port=port,
        admin_port=admin_port,
        state_dir=ctx.under(t.text("state_dir") or str(defaults.state_dir)),
        ephemeral=t.flag("ephemeral", defaults.ephemeral),
        domain_name=domain,
        access_log=None if access_log is None else ctx.under(access_log),
    )


# --------------------------------------------------------------------------------------------
# [[origins]] and [[origin_groups]]
# --------------------------------------------------------------------------------------------


def _origins(ctx: _Context, doc: Mapping[str, Any]) -> dict[str, Origin]:
    tables = ctx.entries(doc, "origins", ORIGIN_KEYS, required=("id", "url"))
    if doc.get("origins") in (None, []):
        ctx.problems.add("origins", "at least one [[origins]] table is required")
    origins: dict[str, Origin] = {}
    seen: dict[str, str] = {}
    for t in tables:
        origin_id = t.text("id")
        if origin_id is None or not _unique(t, "id", origin_id, seen, "origin id"):
            continue
        origins[origin_id] = _origin(t, origin_id)
    return origins


def _origin(t: _Table, origin_id: str) -> Origin:
    defaults = Origin(id=origin_id, url="")
    return Origin(
        id=origin_id,
        url=_origin_url(t),
        origin_path=_origin_path(t),
        custom_headers=_origin_headers(t),
        connect_timeout_s=t.number("connect_timeout_s", defaults.connect_timeout_s, lo=1, hi=10),
        response_timeout_s=t.number(
            "response_timeout_s", defaults.response_timeout_s, lo=1, hi=120
        ),
        connection_attempts=t.integer(
            "connection_attempts", defaults.connection_attempts, lo=1, hi=3
        ),
    )


def _origin_url(t: _Table) -> str:
    """``scheme://host[:port]`` with no path: a path belongs in ``origin_path`` (OriginPath)."""
    url = t.text("url")
    if url is None:
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:
        t.error("url", f"{url!r} is not a valid URL: {exc}")
        return url
    problem = _origin_url_problem(parts)
    if problem:
        t.error("url", f"{url!r}: {problem}")
        return url
    return f"{parts.scheme.lower()}://{parts.netloc}"


def _origin_url_problem(parts: SplitResult) -> str | None:
    if parts.scheme.lower() not in ("http", "https"):
        return "the scheme must be http or https"
    if not parts.hostname:
        return "the host is missing"
    if parts.username is not None or parts.password is not None:
        return "user information is not allowed; use custom_headers for credentials"
    if parts.path not in ("", "/"):
        return f"an origin URL has no path; put {parts.path.rstrip('/')!r} in origin_path instead"
    if parts.query or parts.fragment:
        return "an origin URL has no query string or fragment"
    return None


def _origin_path(t: _Table) -> str:
    # CloudFront's OriginPath: begins with "/", does not end with "/", at most 255 characters.
    if t.raw("origin_path") == "":
        return ""  # CloudFront's own default, written out
    value = t.text("origin_path", "") or ""
    if value and (not value.startswith("/") or value.endswith("/") or len(value) > 255):
        t.error("origin_path", f"{value!r} must start with '/', not end with '/', ≤ 255 chars")
        return ""
    return value


def _origin_headers(t: _Table) -> tuple[CustomHeader, ...]:
    data = t.table("custom_headers")
    if data is None:
        return ()
    headers: list[CustomHeader] = []
    for name, value in data.items():
        where = t.at(f"custom_headers.{name}")
        if not isinstance(value, str):
            t.problems.add(where, f"expected a string, got {_toml_type(value)} {value!r}")
            continue
        problem = _header_name_problem(name) or _forbidden_origin_header(name)
        if problem:
            t.problems.add(where, problem)
            continue
        headers.append(CustomHeader(name, value))
    _no_duplicate_names(t, "custom_headers", [h.name for h in headers])
    return tuple(headers)


def _header_name_problem(name: str) -> str | None:
    if not _HEADER_NAME.fullmatch(name):
        return f"{name!r} is not a valid header name"
    return None


def _forbidden_origin_header(name: str) -> str | None:
    lower = name.lower()
    if lower in FORBIDDEN_ORIGIN_HEADERS or lower.startswith(FORBIDDEN_ORIGIN_HEADER_PREFIXES):
        return f"CloudFront cannot add {name!r} to origin requests"
    return None


def _no_duplicate_names(t: _Table, key: str, names: Iterable[str]) -> None:
    # Header names are case-insensitive: "X-A" and "x-a" are the same header.
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            t.error(key, f"header {name!r} is listed twice (header names ignore case)")
        seen.add(name.lower())


def _origin_groups(
    ctx: _Context, doc: Mapping[str, Any], origins: Mapping[str, Origin]
) -> dict[str, OriginGroup]:
    tables = ctx.entries(
        doc, "origin_groups", ORIGIN_GROUP_KEYS, required=("id", "primary", "secondary")
    )
    if len(tables) > MAX_ORIGIN_GROUPS:
        ctx.problems.add(
            "origin_groups", f"{len(tables)} origin groups; CloudFront allows {MAX_ORIGIN_GROUPS}"
        )
    seen = {origin_id: "origins" for origin_id in origins}
    groups: dict[str, OriginGroup] = {}
    for t in tables:
        group_id = t.text("id")
        if group_id is None or not _unique(t, "id", group_id, seen, "origin or group id"):
            continue
        groups[group_id] = _origin_group(t, group_id, origins)
    return groups


def _origin_group(t: _Table, group_id: str, origins: Mapping[str, Origin]) -> OriginGroup:
    primary = _member(t, "primary", origins)
    secondary = _member(t, "secondary", origins)
    if primary and primary == secondary:
        t.error("secondary", f"must differ from primary ({primary!r}): a group has two origins")
    return OriginGroup(
        id=group_id,
        primary=primary or "",
        secondary=secondary or "",
        failover_status_codes=_failover_codes(t),
    )


def _member(t: _Table, key: str, origins: Mapping[str, Origin]) -> str | None:
    name = t.text(key)
    if name is not None and name not in origins:
        t.error(key, f"unknown origin {name!r}{_suggest(name, origins)}; members must be origins")
    return name


def _failover_codes(t: _Table) -> frozenset[int]:
    value = t.raw("failover_status_codes")
    if value is _MISSING:
        return DEFAULT_FAILOVER_CODES
    allowed = ", ".join(map(str, sorted(FAILOVER_CODES)))
    if not isinstance(value, list) or not value:
        t.error("failover_status_codes", f"expected a non-empty array of codes from {allowed}")
        return DEFAULT_FAILOVER_CODES
    codes = set()
    for item in value:
        # isinstance first: an unhashable item (a table) would break the set lookup.
        if not isinstance(item, int) or isinstance(item, bool) or item not in FAILOVER_CODES:
            t.error("failover_status_codes", f"{item!r} is not one of {allowed}")
        else:
            codes.add(item)
    return frozenset(codes) or DEFAULT_FAILOVER_CODES


# --------------------------------------------------------------------------------------------
# [[kvs]] and [[functions]]
# --------------------------------------------------------------------------------------------


def _kvs(ctx: _Context, doc: Mapping[str, Any]) -> dict[str, KvsDecl]:
    stores: dict[str, KvsDecl] = {}
    seen: dict[str, str] = {}
    for t in ctx.entries(doc, "kvs", KVS_KEYS, required=("name",)):
        name = _resource_name(t, "key value store")
        if name is None or not _unique(t, "name", name, seen, "key value store"):
            continue
        data = ctx.existing_file(t, "data", "seed file")
        if data is not None and data.is_file():
            _check_seed(t, data)
        stores[name] = KvsDecl(name=name, data=data)
    return stores


def _check_seed(t: _Table, data: Path) -> None:
    # Validate the import file now so a bad seed fails at startup, naming the config key.
    try:
        load_import_file(data)
    except KvsImportError as exc:
        t.error("data", f"not a valid CloudFront KVS import file: {exc}")


def _functions(
    ctx: _Context, doc: Mapping[str, Any], stores: Mapping[str, KvsDecl]
) -> dict[str, FunctionDecl]:
    functions: dict[str, FunctionDecl] = {}
    seen: dict[str, str] = {}
    for t in ctx.entries(doc, "functions", FUNCTION_KEYS, required=("name", "file")):
        name = _resource_name(t, "function")
        if name is None or not _unique(t, "name", name, seen, "function"):
            continue
        file = ctx.existing_file(t, "file", "function file")
        runtime = _runtime(t)
        kvs = _function_kvs(t, runtime, stores)
        functions[name] = FunctionDecl(name=name, file=file or Path(), runtime=runtime, kvs=kvs)
    return functions


def _runtime(t: _Table) -> str:
    runtime = t.text("runtime", limits.RUNTIME_JS_2) or limits.RUNTIME_JS_2
    if runtime not in limits.RUNTIMES:
        hint = _suggest(runtime, limits.RUNTIMES)
        t.error(
            "runtime", f"unknown runtime {runtime!r}{hint}; use one of {', '.join(limits.RUNTIMES)}"
        )
        return limits.RUNTIME_JS_2
    return runtime


def _function_kvs(t: _Table, runtime: str, stores: Mapping[str, KvsDecl]) -> str | None:
    name = t.text("kvs")
    if name is None:
        return None
    if name not in stores:
        t.error("kvs", f"unknown key value store {name!r}{_suggest(name, stores)}")
    if runtime != limits.RUNTIME_JS_2:
        t.error("kvs", f"a function using a key value store needs runtime {limits.RUNTIME_JS_2!r}")
    return name


# --------------------------------------------------------------------------------------------
# Policies: [[cache_policies]], [[origin_request_policies]], [[response_headers_policies]]
# --------------------------------------------------------------------------------------------


def _policy_tables(
    ctx: _Context,
    doc: Mapping[str, Any],
    key: str,
    allowed: Sequence[str],
    managed_names: Iterable[str],
) -> list[tuple[str, _Table]]:
    """Named policy tables, with unique names that do not shadow a managed policy."""
    named: list[tuple[str, _Table]] = []
    seen: dict[str, str] = {}
    managed_list = list(managed_names)
    for t in ctx.entries(doc, key, allowed, required=("name",)):
        name = t.text("name")
        if name is None or not _unique(t, "name", name, seen, "policy name"):
            continue
        if managed.is_managed_name(name, managed_list):
            t.error("name", f"{name!r} is the name of a CloudFront managed policy; pick another")
            continue
        named.append((name, t))
    return named


def _cache_policies(ctx: _Context, doc: Mapping[str, Any]) -> dict[str, CachePolicy]:
    entries = _policy_tables(
        ctx, doc, "cache_policies", CACHE_POLICY_KEYS, managed.MANAGED_CACHE_POLICIES
    )
    return {name: _cache_policy(t, name) for name, t in entries}


def _cache_policy(t: _Table, name: str) -> CachePolicy:
    min_ttl, default_ttl, max_ttl = _ttls(t)
    headers = _selection(t, "headers", CACHE_HEADER_BEHAVIORS, header_names=True)
    for header in sorted(headers.names & ORIGIN_POLICY_ONLY_HEADERS):
        t.error("headers", f"{header!r} can only be added by an origin request policy")
    return CachePolicy(
        name=name,
        min_ttl=min_ttl,
        default_ttl=default_ttl,
        max_ttl=max_ttl,
        headers=headers,
        cookies=_selection(t, "cookies", CACHE_NAMED_BEHAVIORS),
        query_strings=_selection(t, "query_strings", CACHE_NAMED_BEHAVIORS),
        enable_gzip=t.flag("enable_gzip", False),
        enable_brotli=t.flag("enable_brotli", False),
    )


def _ttls(t: _Table) -> tuple[int, int, int]:
    """MinTTL, DefaultTTL, MaxTTL with CloudFront's defaulting rules (reference B.3)."""
    min_ttl = t.integer("min_ttl", 0, lo=0)
    # DefaultTTL defaults to 86400, or to MinTTL when MinTTL is larger.
    default_ttl = t.integer("default_ttl", max(86_400, min_ttl), lo=0)
    # MaxTTL defaults to 31536000, or to DefaultTTL when Min/Default exceed it.
    max_ttl = t.integer("max_ttl", max(31_536_000, default_ttl, min_ttl), lo=0)
    if min_ttl > default_ttl:
        t.error("default_ttl", f"{default_ttl} is below min_ttl ({min_ttl})")
    if default_ttl > max_ttl:
        implied = "" if t.has("default_ttl") else ", its default; set default_ttl"
        t.error("max_ttl", f"{max_ttl} is below default_ttl ({default_ttl}{implied})")
    elif min_ttl > max_ttl:
        t.error("max_ttl", f"{max_ttl} is below min_ttl ({min_ttl})")
    return min_ttl, default_ttl, max_ttl


def _origin_request_policies(
    ctx: _Context, doc: Mapping[str, Any]
) -> dict[str, OriginRequestPolicy]:
    entries = _policy_tables(
        ctx,
        doc,
        "origin_request_policies",
        ORIGIN_REQUEST_POLICY_KEYS,
        managed.MANAGED_ORIGIN_REQUEST_POLICIES,
    )
    return {name: _origin_request_policy(t, name) for name, t in entries}


def _origin_request_policy(t: _Table, name: str) -> OriginRequestPolicy:
    headers = _selection(t, "headers", ORIGIN_HEADER_BEHAVIORS, header_names=True)
    if headers.behavior == "whitelist" and "authorization" in headers.names:
        # Reference B.4: the API refuses it (400); it belongs in the cache policy.
        t.error(
            "headers",
            "'authorization' cannot be in an origin request policy; add it to the cache "
            "policy instead (or use AllViewer)",
        )
    return OriginRequestPolicy(
        name=name,
        headers=headers,
        cookies=_selection(t, "cookies", ORIGIN_NAMED_BEHAVIORS),
        query_strings=_selection(t, "query_strings", ORIGIN_NAMED_BEHAVIORS),
    )


def _selection(
    t: _Table, key: str, allowed: Sequence[SelectionBehavior], *, header_names: bool = False
) -> Selection:
    """``"none"``/``"all"``, a list of names (an allow-list), or ``{behavior, names}``."""
    value = t.raw(key)
    if value is _MISSING:
        return Selection()
    if isinstance(value, str):
        return _checked_selection(
            _SelectionSpec(t, key, key, key), value, [], allowed, header_names
        )
    if isinstance(value, list):
        names = t.texts(key) or []
        behavior = "whitelist" if names else "none"
        return _checked_selection(
            _SelectionSpec(t, key, key, key), behavior, names, allowed, header_names
        )
    if not isinstance(value, dict):
        t.error(
            key, f'expected "none", "all", an array of names or {{behavior, names}}, got {value!r}'
        )
        return Selection()
    sub = t.sub(key, SELECTION_KEYS, required=("behavior",))
    if sub is None:
        return Selection()
    behavior = sub.text("behavior") or "none"
    names = sub.texts("names") or []
    spec = _SelectionSpec(sub, key, "behavior", "names")
    return _checked_selection(spec, behavior, names, allowed, header_names)


@dataclass(frozen=True)
class _SelectionSpec:
    """Where a selection was written: its table, its name for messages, and its two keys."""

    table: _Table
    kind: str  # "headers", "cookies" or "query_strings"
    behavior_key: str
    names_key: str


def _checked_selection(
    spec: _SelectionSpec,
    behavior: str,
    names: list[str],
    allowed: Sequence[SelectionBehavior],
    header_names: bool,
) -> Selection:
    t, kind = spec.table, spec.kind
    if behavior not in allowed:
        hint = _suggest(behavior, allowed)
        listing = ", ".join(allowed)
        message = f"{kind} behavior {behavior!r} is not allowed here{hint}; allowed: {listing}"
        t.error(spec.behavior_key, message)
        return Selection()
    if behavior in _NEEDS_NAMES and not names:
        t.error(spec.names_key, f"{kind} behavior {behavior!r} needs a non-empty list of names")
    if behavior not in _NEEDS_NAMES and names:
        t.error(spec.names_key, f"{kind} behavior {behavior!r} takes no names")
    if header_names:
        names = _header_names(t, spec.names_key, names)
    if behavior == "allViewerAndWhitelistCloudFront":
        for name in names:
            if not name.startswith("cloudfront-"):
                t.error(spec.names_key, f"{name!r} is not a CloudFront header (CloudFront-…)")
    for found in allowed:
        if found == behavior:
            return Selection(found, frozenset(names))
    return Selection()


def _header_names(t: _Table, key: str, names: list[str]) -> list[str]:
    valid = []
    for name in names:
        problem = _header_name_problem(name)
        if problem:
            t.error(key, problem)
        else:
            valid.append(name.lower())
    return valid


def _response_headers_policies(
    ctx: _Context, doc: Mapping[str, Any]
) -> dict[str, ResponseHeadersPolicy]:
    entries = _policy_tables(
        ctx,
        doc,
        "response_headers_policies",
        RESPONSE_HEADERS_POLICY_KEYS,
        managed.MANAGED_RESPONSE_HEADERS_POLICIES,
    )
    return {name: _response_headers_policy(t, name) for name, t in entries}


def _response_headers_policy(t: _Table, name: str) -> ResponseHeadersPolicy:
    remove = [
        n.lower() for n in _header_names(t, "remove_headers", t.texts("remove_headers") or [])
    ]
    cors = t.sub("cors", CORS_KEYS)
    return ResponseHeadersPolicy(
        name=name,
        security_headers=_security_headers(t),
        custom_headers=_response_custom_headers(t),
        remove_headers=frozenset(remove),
        cors=None if cors is None else _cors(cors),
    )


def _response_custom_headers(t: _Table) -> tuple[CustomHeader, ...]:
    """``{Name = "value"}`` or ``{Name = {value = "…", override = false}}``."""
    data = t.table("custom_headers")
    if data is None:
        return ()
    headers: list[CustomHeader] = []
    for name, value in data.items():
        where = t.at(f"custom_headers.{name}")
        problem = _header_name_problem(name)
        if problem:
            t.problems.add(where, problem)
            continue
        header = _valued_header(t, where, name, value)
        if header is not None:
            headers.append(header)
    _no_duplicate_names(t, "custom_headers", [h.name for h in headers])
    return tuple(headers)


def _valued_header(t: _Table, where: str, name: str, value: object) -> CustomHeader | None:
    if isinstance(value, str):
        return CustomHeader(name, value)
    if not isinstance(value, dict):
        t.problems.add(where, f"expected a string or {{value, override}}, got {_toml_type(value)}")
        return None
    sub = _Table(t.problems, where, value, ("value", "override"), required=("value",))
    text = sub.text("value")
    return None if text is None else CustomHeader(name, text, sub.flag("override", True))


def _security_headers(t: _Table) -> tuple[CustomHeader, ...]:
    sec = t.sub("security_headers", SECURITY_HEADER_KEYS)
    if sec is None:
        return ()
    found = [
        _simple_security(sec, "content_security_policy", "Content-Security-Policy", None),
        _content_type_options(sec),
        _simple_security(sec, "frame_options", "X-Frame-Options", FRAME_OPTIONS),
        _simple_security(sec, "referrer_policy", "Referrer-Policy", REFERRER_POLICIES),
        _hsts(sec),
        _xss_protection(sec),
    ]
    return tuple(h for h in found if h is not None)


def _value_and_override(
    sec: _Table, key: str, allowed: Sequence[str] | None
) -> tuple[str, bool] | None:
    """A security header given as ``"value"`` or ``{value = "…", override = true}``."""
    raw = sec.raw(key)
    if raw is _MISSING:
        return None
    if isinstance(raw, dict):
        sub = _Table(sec.problems, sec.at(key), raw, ("value", "override"), required=("value",))
        value, override, where = sub.text("value"), sub.flag("override", True), sub
    else:
        value, override, where = sec.text(key), True, sec
    if value is None:
        return None
    if allowed is not None and value not in allowed:
        field_key = "value" if where is not sec else key
        where.error(
            field_key, f"{value!r} is not one of {', '.join(allowed)}{_suggest(value, allowed)}"
        )
        return None
    return value, override


def _simple_security(
    sec: _Table, key: str, header: str, allowed: Sequence[str] | None
) -> CustomHeader | None:
    found = _value_and_override(sec, key, allowed)
    return None if found is None else CustomHeader(header, found[0], found[1])


def _content_type_options(sec: _Table) -> CustomHeader | None:
    # X-Content-Type-Options has one value, nosniff: true / false, or {override = …}.
    raw = sec.raw("content_type_options")
    if raw is _MISSING:
        return None
    if isinstance(raw, dict):
        sub = _Table(sec.problems, sec.at("content_type_options"), raw, ("override",))
        return CustomHeader("X-Content-Type-Options", "nosniff", sub.flag("override", True))
    enabled = sec.flag("content_type_options", False)
    return CustomHeader("X-Content-Type-Options", "nosniff") if enabled else None


def _hsts(sec: _Table) -> CustomHeader | None:
    """Strict-Transport-Security from ``{max_age_s, include_subdomains, preload, override}``."""
    keys = ("max_age_s", "include_subdomains", "preload", "override")
    sub = sec.sub("strict_transport_security", keys, required=("max_age_s",))
    if sub is None:
        return None
    value = f"max-age={sub.integer('max_age_s', 0, lo=0)}"
    if sub.flag("include_subdomains", False):
        value += "; includeSubDomains"
    if sub.flag("preload", False):
        value += "; preload"
    return CustomHeader("Strict-Transport-Security", value, sub.flag("override", True))


def _xss_protection(sec: _Table) -> CustomHeader | None:
    """X-XSS-Protection from ``{protection, mode_block, report_uri, override}``."""
    keys = ("protection", "mode_block", "report_uri", "override")
    sub = sec.sub("xss_protection", keys, required=("protection",))
    if sub is None:
        return None
    mode_block, report = sub.flag("mode_block", False), sub.text("report_uri")
    if not sub.flag("protection", True):
        if mode_block or report:
            sub.error("protection", "mode_block and report_uri need protection = true")
        return CustomHeader("X-XSS-Protection", "0", sub.flag("override", True))
    if mode_block and report:
        sub.error("report_uri", "cannot be combined with mode_block (CloudFront allows one)")
    value = "1" + ("; mode=block" if mode_block else "") + (f"; report={report}" if report else "")
    return CustomHeader("X-XSS-Protection", value, sub.flag("override", True))


def _cors(t: _Table) -> CorsConfig:
    defaults = CorsConfig()
    methods = [m.upper() for m in _non_empty_list(t, "allow_methods", defaults.allow_methods)]
    for method in methods:
        if method not in CORS_METHODS:
            t.error("allow_methods", f"{method!r} is not one of {', '.join(CORS_METHODS)}")
    if "ALL" in methods and len(methods) > 1:
        t.error("allow_methods", "'ALL' cannot be combined with other methods")
    max_age = t.integer("max_age_s", -1, lo=0)
    return CorsConfig(
        allow_origins=tuple(_non_empty_list(t, "allow_origins", defaults.allow_origins)),
        allow_headers=tuple(_list_or(t, "allow_headers", defaults.allow_headers)),
        allow_methods=tuple(methods),
        allow_credentials=t.flag("allow_credentials", defaults.allow_credentials),
        expose_headers=tuple(_list_or(t, "expose_headers", defaults.expose_headers)),
        max_age_s=None if max_age < 0 else max_age,
        origin_override=t.flag("origin_override", defaults.origin_override),
    )


def _list_or(t: _Table, key: str, default: Sequence[str]) -> list[str]:
    items = t.texts(key)
    return list(default) if items is None else items


def _non_empty_list(t: _Table, key: str, default: Sequence[str]) -> list[str]:
    items = t.texts(key)
    if items is None:
        return list(default)
    if not items:
        t.error(key, "must list at least one value")
        return list(default)
    return items


# --------------------------------------------------------------------------------------------
# [[behaviors]] and [default_behavior]
# --------------------------------------------------------------------------------------------


def _behaviors(ctx: _Context, doc: Mapping[str, Any], refs: _Refs) -> tuple[Behavior, ...]:
    tables = ctx.entries(doc, "behaviors", BEHAVIOR_KEYS, required=("path", "origin"))
    if len(tables) > MAX_BEHAVIORS:
        ctx.problems.add(
            "behaviors", f"{len(tables)} cache behaviours; CloudFront allows {MAX_BEHAVIORS}"
        )
    seen: dict[str, str] = {}
    behaviors = []
    for t in tables:
        path = _behavior_path(t, seen)
        behaviors.append(_behavior(t, path, refs))
    return tuple(behaviors)


def _behavior_path(t: _Table, seen: dict[str, str]) -> str:
    path = t.text("path")
    if path is None:
        return "*"
    try:
        validate_pattern(path)
    except InputError as exc:
        t.error("path", str(exc))
        return path
    # "/a*" and "a*" are the same pattern; the later of two could never be selected.
    key = path[1:] if path.startswith("/") else path
    if key in seen:
        t.error("path", f"pattern {path!r} repeats {seen[key]}; the later one could never match")
    seen.setdefault(key, t.where)
    return path


def _default_behavior(ctx: _Context, doc: Mapping[str, Any], refs: _Refs) -> Behavior:
    if "default_behavior" not in doc:
        ctx.problems.add("default_behavior", "a [default_behavior] table is required")
        return Behavior(
            path="*", origin="", cache_policy=managed.MANAGED_CACHE_POLICIES["CachingOptimized"]
        )
    data = _section(ctx.problems, doc, "default_behavior")
    if "path" in data:
        ctx.problems.add(
            "default_behavior.path", "the default behaviour always has the pattern '*'; remove it"
        )
        data = {k: v for k, v in data.items() if k != "path"}
    t = ctx.table("default_behavior", data, DEFAULT_BEHAVIOR_KEYS, required=("origin",))
    return _behavior(t, "*", refs)


def _behavior(t: _Table, path: str, refs: _Refs) -> Behavior:
    viewer_request, viewer_response = _function_associations(t, refs.functions)
    allowed = _allowed_methods(t)
    return Behavior(
        path=path,
        origin=_target(t, refs.targets),
        cache_policy=_policy_ref(
            t,
            "cache_policy",
            refs.cache_policies,
            managed.find_cache_policy,
            managed.MANAGED_CACHE_POLICIES,
        )
        or managed.MANAGED_CACHE_POLICIES["CachingOptimized"],
        origin_request_policy=_policy_ref(
            t,
            "origin_request_policy",
            refs.origin_request_policies,
            managed.find_origin_request_policy,
            managed.MANAGED_ORIGIN_REQUEST_POLICIES,
        ),
        response_headers_policy=_policy_ref(
            t,
            "response_headers_policy",
            refs.response_headers_policies,
            managed.find_response_headers_policy,
            managed.MANAGED_RESPONSE_HEADERS_POLICIES,
        ),
        viewer_request=viewer_request,
        viewer_response=viewer_response,
        allowed_methods=allowed,
        cached_methods=_cached_methods(t, allowed),
        viewer_protocol_policy=_viewer_protocol_policy(t),
        compress=t.flag("compress", True),
    )


def _target(t: _Table, targets: Sequence[str]) -> str:
    name = t.text("origin")
    if name is None:
        return ""
    if name not in targets:
        t.error("origin", f"unknown origin or origin group {name!r}{_suggest(name, targets)}")
    return name


def _policy_ref(
    t: _Table,
    key: str,
    custom: Mapping[str, _T],
    find_managed: Callable[[str], _T | None],
    managed_names: Iterable[str],
) -> _T | None:
    """A policy named by a custom policy's name, or a managed one's name, API name or ID."""
    name = t.text(key)
    if name is None:
        return None
    if name in custom:
        return custom[name]
    found = find_managed(name)
    if found is None:
        kind = key.replace("_", " ")
        hint = _suggest(name, [*custom, *managed_names])
        t.error(key, f"unknown {kind} {name!r}{hint}")
    return found


def _function_associations(
    t: _Table, functions: Mapping[str, FunctionDecl]
) -> tuple[str | None, str | None]:
    """The viewer-request / viewer-response function names, from either spelling.

    ``viewer_request = "f"`` is shorthand for ``function_associations = [{event_type =
    "viewer-request", function = "f"}]``; a behaviour has at most one function per event type.
    """
    chosen: dict[str, str] = {}
    for event in EVENT_TYPES:
        key = event.replace("-", "_")
        name = t.text(key)
        if name is not None:
            chosen[event] = name
            _known_function(t, key, name, functions)
    for where, event, name in _association_entries(t):
        if event in chosen:
            t.problems.add(where, f"a second {event} function; a behaviour has at most one")
            continue
        chosen[event] = name
        _known_function(t, "function_associations", name, functions)
    return chosen.get("viewer-request"), chosen.get("viewer-response")


def _association_entries(t: _Table) -> list[tuple[str, str, str]]:
    entries = []
    found = _table_array(t.problems, t.data, "function_associations", t.where)
    for where, data in found:
        sub = _Table(t.problems, where, data, ASSOCIATION_KEYS, required=ASSOCIATION_KEYS)
        event, name = sub.text("event_type"), sub.text("function")
        if event is not None and event not in EVENT_TYPES:
            why = " (origin events are Lambda@Edge only)" if event.startswith("origin-") else ""
            sub.error("event_type", f"{event!r} is not one of {', '.join(EVENT_TYPES)}{why}")
        elif event is not None and name is not None:
            entries.append((sub.where, event, name))
    return entries


def _known_function(t: _Table, key: str, name: str, functions: Mapping[str, FunctionDecl]) -> None:
    if name not in functions:
        t.error(key, f"unknown function {name!r}{_suggest(name, functions)}")


def _methods(t: _Table, key: str) -> frozenset[str] | None:
    items = t.texts(key)
    return None if items is None else frozenset(m.upper() for m in items)


def _allowed_methods(t: _Table) -> frozenset[str]:
    methods = _methods(t, "allowed_methods")
    if methods is None:
        return GET_HEAD
    if methods not in METHOD_SETS:
        choices = "; ".join(f"[{v}]" for v in ("GET, HEAD", "GET, HEAD, OPTIONS"))
        t.error(
            "allowed_methods",
            f"CloudFront allows only {choices} or all seven "
            "[GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]",
        )
        return GET_HEAD
    return methods


def _cached_methods(t: _Table, allowed: frozenset[str]) -> frozenset[str]:
    methods = _methods(t, "cached_methods")
    if methods is None:
        return GET_HEAD
    if methods not in CACHED_METHOD_SETS:
        t.error("cached_methods", "CloudFront allows only [GET, HEAD] or [GET, HEAD, OPTIONS]")
        return GET_HEAD
    if not methods <= allowed:
        t.error("cached_methods", "OPTIONS can be cached only when allowed_methods includes it")
        return GET_HEAD
    return methods


def _viewer_protocol_policy(t: _Table) -> ViewerProtocolPolicy:
    value = t.text("viewer_protocol_policy", "allow-all")
    for policy in VIEWER_PROTOCOL_POLICIES:
        if policy == value:
            return policy
    allowed = VIEWER_PROTOCOL_POLICIES
    t.error(
        "viewer_protocol_policy",
        f"{value!r} is not one of {', '.join(allowed)}{_suggest(str(value), allowed)}",
    )
    return "allow-all"


# --------------------------------------------------------------------------------------------
# [[custom_error_responses]]
# --------------------------------------------------------------------------------------------


def _custom_error_responses(
    ctx: _Context, doc: Mapping[str, Any]
) -> dict[int, CustomErrorResponse]:
    responses: dict[int, CustomErrorResponse] = {}
    seen: dict[str, str] = {}
    for t in ctx.entries(
        doc, "custom_error_responses", ERROR_RESPONSE_KEYS, required=("error_code",)
    ):
        code = _status(t, "error_code", ERROR_CODES)
        if code is None or not _unique(t, "error_code", str(code), seen, "error code"):
            continue
        page = t.text("response_page_path")
        response_code = _status(t, "response_code", RESPONSE_CODES)
        if page is not None and not page.startswith("/"):
            t.error("response_page_path", f"{page!r} must start with '/'")
        if (page is None) != (t.raw("response_code") is _MISSING):
            # CloudFront: ResponsePagePath and ResponseCode are given together or not at all.
            t.error(None, "response_page_path and response_code go together: set both or neither")
        responses[code] = CustomErrorResponse(
            error_code=code,
            response_page_path=page,
            response_code=response_code,
            error_caching_min_ttl=t.integer("error_caching_min_ttl", 10, lo=0),
        )
    return responses


def _status(t: _Table, key: str, allowed: frozenset[int]) -> int | None:
    value = t.raw(key)
    if value is _MISSING:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        t.error(key, f"expected an integer, got {_toml_type(value)} {value!r}")
        return None
    if value not in allowed:
        t.error(key, f"{value} is not one of {', '.join(map(str, sorted(allowed)))}")
        return None
    return value


# --------------------------------------------------------------------------------------------
# [edges]
# --------------------------------------------------------------------------------------------


def _edges(ctx: _Context, data: Mapping[str, Any]) -> Edges:
    t = ctx.table("edges", data, EDGES_KEYS)
    defaults = Edges()
    pops = _pops(t) or defaults.pops
    geoip = (
        ctx.existing_file(t, "geoip_database", "GeoIP database")
        if t.has("geoip_database")
        else None
    )
    propagation = _propagation(t) or dict(defaults.propagation)
    per_pop = _per_pop_lags(t, pops)
    if per_pop:
        # edgesim.kvs.propagation reads pinned POPs from the spec itself ("per_pop_ms"); keeping
        # them there too means the spec alone describes the whole lag model.
        propagation["per_pop_ms"] = dict(per_pop)
    return Edges(
        pops=pops,
        propagation=propagation,
        propagation_per_pop=per_pop,
        pop_cidrs=_cidr_rules(t, "pop_cidrs", lambda v: _pop_ref(v, pops)),
        country_cidrs=_cidr_rules(t, "country_cidrs", _country_problem),
        default_country=_country(t, defaults.default_country),
        geoip_database=geoip,
    )


def _pops(t: _Table) -> tuple[str, ...] | None:
    pops = t.texts("pops")
    if pops is None:
        return None
    if not pops:
        t.error("pops", "must list at least one POP")
        return None
    for pop in pops:
        if not _POP_CODE.fullmatch(pop):
            upper = f" (did you mean {pop.upper()!r}?)" if _POP_CODE.fullmatch(pop.upper()) else ""
            t.error("pops", f"{pop!r} is not a POP code like 'IAD' or 'FRA50'{upper}")
    for pop in sorted({p for p in pops if pops.count(p) > 1}):
        t.error("pops", f"{pop!r} is listed twice")
    return tuple(dict.fromkeys(pops))


def _propagation(t: _Table) -> dict[str, object] | None:
    data = t.table("propagation")
    if data is None:
        return None
    model = data.get("model")
    if not isinstance(model, str) or model not in PROPAGATION_KEYS:
        models = ", ".join(PROPAGATION_KEYS)
        t.error("propagation", f"model must be one of {models}, got {model!r}")
        return None
    sub = _Table(t.problems, t.at("propagation"), data, PROPAGATION_KEYS[model])
    if model == "fixed":
        return {"model": "fixed", "lag_ms": _ms(sub, "lag_ms", 0)}
    return _uniform(sub)


def _ms(sub: _Table, key: str, default: float) -> float:
    """A duration in ms ≥ 0, kept as written (int or float) for edgesim.kvs.propagation."""
    value = sub.number(key, default, lo=0)
    raw = sub.raw(key)
    return raw if isinstance(raw, int | float) and raw == value else default


def _uniform(sub: _Table) -> dict[str, object]:
    for key in ("min_ms", "max_ms"):
        if not sub.has(key):
            sub.error(key, "is required for the uniform model")
    low = _ms(sub, "min_ms", 0)
    high = _ms(sub, "max_ms", low)
    if low > high:
        sub.error("max_ms", f"{_num(high)} is below min_ms ({_num(low)})")
    spec: dict[str, object] = {"model": "uniform", "min_ms": low, "max_ms": high}
    if sub.has("seed"):
        spec["seed"] = sub.integer("seed", 0)
    return spec


def _per_pop_lags(t: _Table, pops: Sequence[str]) -> dict[str, float]:
    """Pinned per-POP delays from ``[edges.propagation_per_pop]`` and ``propagation.per_pop_ms``."""
    lags: dict[str, float] = {}
    propagation = t.raw("propagation")
    sources = [(t.at("propagation_per_pop"), t.table("propagation_per_pop"))]
    if isinstance(propagation, dict):
        found = propagation.get("per_pop_ms")
        if found is not None and not isinstance(found, dict):
            t.error("propagation.per_pop_ms", f"expected a table, got {_toml_type(found)}")
        sources.append((t.at("propagation.per_pop_ms"), found if isinstance(found, dict) else None))
    for where, data in sources:
        if data is not None:
            _read_lags(_Table(t.problems, where, data, list(data)), pops, lags)
    return lags


def _read_lags(table: _Table, pops: Sequence[str], lags: dict[str, float]) -> None:
    for pop in table.data:
        if pop not in pops:
            table.error(pop, f"POP {pop!r} is not in edges.pops{_suggest(pop, pops)}")
        elif pop in lags:
            table.error(pop, f"POP {pop!r} already has a delay (set it in one place)")
        else:
            lags[pop] = table.number(pop, 0.0, lo=0)


def _pop_ref(value: str, pops: Sequence[str]) -> str | None:
    if value in pops:
        return None
    return f"POP {value!r} is not in edges.pops{_suggest(value, pops)}"


def _country_problem(value: str) -> str | None:
    if _COUNTRY_CODE.fullmatch(value):
        return None
    return f"{value!r} is not an ISO 3166-1 alpha-2 country code like 'DE'"


def _country(t: _Table, default: str) -> str:
    value = t.text("default_country", default) or default
    problem = _country_problem(value)
    if problem:
        t.error("default_country", problem)
        return default
    return value


def _cidr_rules(
    t: _Table, key: str, check_value: Callable[[str], str | None]
) -> tuple[CidrRule, ...]:
    data = t.table(key)
    if data is None:
        return ()
    rules = []
    for network, value in data.items():
        where = t.at(f'{key}."{network}"')
        normalised = _network(t.problems, where, network)
        if not isinstance(value, str):
            t.problems.add(where, f"expected a string, got {_toml_type(value)} {value!r}")
            continue
        problem = check_value(value)
        if problem:
            t.problems.add(where, problem)
        elif normalised is not None:
            rules.append(CidrRule(network=normalised, value=value))
    return tuple(rules)


def _network(problems: _Problems, where: str, text: str) -> str | None:
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError as exc:
        hint = ""
        with contextlib.suppress(ValueError):
            hint = f" (did you mean {str(ipaddress.ip_network(text, strict=False))!r}?)"
        problems.add(where, f"{text!r} is not a network in CIDR notation: {exc}{hint}")
        return None
