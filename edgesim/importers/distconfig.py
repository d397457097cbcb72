"""The API's own shape: what ``aws cloudfront get-distribution-config`` prints, plus the flags
that supply what that JSON names only by ARN or id.

- ``load_distconfig(path)``: ``{"ETag": …, "DistributionConfig": {…}}``, the bare
  ``DistributionConfig``, or ``get-distribution``'s ``{"Distribution": {"DistributionConfig": …}}``.
- ``--function NAME=path.js[,kvs=STORE][,runtime=cloudfront-js-1.0|2.0]``: a function's code
  (``FunctionARN`` …``:function/NAME``) and its key value store association. For the other
  sources the same flag replaces a function's code with a local file (``apply_function_flags``).
- ``--policy [ID=]policy.json``: the output of ``get-cache-policy``, ``get-origin-request-policy``
  or ``get-response-headers-policy`` (or their ``…-config`` variants); the kind is detected, and
  the id is read from the document when the flag does not give one (``apply_policy_flags``).

Relative paths in flags are relative to the working directory (``base_dir``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from edgesim import limits
from edgesim.errors import InputError
from edgesim.importers.bundle import FunctionSource, ImportBundle, KvsSource

# What each get-*-policy answer wraps its config in, and the config's own name.
_POLICY_KINDS = (
    ("CachePolicy", "CachePolicyConfig", "cache_policies"),
    ("OriginRequestPolicy", "OriginRequestPolicyConfig", "origin_request_policies"),
    ("ResponseHeadersPolicy", "ResponseHeadersPolicyConfig", "response_headers_policies"),
)
_RESPONSE_HEADERS_MEMBERS = frozenset(
    {
        "CorsConfig",
        "SecurityHeadersConfig",
        "ServerTimingHeadersConfig",
        "CustomHeadersConfig",
        "RemoveHeadersConfig",
    }
)


def read_json(path: Path, what: str) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None


def distribution_config_of(doc: Any) -> Mapping[str, Any] | None:
    """The ``DistributionConfig`` inside a get-distribution-config / get-distribution answer,
    or a bare one; None when ``doc`` is none of these."""
    if not isinstance(doc, Mapping):
        return None
    found = doc.get("DistributionConfig")
    if found is None and isinstance(doc.get("Distribution"), Mapping):
        found = doc["Distribution"].get("DistributionConfig")
    if found is None and "Origins" in doc and "DefaultCacheBehavior" in doc:
        found = doc
    return found if isinstance(found, Mapping) else None


def load_distconfig(path: Path) -> ImportBundle:
    """A bundle for a DistributionConfig JSON file. It names functions and custom policies only
    by ARN and id: add them with ``apply_function_flags`` / ``apply_policy_flags``."""
    doc = read_json(path, "distribution config")
    config = distribution_config_of(doc)
    if config is None:
        raise InputError(
            f"{path}: not a DistributionConfig: expected the JSON that 'aws cloudfront "
            'get-distribution-config\' prints ({"ETag": …, "DistributionConfig": {…}})'
        )
    inside = "DistributionConfig" if config is not doc else "(DistributionConfig)"
    if isinstance(doc, Mapping) and "Distribution" in doc and "DistributionConfig" not in doc:
        inside = "Distribution.DistributionConfig"
    return ImportBundle(
        distribution_config=dict(config),
        sources=[_abs(path)],
        where={"": f"{path}: {inside}"},
    )


def _abs(path: Path | str) -> Path:
    return Path(os.path.abspath(path))


def _split_flag(flag: str, item: str, usage: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise InputError(f"{flag} {item!r}: expected {usage}")
    return key.strip(), value.strip()


def apply_function_flags(bundle: ImportBundle, items: Sequence[str], *, base_dir: Path) -> None:
    """``--function NAME=path.js[,kvs=STORE][,runtime=…]``: add the function (or replace the
    code of one the source defines, keeping its runtime and store unless the flag sets them).
    A store named by ``kvs=`` that the source does not define is added, empty until
    ``--kvs STORE=data.json`` seeds it."""
    problems: list[str] = []
    usage = "NAME=PATH.js[,kvs=STORE][,runtime=cloudfront-js-2.0]"
    for item in items:
        try:
            name, rest = _split_flag("--function", item, usage)
            file, *options = rest.split(",")
            settings = dict(_split_flag("--function", o, usage) for o in options)
            unknown = sorted(set(settings) - {"kvs", "runtime"})
            if unknown:
                raise InputError(f"--function {item!r}: unknown option {unknown[0]!r}; {usage}")
            path = base_dir / file
            if not path.is_file():
                found = "is a directory" if path.is_dir() else "does not exist"
                raise InputError(f"--function {item}: {path} {found}")
            runtime = settings.get("runtime")
            if runtime is not None and runtime not in limits.RUNTIMES:
                raise InputError(
                    f"--function {item}: unknown runtime {runtime!r}; use one of "
                    f"{', '.join(limits.RUNTIMES)}"
                )
        except InputError as exc:
            problems.append(str(exc))
            continue
        known = bundle.functions.get(name)
        stores = [settings["kvs"]] if "kvs" in settings else (known.kvs if known else [])
        for store in stores:
            if store not in bundle.kvs:
                bundle.kvs[store] = KvsSource(name=store, where=f"--function {item}")
                bundle.where.setdefault(f"kvs.{store}", f"--function {item}")
        bundle.functions[name] = FunctionSource(
            name=name,
            runtime=runtime or (known.runtime if known else limits.RUNTIME_JS_2),
            file=_abs(path),
            kvs=list(stores),
            auto_publish=known.auto_publish if known else True,
            where=f"--function {item}",
        )
        bundle.where[f"functions.{name}"] = f"--function {item}"
        bundle.sources.append(_abs(path))
    if problems:
        raise InputError("\n".join(problems))


def apply_policy_flags(bundle: ImportBundle, items: Sequence[str], *, base_dir: Path) -> None:
    """``--policy [ID=]policy.json``: a custom policy a behaviour names by id."""
    problems: list[str] = []
    for item in items:
        policy_id, sep, file = item.partition("=")
        if not sep:
            policy_id, file = "", item
        path = base_dir / file.strip()
        try:
            found_id, kind, config, inside = read_policy(path)
        except InputError as exc:
            problems.append(f"--policy {item}: {exc}")
            continue
        policy_id = policy_id.strip() or found_id or ""
        if not policy_id:
            problems.append(
                f"--policy {item}: the file has no Id (a …-config answer): write --policy ID={file}"
            )
            continue
        if found_id and found_id != policy_id:
            problems.append(f"--policy {item}: the file is policy {found_id!r}, not {policy_id!r}")
            continue
        getattr(bundle, kind)[policy_id] = config
        bundle.where[f"{kind}.{policy_id}"] = f"{file.strip()}: {inside}"
        bundle.sources.append(_abs(path))
    if problems:
        raise InputError("\n".join(problems))


def read_policy(path: Path) -> tuple[str | None, str, dict[str, Any], str]:
    """(id or None, bundle attribute, the policy config, where the config is in the file) for
    a get-*-policy or get-*-policy-config answer, or a bare policy config."""
    doc = read_json(path, "policy")
    if not isinstance(doc, Mapping):
        raise InputError(f"{path}: expected a JSON object")
    for wrapper, config_key, kind in _POLICY_KINDS:
        outer = doc.get(wrapper)
        if isinstance(outer, Mapping) and isinstance(outer.get(config_key), Mapping):
            policy_id = outer.get("Id")
            return (
                policy_id if isinstance(policy_id, str) else None,
                kind,
                dict(outer[config_key]),
                f"{wrapper}.{config_key}",
            )
        if isinstance(doc.get(config_key), Mapping):
            return None, kind, dict(doc[config_key]), config_key
    # A bare config: tell the kinds apart by their members.
    if "ParametersInCacheKeyAndForwardedToOrigin" in doc or "MinTTL" in doc:
        return None, "cache_policies", dict(doc), "(CachePolicyConfig)"
    if "HeadersConfig" in doc and "CookiesConfig" in doc:
        return None, "origin_request_policies", dict(doc), "(OriginRequestPolicyConfig)"
    if _RESPONSE_HEADERS_MEMBERS & set(doc):
        return None, "response_headers_policies", dict(doc), "(ResponseHeadersPolicyConfig)"
    raise InputError(
        f"{path}: not a policy: expected the output of aws cloudfront get-cache-policy, "
        "get-origin-request-policy or get-response-headers-policy"
    )
