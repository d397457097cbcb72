"""``[[origins]]`` and ``[[origin_groups]]``: origin URLs, paths, custom headers, timeouts, and
failover groups of two origins (CloudFront's ``Origin`` and ``OriginGroup``); ``[origins_local]``
(and ``serve --origin``): where an origin id or a domain name is reached locally."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from edgesim.distribution.model import CustomHeader, LocalOrigin, Origin, OriginGroup, S3Access
from edgesim.distribution.tables import (
    MISSING,
    Context,
    Table,
    header_name_problem,
    key_part,
    no_duplicate_names,
    section,
    suggest,
    toml_type,
    unique,
)
from edgesim.errors import InputError

ORIGIN_KEYS = (
    "id",
    "url",
    "origin_path",
    "custom_headers",
    "connect_timeout_s",
    "response_timeout_s",
    "connection_attempts",
    "s3",
    "type",
)
ORIGIN_TYPES = ("custom", "s3")
ORIGIN_GROUP_KEYS = ("id", "primary", "secondary", "failover_status_codes")

# CloudFront quota (Developer Guide "Quotas"; reference B.8).
MAX_ORIGIN_GROUPS = 10

# Reference B.8: the only status codes an origin group may fail over on.
FAILOVER_CODES = frozenset({400, 403, 404, 416, 500, 502, 503, 504})
DEFAULT_FAILOVER_CODES = frozenset({500, 502, 503, 504})

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


def read_origins(ctx: Context, doc: Mapping[str, Any]) -> dict[str, Origin]:
    tables = ctx.entries(doc, "origins", ORIGIN_KEYS, required=("id", "url"))
    if doc.get("origins") in (None, []):
        ctx.problems.add("origins", "at least one [[origins]] table is required")
    origins: dict[str, Origin] = {}
    seen: dict[str, str] = {}
    for t in tables:
        origin_id = t.text("id")
        if origin_id is None or not unique(t, "id", origin_id, seen, "origin id"):
            continue
        origins[origin_id] = _origin(t, origin_id)
    return origins


def _origin(t: Table, origin_id: str) -> Origin:
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
        s3=_is_s3(t),
    )


# The S3 REST endpoint forms (S3 User Guide, "Virtual hosting of buckets"): <bucket>.s3.amazonaws
# .com, <bucket>.s3.<region>.amazonaws.com, the legacy <bucket>.s3-<region>.amazonaws.com and
# the dual-stack <bucket>.s3.dualstack.<region>.amazonaws.com. A website endpoint
# (<bucket>.s3-website[-.]<region>.amazonaws.com) is a custom origin, not an S3 one.
_S3_REST = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3(?:[.-](?!website)[a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$"
)


def is_s3_rest_endpoint(domain: str) -> bool:
    """Whether ``domain`` is an S3 bucket's REST endpoint (not a website endpoint)."""
    return _S3_REST.match(domain.lower().rstrip(".")) is not None


def _is_s3(t: Table) -> bool:
    """``s3 = true``, or ``type = "s3"`` (``"custom"``: not S3): what a Lambda@Edge
    origin-request event names ``origin.s3`` rather than ``origin.custom``."""
    kind = t.text("type")
    if kind is None:
        if t.has("s3"):
            return t.flag("s3", False)
        # Unsaid: an S3 bucket's REST endpoint (or an MRAP host) is an S3 origin, as CloudFront
        # treats a bucket endpoint given as the origin domain.
        try:
            host = urlsplit(str(t.raw("url") or "")).hostname or ""
        except ValueError:  # a malformed URL: reported on its own key
            return False
        return is_s3_rest_endpoint(host)
    if kind not in ORIGIN_TYPES:
        t.error("type", f"{kind!r} is not one of {', '.join(ORIGIN_TYPES)}")
        return False
    if t.has("s3") and t.flag("s3", False) != (kind == "s3"):
        t.error("s3", f"contradicts type = {kind!r}; give one of them")
    return kind == "s3"


def _origin_url(t: Table) -> str:
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


def _origin_path(t: Table) -> str:
    # CloudFront's OriginPath: begins with "/", does not end with "/", at most 255 characters.
    if t.raw("origin_path") == "":
        return ""  # CloudFront's own default, written out
    value = t.text("origin_path", "") or ""
    if value and (not value.startswith("/") or value.endswith("/") or len(value) > 255):
        t.error("origin_path", f"{value!r} must start with '/', not end with '/', ≤ 255 chars")
        return ""
    return value


def _origin_headers(t: Table) -> tuple[CustomHeader, ...]:
    data = t.table("custom_headers")
    if data is None:
        return ()
    headers: list[CustomHeader] = []
    for name, value in data.items():
        where = t.at(f"custom_headers.{name}")
        if not isinstance(value, str):
            t.problems.add(where, f"expected a string, got {toml_type(value)} {value!r}")
            continue
        problem = header_name_problem(name) or _forbidden_origin_header(name)
        if problem:
            t.problems.add(where, problem)
            continue
        headers.append(CustomHeader(name, value))
    no_duplicate_names(t, "custom_headers", [h.name for h in headers])
    return tuple(headers)


