"""``edgesim.toml`` → ``Distribution``: every key type-checked, cross-checked and defaulted.

Every problem becomes one line naming the file, the table path and the key, e.g.
``edgesim.toml: behaviors[1].cache_policy: unknown cache policy 'CachingOptimised' (did you mean
'CachingOptimized'?)``. All problems in a document are collected and raised together as one
``InputError``, so a user fixes them in one pass. Array-of-tables indices count from 0.

The key reference, with the CloudFront setting each key mirrors, is docs/configuration.md.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edgesim.distribution.behaviors import Refs, read_behaviors, read_default_behavior
from edgesim.distribution.cache_settings import read_cache_settings
from edgesim.distribution.edges import read_edges
from edgesim.distribution.error_responses import read_custom_error_responses
from edgesim.distribution.lambdas import check_lambdas, read_lambda_settings, read_lambdas
from edgesim.distribution.model import Distribution
from edgesim.distribution.origins import read_origin_groups, read_origins, read_origins_local
from edgesim.distribution.policies import read_cache_policies, read_origin_request_policies
from edgesim.distribution.resources import read_functions, read_kvs
from edgesim.distribution.response_headers import read_response_headers_policies
from edgesim.distribution.server import read_server
from edgesim.distribution.settings import read_distribution_settings
from edgesim.distribution.tables import Context, Problems, Table, section
from edgesim.distribution.throttling import read_throttling
from edgesim.distribution.trusted_keys import (
    read_key_groups,
    read_private_content,
    read_public_keys,
)
from edgesim.errors import InputError

TOP_LEVEL_KEYS = (
    "server",
    "origins",
    "origin_groups",
    "origins_local",
    "kvs",
    "functions",
    "cache_policies",
    "origin_request_policies",
    "response_headers_policies",
    "behaviors",
    "default_behavior",
    "custom_error_responses",
    "edges",
    "throttling",
    "distribution",
    "public_keys",
    "key_groups",
    "private_content",
    "cache",
    "lambdas",
    "lambda",
)


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
    ctx = Context(Problems(source), base_dir)
    Table(ctx.problems, "", doc, TOP_LEVEL_KEYS)
    server = read_server(ctx, section(ctx.problems, doc, "server"))
    origins = read_origins(ctx, doc)
    groups = read_origin_groups(ctx, doc, origins)
    local = read_origins_local(ctx, doc, origins, groups)
    stores = read_kvs(ctx, doc)
    functions = read_functions(ctx, doc, stores)
    lambdas = read_lambdas(ctx, doc, functions)
    lambda_settings = read_lambda_settings(ctx, section(ctx.problems, doc, "lambda"))
    public_keys = read_public_keys(ctx, doc)
    key_groups = read_key_groups(ctx, doc, public_keys)
    refs = Refs(
        targets=[*origins, *groups],
        functions=functions,
        cache_policies=read_cache_policies(ctx, doc),
        origin_request_policies=read_origin_request_policies(ctx, doc),
        response_headers_policies=read_response_headers_policies(ctx, doc),
        key_groups=key_groups,
        lambdas=lambdas,
    )
    behaviors = read_behaviors(ctx, doc, refs)
    default = read_default_behavior(ctx, doc, refs)
    lambda_notes = check_lambdas(ctx, lambdas, lambda_settings)  # after the behaviours' uses
    errors = read_custom_error_responses(ctx, doc)
    edges = read_edges(ctx, section(ctx.problems, doc, "edges"))
    throttling = read_throttling(ctx, section(ctx.problems, doc, "throttling"))
    settings = read_distribution_settings(ctx, section(ctx.problems, doc, "distribution"))
    private_content = read_private_content(ctx, section(ctx.problems, doc, "private_content"))
    cache = read_cache_settings(ctx, section(ctx.problems, doc, "cache"))
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
        origins_local=local,
        throttling=throttling,
        default_root_object=settings.default_root_object,
        aliases=settings.aliases,
        geo_restriction=settings.geo_restriction,
        public_keys=public_keys,
        key_groups=key_groups,
        private_content=private_content,
        cache=cache,
        lambdas=lambdas.decls,
        lambda_settings=lambda_settings,
        notes=lambda_notes,
    )
