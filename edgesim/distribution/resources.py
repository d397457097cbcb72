"""``[[kvs]]`` and ``[[functions]]``: named key value stores with their seed files, and
functions with their source files, runtimes, associated store and compatibility levels."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

from edgesim import limits
from edgesim.build.globs import glob_problem
from edgesim.distribution.model import Compat, FunctionDecl, KvsDecl
from edgesim.distribution.tables import Context, Table, key_part, suggest, toml_type, unique
from edgesim.errors import KvsImportError
from edgesim.kvs.importfile import load_import_file
from edgesim.runtime.compat import LEVELS, RULES

KVS_KEYS = ("name", "data")
FUNCTION_KEYS = (
    "name",
    "file",
    "runtime",
    "kvs",
    "compat",
    "rules",
    "build",
    "watch",
    "build_timeout_s",
)

# `compat`, as `edgesim test --compat`: strict refuses a function that breaks a rule.
COMPAT_MODES: tuple[Compat, ...] = ("strict", "lenient")
# Per-rule levels, as `edgesim lint --rule RULE=LEVEL` (edgesim.runtime.compat.LEVELS).
RULE_LEVELS = tuple(LEVELS)
# Words from other linters' vocabularies a user may reach for, and the level each means here.
_LEVEL_ALIASES = {"error": "strict", "warning": "warn", "off": "lenient", "ignore": "lenient"}

# Function and KVS names: [a-zA-Z0-9-_]{1,64} (CloudFront API, reference A.5 and A.7).
_RESOURCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _resource_name(table: Table, what: str) -> str | None:
    name = table.text("name")
    if name is not None and not _RESOURCE_NAME.fullmatch(name):
        table.error("name", f"{what} name {name!r} must be 1-64 characters from A-Z a-z 0-9 - _")
    return name


def read_kvs(ctx: Context, doc: Mapping[str, Any]) -> dict[str, KvsDecl]:
    stores: dict[str, KvsDecl] = {}
    seen: dict[str, str] = {}
    for t in ctx.entries(doc, "kvs", KVS_KEYS, required=("name",)):
        name = _resource_name(t, "key value store")
        if name is None or not unique(t, "name", name, seen, "key value store"):
            continue
        data = ctx.existing_file(t, "data", "seed file")
        if data is not None and data.is_file():
            _check_seed(t, data)
        stores[name] = KvsDecl(name=name, data=data)
    return stores


def _check_seed(t: Table, data: Path) -> None:
    # Validate the import file now so a bad seed fails at startup, naming the config key.
    try:
        load_import_file(data)
    except KvsImportError as exc:
        t.error("data", f"not a valid CloudFront KVS import file: {exc}")


def read_functions(
    ctx: Context, doc: Mapping[str, Any], stores: Mapping[str, KvsDecl]
) -> dict[str, FunctionDecl]:
    functions: dict[str, FunctionDecl] = {}
    seen: dict[str, str] = {}
    for t in ctx.entries(doc, "functions", FUNCTION_KEYS, required=("name", "file")):
        name = _resource_name(t, "function")
        if name is None or not unique(t, "name", name, seen, "function"):
            continue
        build = t.text("build")
        if build is None:
            file = ctx.existing_file(t, "file", "function file")
        else:
            # The build writes it: it need not exist before the first (start-up) build.
            written = t.text("file")
            file = None if written is None else ctx.under(written)
        runtime = _runtime(t)
        kvs = _function_kvs(t, runtime, stores)
        functions[name] = FunctionDecl(
            name=name,
            file=file or Path(),
            runtime=runtime,
            kvs=kvs,
            compat=_compat(t),
            rules=_rules(t),
            **build_keys(ctx, t, build),
        )
    return functions


class BuildKeys(TypedDict):
    build: str | None
    watch: tuple[str, ...]
    build_dir: Path | None
    build_timeout_s: float


def build_keys(ctx: Context, t: Table, build: str | None, what: str = "function") -> BuildKeys:
    """``watch``, ``build_timeout_s`` and the build's directory, checked alike for
    ``[[functions]]`` and ``[[lambdas]]`` (``what``): the decls' keyword arguments."""
    return {
        "build": build,
        "watch": _watch(t, build, what),
        "build_dir": ctx.base_dir if build is not None else None,
        "build_timeout_s": t.number("build_timeout_s", 120.0, above=0, hi=3600),
    }