def _forbidden_origin_header(name: str) -> str | None:
    lower = name.lower()
    if lower in FORBIDDEN_ORIGIN_HEADERS or lower.startswith(FORBIDDEN_ORIGIN_HEADER_PREFIXES):
        return f"CloudFront cannot add {name!r} to origin requests"
    return None


def read_origin_groups(
    ctx: Context, doc: Mapping[str, Any], origins: Mapping[str, Origin]
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
        if group_id is None or not unique(t, "id", group_id, seen, "origin or group id"):
            continue
        groups[group_id] = _origin_group(t, group_id, origins)
    return groups


def _origin_group(t: Table, group_id: str, origins: Mapping[str, Origin]) -> OriginGroup:
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


def _member(t: Table, key: str, origins: Mapping[str, Origin]) -> str | None:
    name = t.text(key)
    if name is not None and name not in origins:
        t.error(key, f"unknown origin {name!r}{suggest(name, origins)}; members must be origins")
    return name


def _failover_codes(t: Table) -> frozenset[int]:
    value = t.raw("failover_status_codes")
    if value is MISSING:
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
# [origins_local] and serve --origin
# --------------------------------------------------------------------------------------------

# A DNS name as an origin's DomainName is written: at least two labels of letters, digits and
# inner hyphens, the last not all digits (CloudFront takes no IP address as an origin domain), an
# optional trailing dot. A single label ("app") is read as an origin id, so a misspelt id is
# reported instead of being taken for a host name.
_DOMAIN = re.compile(
    r"(?=.{1,253}\.?$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?=[A-Za-z0-9-]*[A-Za-z-])[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?"
)
_HOST_PORT = re.compile(r"[A-Za-z0-9.-]+:[0-9]{1,5}")


def is_domain_name(text: str) -> bool:
    return _DOMAIN.fullmatch(text) is not None


def local_key(key: str, origins: Mapping[str, Origin]) -> str:
    """The ``origins_local`` key ``key`` is stored under: an origin id as written, a domain name
    in lower case without a trailing dot (DNS names ignore case), so either spelling finds it."""
    return key if key in origins else key.lower().rstrip(".")


def local_origin(
    key: str,
    value: object,
    *,
    base_dir: Path,
    origins: Mapping[str, Origin],
    groups: Mapping[str, OriginGroup],
) -> LocalOrigin:
    """One ``[origins_local]`` entry: ``key`` an origin id or a domain name, ``value`` a URL
    (``http://`` or ``https://``, host, optional port, nothing after it) or a directory relative
    to ``base_dir``. Raises InputError saying what is wrong, without saying where it was written
    (the config reader and the command line each prefix their own place)."""
    _check_local_key(key, origins, groups)
    if isinstance(value, dict):
        return _local_table(key, value, base_dir)
    if not isinstance(value, str):
        raise InputError(
            f"expected a URL or a directory (a string, or a table with url, dir or regions), "
            f"got {toml_type(value)} {value!r}"
        )
    if not value.strip():
        raise InputError("expected a URL or a directory, got an empty string")
    if "://" in value:
        return LocalOrigin(key=key, url=_local_url(value))
    path = Path(value).expanduser()
    directory = path if path.is_absolute() else base_dir / path
    if directory.is_dir():
        return LocalOrigin(key=key, directory=directory.resolve())
    if _HOST_PORT.fullmatch(value):
        raise InputError(
            f"{value!r} is neither a URL nor a directory (did you mean 'http://{value}'?)"
        )
    found = "is a file" if directory.exists() else "does not exist"
    raise InputError(
        f"{value!r} is neither a URL (http:// or https://) nor a directory: {directory} {found}"
    )


# A region name as AWS spells them (us-east-1, eu-west-1, ap-southeast-2, us-gov-west-1, ...).
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_TABLE_KEYS = ("url", "dir", "regions", "region", "credentials")
DEFAULT_S3_REGION = "us-east-1"


def _local_table(key: str, table: Mapping[str, Any], base_dir: Path) -> LocalOrigin:
    """The table forms: ``{ url = "…" }``, ``{ dir = "…", region = "…", credentials = {…} }``
    and ``{ regions = { "us-east-1" = "dir-a", … }, credentials = {…} }`` (MRAP-style: the
    directory of the region nearest the POP answers)."""
    unknown = [k for k in table if k not in _TABLE_KEYS]
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r} (expected: {', '.join(_TABLE_KEYS)})")
    forms = [k for k in ("url", "dir", "regions") if k in table]
    if len(forms) != 1:
        raise InputError("a table needs exactly one of url, dir and regions")
    if "url" in table:
        if "region" in table or "credentials" in table:
            raise InputError("region and credentials belong to a directory (dir or regions)")
        return LocalOrigin(key=key, url=_local_url(_string(table, "url")))
    credentials = _credentials(table.get("credentials"))
    if "dir" in table:
        region = _region(table.get("region", DEFAULT_S3_REGION), "region")
        directory = _directory(_string(table, "dir"), base_dir, "dir")
        access = S3Access(region, credentials) if credentials else None
        return LocalOrigin(key=key, directory=directory, access=access)
    if "region" in table:
        raise InputError("with regions, each directory's region is its key (no region)")
    regions = table["regions"]
    if not isinstance(regions, dict) or not regions:
        raise InputError(f"regions: expected a table of region = directory, got {regions!r}")
    pairs = tuple(
        (_region(name, f"regions.{name}"), _directory(_string(regions, name, "regions."),
                                                       base_dir, f"regions.{name}"))
        for name in regions
    )  # fmt: skip
    # Every region's bucket takes the same keys: an MRAP signs once for all of them (SigV4A).
    access = S3Access(pairs[0][0], credentials) if credentials else None
    return LocalOrigin(key=key, regions=pairs, access=access)


