"""``Distribution`` → edgesim.toml text, for ``edgesim import SOURCE [--out edgesim.toml]``.

The file says everything the distribution holds that edgesim.toml can express, written out
explicitly (a default of the API — ``Compress`` false — differs from edgesim.toml's), with a
``# from …`` comment naming where each part was written in the source. Reading it back with
``edgesim.distribution.config`` gives the same ``Distribution`` (tests/unit/importers/
test_totoml.py checks it on generated bundles), except for what edgesim.toml has no key for:

- ``notes`` (what is not emulated) and ``sources`` (the files hot reload watches) are written as
  comments: a config the user owns has no import source;
- ``config_path`` (set by the reader);
- ``Origin.s3`` while ``[[origins]]`` has no ``s3`` key (a comment says the origin is S3).

Paths under the directory of the TOML file (``base_dir``) are written relative to it, others
absolute.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from edgesim.distribution.model import (
    Behavior,
    CachePolicy,
    CustomHeader,
    Distribution,
    LambdaSettings,
    OriginRequestPolicy,
    ResponseHeadersPolicy,
    Selection,
)
from edgesim.distribution.origins import ORIGIN_KEYS, is_s3_rest_endpoint
from edgesim.distribution.server import SERVER_KEYS
from edgesim.distribution.throttling import THROTTLING_KEYS
from edgesim.importers.overlay import PORT_PLACEHOLDER, unmapped_origins

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_METHOD_ORDER = ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE")
# Whether edgesim.toml's [[origins]] can say an origin is an S3 one (a key of a later version).
S3_KEY = "s3" in ORIGIN_KEYS


def to_toml(
    dist: Distribution,
    *,
    base_dir: Path,
    where: Mapping[str, str] | None = None,
    legacy: Mapping[str, str] | None = None,
    title: str | None = None,
) -> str:
    """edgesim.toml text for ``dist``; ``where`` (``apishape.Imported.where``) gives the
    ``# from`` comments, ``legacy`` (``Imported.legacy``) names the policies made from legacy
    cache settings, ``title`` is the first comment line."""
    return _Writer(dist, Path(os.path.abspath(base_dir)), where or {}, legacy or {}).write(title)


# --------------------------------------------------------------------------------------------
# TOML values
# --------------------------------------------------------------------------------------------


def toml_string(text: str) -> str:
    """A TOML basic string (escapes what TOML requires: ``"``, ``\\`` and control characters)."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _printable(text: str) -> str:
    """``text`` for a comment: TOML comments may hold no control character but tab."""
    return "".join(
        f"\\u{ord(ch):04X}" if (ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F else ch
        for ch in text
    )


def toml_key(name: str) -> str:
    return name if _BARE.fullmatch(name) else toml_string(name)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, Path):
        return toml_string(str(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        inner = ", ".join(f"{toml_key(str(k))} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _methods(methods: Iterable[str]) -> list[str]:
    found = set(methods)
    return [m for m in _METHOD_ORDER if m in found]


def _selection(selection: Selection) -> dict[str, object]:
    out: dict[str, object] = {"behavior": selection.behavior}
    if selection.names:
        out["names"] = sorted(selection.names)
    return out


# --------------------------------------------------------------------------------------------
# The writer
# --------------------------------------------------------------------------------------------


class _Writer:
    def __init__(
        self,
        dist: Distribution,
        base_dir: Path,
        where: Mapping[str, str],
        legacy: Mapping[str, str],
    ) -> None:
        self.dist = dist
        self.base_dir = base_dir
        self.where = where
        self.legacy = legacy
        self.lines: list[str] = []

    def write(self, title: str | None) -> str:
        self._header(title)
        self._server()
        self._distribution()
        self._origins()
        self._origin_groups()
        self._origins_local()
        self._kvs()
        self._functions()
        self._lambdas()
        self._policies()
        self._keys()
        self._behaviors()
        self._custom_errors()
        self._edges()
        self._throttling()
        self._lambda_settings()
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n"

    # -- helpers -------------------------------------------------------------------------------
    def table(self, header: str, where_key: str | None = None) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append("")
        self.lines.append(header)
        origin = self.where.get(where_key) if where_key else None
        if origin:
            self.comment(f"from {origin}")

    def comment(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.lines.append(f"# {_printable(line)}".rstrip())

    def put(self, key: str, value: object) -> None:
        self.lines.append(f"{toml_key(key)} = {_value(value)}")

    def path(self, path: Path) -> str:
        absolute = Path(os.path.abspath(path))
        try:
            return absolute.relative_to(self.base_dir).as_posix()
        except ValueError:
            return str(absolute)

    # -- sections ------------------------------------------------------------------------------
    def _header(self, title: str | None) -> None:
        self.comment(title or "edgesim.toml written by `edgesim import`")
        self.comment("Reference: docs/configuration.md; how imports map: docs/import.md.")
        if self.dist.sources:
            self.comment("Imported from (serve --from would watch these files):")
            for source in self.dist.sources:
                self.comment(f"  {self.path(source)}")
        if self.dist.notes:
            self.comment("Not emulated (serve --from prints these at start-up):")
            for note in self.dist.notes:
                self.comment(f"  - {note}")

    def _server(self) -> None:
        # Every key [server] has, as the ServerSettings field of the same name.
        server = self.dist.server
        self.table("[server]")
        for key in SERVER_KEYS:
            value = getattr(server, key)
            if value is not None:
                self.put(key, self.path(value) if isinstance(value, Path) else value)

    def _distribution(self) -> None:
        dist = self.dist
        geo = dist.geo_restriction
        if dist.default_root_object is None and not dist.aliases and geo.restriction_type == "none":
            return
        self.table("[distribution]", "distribution")
        if dist.default_root_object is not None:
            self.put("default_root_object", dist.default_root_object)
        if dist.aliases:
            self.put("aliases", list(dist.aliases))
        if geo.restriction_type != "none":
            self.put(
                "geo_restriction",
                {"type": geo.restriction_type, "countries": sorted(geo.countries)},
            )

    def _origins(self) -> None:
        for origin in self.dist.origins.values():
            self.table("[[origins]]", f"origins.{origin.id}")
            if origin.s3 and not S3_KEY:
                self.comment("an S3 origin (map it to a directory in [origins_local])")
            self.put("id", origin.id)
            self.put("url", origin.url)
            if S3_KEY and origin.s3:
                self.put("s3", True)
            elif S3_KEY and is_s3_rest_endpoint(urlsplit(origin.url).hostname or ""):
                self.put("s3", False)  # a bucket endpoint served as a custom origin: said, as
                # edgesim.toml reads an unsaid bucket endpoint as S3
            if origin.origin_path:
                self.put("origin_path", origin.origin_path)
            if origin.custom_headers:
                self.put("custom_headers", {h.name: h.value for h in origin.custom_headers})
            self.put("connect_timeout_s", origin.connect_timeout_s)
            self.put("response_timeout_s", origin.response_timeout_s)
            self.put("connection_attempts", origin.connection_attempts)

    def _origin_groups(self) -> None:
        for group in self.dist.origin_groups.values():
            self.table("[[origin_groups]]", f"origin_groups.{group.id}")
            self.put("id", group.id)
            self.put("primary", group.primary)
            self.put("secondary", group.secondary)
            self.put("failover_status_codes", sorted(group.failover_status_codes))

    def _origins_local(self) -> None:
        local = self.dist.origins_local
        missing = unmapped_origins(self.dist)
        if not local and not missing:
            return
        self.table("[origins_local]")
        self.comment("where each origin runs on this machine (a URL, or a directory for S3)")
        for entry in local.values():
            if entry.url is not None:
                self.put(entry.key, entry.url)
            elif entry.directory is not None:
                self.put(entry.key, self.path(entry.directory))
        for origin in missing:
            self.comment(
                f"{toml_key(origin.id)} = {toml_string(PORT_PLACEHOLDER)}   "
                f"# not mapped yet: {origin.url}"
            )

    def _kvs(self) -> None:
        for store in self.dist.kvs.values():
            self.table("[[kvs]]", f"kvs.{store.name}")
            self.put("name", store.name)
            if store.data is not None:
                self.put("data", self.path(store.data))

    def _functions(self) -> None:
        for fn in self.dist.functions.values():
            self.table("[[functions]]", f"functions.{fn.name}")
            self.put("name", fn.name)
            self.put("file", self.path(fn.file))
            self.put("runtime", fn.runtime)
            if fn.kvs is not None:
                self.put("kvs", fn.kvs)
            if fn.compat != "strict":
                self.put("compat", fn.compat)
            if fn.rules:
                self.put("rules", dict(fn.rules))

    def _lambdas(self) -> None:
        for fn in self.dist.lambdas.values():
            self.table("[[lambdas]]", f"lambdas.{fn.name}")
            self.put("name", fn.name)
            self.put("file", self.path(fn.file))
            if fn.handler is not None:
                self.put("handler", fn.handler)
            self.put("runtime", fn.runtime)
            self.put("timeout_s", fn.timeout_s)
            self.put("memory_mb", fn.memory_mb)

    # -- policies ------------------------------------------------------------------------------
    def _custom(
        self,
    ) -> tuple[list[CachePolicy], list[OriginRequestPolicy], list[ResponseHeadersPolicy]]:
        cache: dict[str, CachePolicy] = {}
        origin: dict[str, OriginRequestPolicy] = {}
        response: dict[str, ResponseHeadersPolicy] = {}
        for b in self.dist.all_behaviors():
            if b.cache_policy.managed_id is None:
                cache.setdefault(b.cache_policy.name, b.cache_policy)
            orp = b.origin_request_policy
            if orp is not None and orp.managed_id is None:
                origin.setdefault(orp.name, orp)
            rhp = b.response_headers_policy
            if rhp is not None and rhp.managed_id is None:
                response.setdefault(rhp.name, rhp)
        return list(cache.values()), list(origin.values()), list(response.values())

    def _policies(self) -> None:
        cache, origin, response = self._custom()
        for policy in cache:
            self.table("[[cache_policies]]", f"cache_policies.{policy.name}")
            self._legacy_comment(policy.name)
            self.put("name", policy.name)
            self.put("min_ttl", policy.min_ttl)
            self.put("default_ttl", policy.default_ttl)
            self.put("max_ttl", policy.max_ttl)
            self.put("headers", _selection(policy.headers))
            self.put("cookies", _selection(policy.cookies))
            self.put("query_strings", _selection(policy.query_strings))
            self.put("enable_gzip", policy.enable_gzip)
            self.put("enable_brotli", policy.enable_brotli)
        for orp in origin:
            self.table("[[origin_request_policies]]", f"origin_request_policies.{orp.name}")
            self._legacy_comment(orp.name)
            self.put("name", orp.name)
            self.put("headers", _selection(orp.headers))
            self.put("cookies", _selection(orp.cookies))
            self.put("query_strings", _selection(orp.query_strings))
        for rhp in response:
            self._response_headers_policy(rhp)

    def _legacy_comment(self, name: str) -> None:
        label = self.legacy.get(name)
        if label:
            self.comment(
                f"the legacy cache settings (ForwardedValues, MinTTL/DefaultTTL/MaxTTL) of the "
                f"{label}, as a policy (docs/import.md)"
            )

    def _response_headers_policy(self, rhp: ResponseHeadersPolicy) -> None:
        self.table("[[response_headers_policies]]", f"response_headers_policies.{rhp.name}")
        self.put("name", rhp.name)
        if rhp.remove_headers:
            self.put("remove_headers", sorted(rhp.remove_headers))
        if rhp.security_headers:
            self.table("[response_headers_policies.security_headers]")
            for key, value in _security_tables(rhp.security_headers):
                self.put(key, value)
        if rhp.cors is not None:
            cors = rhp.cors
            self.table("[response_headers_policies.cors]")
            self.put("allow_origins", list(cors.allow_origins))
            self.put("allow_headers", list(cors.allow_headers))
            self.put("allow_methods", list(cors.allow_methods))
            self.put("allow_credentials", cors.allow_credentials)
            self.put("expose_headers", list(cors.expose_headers))
            if cors.max_age_s is not None:
                self.put("max_age_s", cors.max_age_s)
            self.put("origin_override", cors.origin_override)
        if rhp.custom_headers:
            self.table("[response_headers_policies.custom_headers]")
            for header in rhp.custom_headers:
                self.put(header.name, {"value": header.value, "override": header.override})

    def _keys(self) -> None:
        """Public keys and key groups for signed URLs (docs/private-content.md), the PEM inline
        (a multi-line literal string)."""
        for key in self.dist.public_keys.values():
            self.table("[[public_keys]]", f"public_keys.{key.id}")
            self.put("id", key.id)
            pem = key.pem.decode().strip()
            self.lines.append(f"encoded_key = '''\n{pem}\n'''")
        for group in self.dist.key_groups.values():
            self.table("[[key_groups]]", f"key_groups.{group.name}")
            self.put("name", group.name)
            self.put("keys", list(group.keys))

    # -- behaviours ----------------------------------------------------------------------------
    def _behaviors(self) -> None:
        for behavior in self.dist.behaviors:
            self.table("[[behaviors]]", f"behaviors.{behavior.path}")
            self.put("path", behavior.path)
            self._behavior(behavior)
        self.table("[default_behavior]", "default_behavior")
        self._behavior(self.dist.default_behavior)

    def _behavior(self, b: Behavior) -> None:
        self.put("origin", b.origin)
        if b.viewer_request is not None:
            self.put("viewer_request", b.viewer_request)
        if b.viewer_response is not None:
            self.put("viewer_response", b.viewer_response)
        if b.lambdas:
            # The API's own form: unambiguous for every event (names are unique anyway).
            self.put(
                "lambda_function_associations",
                [
                    {"event_type": a.event_type, "lambda": a.name}
                    | ({"include_body": True} if a.include_body else {})
                    for a in b.lambdas
                ],
            )
        self.put("cache_policy", b.cache_policy.name)
        if b.origin_request_policy is not None:
            self.put("origin_request_policy", b.origin_request_policy.name)
        if b.response_headers_policy is not None:
            self.put("response_headers_policy", b.response_headers_policy.name)
        self.put("allowed_methods", _methods(b.allowed_methods))
        self.put("cached_methods", _methods(b.cached_methods))
        self.put("viewer_protocol_policy", b.viewer_protocol_policy)
        self.put("compress", b.compress)
        if b.trusted_key_groups:
            self.put("trusted_key_groups", list(b.trusted_key_groups))

    def _custom_errors(self) -> None:
        for code, response in sorted(self.dist.custom_error_responses.items()):
            self.table("[[custom_error_responses]]", f"custom_error_responses.{code}")
            self.put("error_code", code)
            if response.response_page_path is not None:
                self.put("response_page_path", response.response_page_path)
            if response.response_code is not None:
                self.put("response_code", response.response_code)
            self.put("error_caching_min_ttl", response.error_caching_min_ttl)

    def _edges(self) -> None:
        edges = self.dist.edges
        self.table("[edges]")
        self.put("pops", list(edges.pops))
        spec = edges.propagation
        propagation: dict[str, object] = {"model": spec.model}
        if spec.model == "fixed":
            propagation["lag_ms"] = spec.lag_ms
        else:
            propagation["min_ms"] = spec.min_ms
            propagation["max_ms"] = spec.max_ms
            if spec.seed is not None:
                propagation["seed"] = spec.seed
        if spec.per_pop_ms:
            propagation["per_pop_ms"] = dict(spec.per_pop_ms)
        self.put("propagation", propagation)
        if edges.pop_cidrs:
            self.put("pop_cidrs", {rule.network: rule.value for rule in edges.pop_cidrs})
        if edges.country_cidrs:
            self.put("country_cidrs", {rule.network: rule.value for rule in edges.country_cidrs})
        self.put("default_country", edges.default_country)
        if edges.geoip_database is not None:
            self.put("geoip_database", self.path(edges.geoip_database))

    def _throttling(self) -> None:
        throttling = self.dist.throttling
        self.table("[throttling]")
        for key in THROTTLING_KEYS:
            self.put(key, getattr(throttling, key))

    def _lambda_settings(self) -> None:
        """``[lambda]`` when it is not the default (from an overlay): every key written."""
        settings = self.dist.lambda_settings
        if settings == LambdaSettings():
            return
        self.table("[lambda]")
        if settings.node is not None:
            self.put("node", settings.node)
        for key in ("max_workers", "max_queue", "idle_s", "timeout_error"):
            self.put(key, getattr(settings, key))
        if settings.credentials != LambdaSettings().credentials:
            key_id, secret, token = settings.credentials
            self.put(
                "credentials",
                {"access_key_id": key_id, "secret_access_key": secret, "session_token": token},
            )
        if settings.env:
            self.put("env", dict(settings.env))


_SECURITY_KEYS = {
    "content-security-policy": "content_security_policy",
    "x-frame-options": "frame_options",
    "referrer-policy": "referrer_policy",
}


def _security_tables(headers: Sequence[CustomHeader]) -> list[tuple[str, object]]:
    """The ``security_headers`` keys for the model's headers (the reader's inverse)."""
    out: list[tuple[str, object]] = []
    for header in headers:
        lower = header.name.lower()
        if lower in _SECURITY_KEYS:
            out.append(
                (_SECURITY_KEYS[lower], {"value": header.value, "override": header.override})
            )
        elif lower == "x-content-type-options":
            out.append(("content_type_options", {"override": header.override}))
        elif lower == "strict-transport-security":
            out.append(("strict_transport_security", _hsts(header)))
        elif lower == "x-xss-protection":
            out.append(("xss_protection", _xss(header)))
        else:
            raise ValueError(f"{header.name} is not a security header edgesim.toml can express")
    return out


def _hsts(header: CustomHeader) -> dict[str, object]:
    parts = [p.strip() for p in header.value.split(";")]
    max_age = int(parts[0].removeprefix("max-age="))
    return {
        "max_age_s": max_age,
        "include_subdomains": "includeSubDomains" in parts[1:],
        "preload": "preload" in parts[1:],
        "override": header.override,
    }


def _xss(header: CustomHeader) -> dict[str, object]:
    parts = [p.strip() for p in header.value.split(";")]
    if parts[0] == "0":
        return {"protection": False, "override": header.override}
    out: dict[str, object] = {"protection": True, "mode_block": "mode=block" in parts[1:]}
    for part in parts[1:]:
        if part.startswith("report="):
            out["report_uri"] = part.removeprefix("report=")
    out["override"] = header.override
    return out