def _watch(t: Table, build: str | None, what: str) -> tuple[str, ...]:
    """``watch``: globs relative to the config directory; required with ``build``, and only
    meaningful with it (a function without a build reloads when its own file changes)."""
    globs = t.texts("watch")
    if build is None:
        if globs is not None:
            t.error("watch", 'watch needs build = "COMMAND" (the files it lists trigger the build)')
        if t.has("build_timeout_s"):
            t.error("build_timeout_s", 'build_timeout_s needs build = "COMMAND"')
        return ()
    if not globs:
        if globs is None:
            t.error(
                "watch",
                f'a {what} with build needs watch = ["GLOB", ...]: the source files whose '
                'changes rerun the build (for example watch = ["src/**/*.ts"])',
            )
        else:
            t.error("watch", "must list at least one glob")
        return ()
    for index, glob in enumerate(globs):
        problem = glob_problem(glob)
        if problem:
            t.problems.add(f"{t.at('watch')}[{index}]", f"{glob!r}: {problem}")
    return tuple(globs)


def _compat(t: Table) -> Compat:
    value = t.text("compat", "strict") or "strict"
    for mode in COMPAT_MODES:
        if value == mode:
            return mode
    hint = _level_hint(value, COMPAT_MODES)
    if value == "warn":
        hint = " ('warn' is a level for one rule: set it in rules = { RULE = \"warn\" })"
    t.error("compat", f"unknown mode {value!r}{hint}; use one of {', '.join(COMPAT_MODES)}")
    return "strict"


def _rules(t: Table) -> tuple[tuple[str, str], ...]:
    """``rules = { RULE = LEVEL }``, in the order written."""
    data = t.table("rules")
    if data is None:
        return ()
    levels: list[tuple[str, str]] = []
    for rule, level in data.items():
        where = t.at(f"rules.{key_part(rule)}")
        if rule not in RULES:
            hint = suggest(rule, RULES)
            t.problems.add(
                where,
                f"unknown compatibility rule {rule!r}{hint}; valid rules: {', '.join(RULES)}",
            )
        elif not isinstance(level, str):
            got = f"{toml_type(level)} {level!r}"
            t.problems.add(where, f"expected one of {', '.join(RULE_LEVELS)}, got {got}")
        elif level not in RULE_LEVELS:
            hint = _level_hint(level, RULE_LEVELS)
            t.problems.add(
                where, f"unknown level {level!r}{hint}; use one of {', '.join(RULE_LEVELS)}"
            )
        else:
            levels.append((rule, level))
    return tuple(levels)


def _level_hint(value: str, allowed: tuple[str, ...]) -> str:
    alias = _LEVEL_ALIASES.get(value.lower())
    if alias in allowed:
        return f" (did you mean {alias!r}?)"
    return suggest(value, allowed)


def _runtime(t: Table) -> str:
    runtime = t.text("runtime", limits.RUNTIME_JS_2) or limits.RUNTIME_JS_2
    if runtime not in limits.RUNTIMES:
        hint = suggest(runtime, limits.RUNTIMES)
        t.error(
            "runtime", f"unknown runtime {runtime!r}{hint}; use one of {', '.join(limits.RUNTIMES)}"
        )
        return limits.RUNTIME_JS_2
    return runtime


def _function_kvs(t: Table, runtime: str, stores: Mapping[str, KvsDecl]) -> str | None:
    name = t.text("kvs")
    if name is None:
        return None
    if name not in stores:
        t.error("kvs", f"unknown key value store {name!r}{suggest(name, stores)}")
    if runtime != limits.RUNTIME_JS_2:
        t.error("kvs", f"a function using a key value store needs runtime {limits.RUNTIME_JS_2!r}")
    return name