def _string(table: Mapping[str, Any], name: str, prefix: str = "") -> str:
    value = table[name]
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{prefix}{name}: expected a non-empty string, got {value!r}")
    return value


def _region(value: object, where: str) -> str:
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise InputError(f"{where}: {value!r} is not an AWS region name such as 'eu-west-1'")
    return value


def _directory(value: str, base_dir: Path, where: str) -> Path:
    path = Path(value).expanduser()
    directory = path if path.is_absolute() else base_dir / path
    if not directory.is_dir():
        found = "is a file" if directory.exists() else "does not exist"
        raise InputError(f"{where}: {directory} {found} (expected a directory)")
    return directory.resolve()


def _credentials(value: object) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise InputError(
            'credentials: expected a table { access_key_id = "…", secret_access_key = "…" }'
        )
    extra = [k for k in value if k not in ("access_key_id", "secret_access_key")]
    if extra:
        raise InputError(f"credentials: unknown key {extra[0]!r}")
    pair = tuple(_string(value, k, "credentials.") for k in ("access_key_id", "secret_access_key")
                 if k in value)  # fmt: skip
    if len(pair) != 2:
        raise InputError("credentials: needs access_key_id and secret_access_key")
    return ((pair[0], pair[1]),)


def _check_local_key(
    key: str, origins: Mapping[str, Origin], groups: Mapping[str, OriginGroup]
) -> None:
    if key in origins:
        return
    if key in groups:
        members = f"{groups[key].primary!r} and {groups[key].secondary!r}"
        raise InputError(f"{key!r} is an origin group; map its origins ({members}) instead")
    if is_domain_name(key):
        return
    hint = suggest(key, origins)
    known = f"; origin ids: {', '.join(origins)}" if origins else ""
    raise InputError(
        f"{key!r} is neither an origin id nor a domain name such as 'api.example.com'{hint}{known}"
    )


def _local_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:
        raise InputError(f"{url!r} is not a valid URL: {exc}") from None
    problem = _local_url_problem(parts)
    if problem:
        raise InputError(f"{url!r}: {problem}")
    return f"{parts.scheme.lower()}://{parts.netloc}"


def _local_url_problem(parts: SplitResult) -> str | None:
    if parts.path not in ("", "/"):
        problem = _origin_url_problem(parts._replace(path=""))
        # The origin's own origin_path (or the helper's originPath) is added to each request.
        return problem or "a local URL has no path (the origin's origin_path is still added)"
    if parts.query or parts.fragment:
        return "a local URL has no query string or fragment"
    return _origin_url_problem(parts)


def read_origins_local(
    ctx: Context,
    doc: Mapping[str, Any],
    origins: Mapping[str, Origin],
    groups: Mapping[str, OriginGroup],
) -> dict[str, LocalOrigin]:
    """``[origins_local]``: ``"ID_OR_DOMAIN" = "URL" | "DIRECTORY"``, keyed by ``local_key``."""
    data = section(ctx.problems, doc, "origins_local")
    entries: dict[str, LocalOrigin] = {}
    seen: dict[str, str] = {}
    for key, value in data.items():
        where = f"origins_local.{key_part(key)}"
        try:
            entry = local_origin(key, value, base_dir=ctx.base_dir, origins=origins, groups=groups)
        except InputError as exc:
            ctx.problems.add(where, str(exc))
            continue
        stored = local_key(key, origins)
        if stored in seen:
            ctx.problems.add(where, f"the same domain as {seen[stored]} (domain names ignore case)")
            continue
        seen[stored] = where
        entries[stored] = entry
    return entries
