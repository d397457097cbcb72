"""``[[lambdas]]`` and ``[lambda]``: Lambda@Edge functions and how serve runs them, and the
start-up checks that need the behaviours' associations (docs/lambda-edge.md, docs/configuration.md).

Reading happens in three steps, because a lambda's quotas depend on the events it is associated
with: :func:`read_lambdas` and :func:`read_lambda_settings` read the two tables; the behaviours'
reader (``edgesim.distribution.associations``) records each use of a lambda in
``DeclaredLambdas.uses``; :func:`check_lambdas` then applies the per-event quotas (timeout,
memory, package size; Developer Guide, "Quotas on Lambda@Edge") and checks the Node.js that will
run them. Whether a module loads and exports its handler is checked when serve's workers load it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgesim.distribution.model import FunctionDecl, LambdaDecl, LambdaSettings
from edgesim.distribution.resources import build_keys
from edgesim.distribution.tables import Context, Table, key_part, suggest, toml_type, unique
from edgesim.errors import InputError
from edgesim.lambda_edge import limits
from edgesim.lambda_edge.function import EXECUTION_ERROR, LIMIT_EXCEEDED
from edgesim.lambda_edge.package import check_package
from edgesim.lambda_edge.spec import (
    Credentials,
    LambdaSpec,
    find_node,
    resolve_source,
    runtime_mismatch,
    valid_name,
    worker_environment,
)

LAMBDA_KEYS = (
    "name",
    "file",
    "handler",
    "runtime",
    "timeout_s",
    "memory_mb",
    "build",
    "watch",
    "build_timeout_s",
)
SETTINGS_KEYS = (
    "node",
    "max_workers",
    "max_queue",
    "idle_s",
    "timeout_error",
    "credentials",
    "env",
)
CREDENTIAL_KEYS = ("access_key_id", "secret_access_key", "session_token")
TIMEOUT_ERRORS = (EXECUTION_ERROR, LIMIT_EXCEEDED)

# Lambda's Handler setting: at most 128 characters, no whitespace (Lambda API, CreateFunction).
MAX_HANDLER_LENGTH = 128
_NO_SPACE = re.compile(r"\S+")
# [lambda.env] names: what a POSIX environment can carry (Lambda itself has no variables of
# its own at the edge: "Restrictions on Lambda@Edge" → Lambda features; this is local only).
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Upper bounds that catch a slip (a value in milliseconds, an extra digit), not real limits.
MAX_WORKERS = 1_024
MAX_QUEUE = 1_000_000
MAX_IDLE_S = 86_400.0


@dataclass(frozen=True)
class LambdaUse:
    """One association of a lambda with an event, at the key path that made it."""

    name: str
    event_type: str
    where: str


@dataclass
class DeclaredLambdas:
    """The ``[[lambdas]]`` read so far, where each was declared, and (filled in by the
    behaviours' reader) where each is used."""

    decls: dict[str, LambdaDecl] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # name → "lambdas[i]"
    packages: set[str] = field(default_factory=set)  # names whose file resolved (measurable)
    uses: list[LambdaUse] = field(default_factory=list)


def read_lambdas(
    ctx: Context, doc: Mapping[str, Any], functions: Mapping[str, FunctionDecl]
) -> DeclaredLambdas:
    declared = DeclaredLambdas()
    seen: dict[str, str] = {}
    for t in ctx.entries(doc, "lambdas", LAMBDA_KEYS, required=("name", "file")):
        name = t.text("name")
        if name is None:
            continue
        if not valid_name(name):
            t.error(
                "name",
                f"lambda name {name!r} must be 1-64 characters from A-Z a-z 0-9 - _ "
                "(Lambda's function name rule)",
            )
        if not unique(t, "name", name, seen, "lambda"):
            continue
        if name in functions:
            # viewer_request = "NAME" names either kind: one name must mean one thing.
            t.error(
                "name",
                f"{name!r} is also a [[functions]] name; names are unique across [[functions]] "
                "and [[lambdas]] (viewer_request and viewer_response name either)",
            )
        build = t.text("build")
        file, measurable = _file(ctx, t, built=build is not None)
        declared.decls[name] = LambdaDecl(
            name=name,
            file=file or Path(),
            handler=_handler(t),
            runtime=_runtime(t),
            timeout_s=_timeout(t),
            memory_mb=_memory(t),
            **build_keys(ctx, t, build, "lambda"),
        )
        declared.where[name] = t.where
        if measurable:
            declared.packages.add(name)
    return declared


def _file(ctx: Context, t: Table, *, built: bool) -> tuple[Path | None, bool]:
    """``file``: a source file, a package directory or a ``.zip`` (unpacked once, checked now),
    relative to the config directory; and whether it resolved. A ``build``'s output need not
    exist before the start-up build: serve's workers check it when they load it."""
    written = t.text("file")
    if written is None:
        return None, False
    path = ctx.under(written)
    if built:
        return path, False
    if not path.exists():
        t.error("file", f"lambda file {written!r} does not exist (looked for {path})")
        return path, False
    try:
        resolve_source(path, what="lambda file")
    except InputError as exc:
        t.error("file", str(exc))
        return path, False
    except OSError as exc:  # unpacking a zip: disk full, permissions
        t.error("file", f"cannot unpack {path}: {exc.strerror or exc}")
        return path, False
    return path, True


def _timeout(t: Table) -> float:
    timeout = t.number("timeout_s", limits.DEFAULT_TIMEOUT_S, above=0)
    if timeout > limits.MAX_LAMBDA_TIMEOUT_S:
        t.error(
            "timeout_s",
            f"{timeout:g} s is over Lambda's maximum of {limits.MAX_LAMBDA_TIMEOUT_S} s; "
            f"Lambda@Edge allows {limits.MAX_TIMEOUT_S['origin']} s on origin events and "
            f"{limits.MAX_TIMEOUT_S['viewer']} s on viewer events (Quotas on Lambda@Edge)",
        )
        return limits.DEFAULT_TIMEOUT_S
    return timeout


def _memory(t: Table) -> int:
    memory = t.integer("memory_mb", limits.DEFAULT_MEMORY_MB)
    low, high = limits.MIN_MEMORY_MB, limits.MAX_MEMORY_MB["origin"]
    if not low <= memory <= high:
        t.error(
            "memory_mb",
            f"{memory} MB is out of range: Lambda allows {low} to {high:,} MB, the most origin "
            f"events allow; viewer events allow {limits.MAX_MEMORY_MB['viewer']} MB (Quotas on "
            "Lambda@Edge)",
        )
        return limits.DEFAULT_MEMORY_MB
    return memory


def _handler(t: Table) -> str | None:
    handler = t.text("handler")
    if handler is None:
        return None  # index.handler for a directory, <file stem>.handler for a file
    if len(handler) > MAX_HANDLER_LENGTH or not _NO_SPACE.fullmatch(handler):
        t.error(
            "handler",
            f"{handler!r}: a handler is at most {MAX_HANDLER_LENGTH} characters without spaces, "
            "like index.handler or lib/edge.viewerRequest (Lambda's Handler setting)",
        )
    return handler


def _runtime(t: Table) -> str:
    default = LambdaDecl.runtime
    runtime = t.text("runtime", default) or default
    if runtime.startswith("python"):
        t.error(
            "runtime",
            f"{runtime} is not emulated yet: edgesim runs Lambda@Edge functions written for "
            f"Node.js ({', '.join(limits.NODE_RUNTIMES)})",
        )
        return default
    if runtime not in limits.NODE_RUNTIMES:
        hint = suggest(runtime, limits.NODE_RUNTIMES)
        t.error(
            "runtime",
            f"unknown runtime {runtime!r}{hint}; use one of {', '.join(limits.NODE_RUNTIMES)}",
        )
        return default
    return runtime


# --------------------------------------------------------------------------------------------
# [lambda]
# --------------------------------------------------------------------------------------------


def read_lambda_settings(ctx: Context, data: Mapping[str, Any]) -> LambdaSettings:
    t = ctx.table("lambda", data, SETTINGS_KEYS)
    defaults = LambdaSettings()
    return LambdaSettings(
        node=_node(ctx, t),
        max_workers=t.integer("max_workers", defaults.max_workers, lo=1, hi=MAX_WORKERS),
        # 0: an invocation that finds every worker busy fails at once (LambdaLimitExceeded).
        max_queue=t.integer("max_queue", defaults.max_queue, lo=0, hi=MAX_QUEUE),
        idle_s=t.number("idle_s", defaults.idle_s, above=0, hi=MAX_IDLE_S),
        timeout_error=_timeout_error(t, defaults.timeout_error),
        env=_env(t),
        credentials=_credentials(t, defaults.credentials),
    )


def _node(ctx: Context, t: Table) -> str | None:
    """A command looked up on PATH (``node22``) or a path relative to the config directory
    (``tools/node``); found or not is checked by :func:`check_lambdas`."""
    node = t.text("node")
    if node is None or "/" not in node:
        return node
    return str(ctx.under(node))


def _timeout_error(t: Table, default: str) -> str:
    value = t.text("timeout_error", default) or default
    if value not in TIMEOUT_ERRORS:
        hint = suggest(value, TIMEOUT_ERRORS)
        t.error("timeout_error", f"{value!r} is not one of {', '.join(TIMEOUT_ERRORS)}{hint}")
        return default
    return value


def _credentials(t: Table, default: tuple[str, str, str]) -> tuple[str, str, str]:
    sub = t.sub("credentials", CREDENTIAL_KEYS, required=CREDENTIAL_KEYS[:2])
    if sub is None:
        return default
    key_id = sub.text("access_key_id")
    secret = sub.text("secret_access_key")
    token = sub.text("session_token", "") or ""  # empty: no AWS_SESSION_TOKEN
    if key_id is None or secret is None:
        return default
    return key_id, secret, token


def _reserved_env_names() -> frozenset[str]:
    """The variables the runtime sets itself (spec.worker_environment is the one source)."""
    probe = LambdaSpec("probe", Path("probe.js"), credentials=Credentials("a", "b", "c"))
    return frozenset(worker_environment(probe))


def _env(t: Table) -> tuple[tuple[str, str], ...]:
    """``[lambda.env]``: string values; reserved names and ``AWS_*`` are refused, as
    spec.worker_environment refuses them (they belong to the runtime)."""
    data = t.table("env")
    if data is None:
        return ()
    reserved = _reserved_env_names()
    env: list[tuple[str, str]] = []
    for name, value in data.items():
        where = t.at(f"env.{key_part(name)}")
        if not _ENV_NAME.fullmatch(name):
            t.problems.add(
                where, f"{name!r} is not a variable name (A-Z a-z 0-9 _, not starting with a digit)"
            )
        elif name in reserved or name.startswith("AWS_"):
            t.problems.add(where, f"{name} is reserved: the Lambda runtime sets it")
        elif not isinstance(value, str):
            t.problems.add(where, f"expected a string, got {toml_type(value)} {value!r}")
        elif "\0" in value:
            t.problems.add(where, "a variable's value cannot contain a NUL character")
        else:
            env.append((name, value))
    return tuple(env)


# --------------------------------------------------------------------------------------------
# After the behaviours: quotas per event, package size, Node.js, unused lambdas
# --------------------------------------------------------------------------------------------


def check_lambdas(
    ctx: Context, declared: DeclaredLambdas, settings: LambdaSettings
) -> tuple[str, ...]:
    """Problems go to ``ctx.problems``; the answer is the notes serve prints at start-up (an
    unused lambda, a runtime other than the Node.js that runs it)."""
    notes: list[str] = []
    used: dict[str, list[LambdaUse]] = {}
    for use in declared.uses:
        used.setdefault(use.name, []).append(use)
    for name, where in declared.where.items():
        uses = used.get(name)
        if not uses:
            notes.append(
                f"{ctx.problems.source}: {where}: lambda {name!r} is associated with no "
                "behaviour: it is never run"
            )
            continue
        decl = declared.decls[name]
        _check_quotas(ctx, decl, where, uses)
        if name in declared.packages:
            _check_package(ctx, decl, where, uses)
    if settings.node is not None or declared.decls:
        notes += _check_node(ctx, declared, settings, used)
    return tuple(notes)


def _check_quotas(ctx: Context, decl: LambdaDecl, where: str, uses: list[LambdaUse]) -> None:
    """Timeout and memory against the event's quota (Quotas on Lambda@Edge: 5 s / 128 MB for
    viewer events, 30 s / 10,240 MB for origin events). A lambda on several events must fit the
    strictest; each class is reported once, at its first association."""
    reported: set[str] = set()
    for use in uses:
        cls = limits.event_class(use.event_type)
        if cls in reported:
            continue
        reported.add(cls)
        for problem in limits.check_function_limits(
            use.event_type, timeout_s=decl.timeout_s, memory_mb=decl.memory_mb
        ):
            ctx.problems.add(use.where, f"lambda {decl.name!r} ({where}): {problem}")


def _check_package(ctx: Context, decl: LambdaDecl, where: str, uses: list[LambdaUse]) -> None:
    """The compressed package against the strictest event it runs on (Quotas on Lambda@Edge:
    1 MB for viewer events, 50 MB for origin events), measured once."""
    viewer = [u for u in uses if u.event_type in limits.VIEWER_EVENTS]
    strictest = (viewer or uses)[0]
    try:
        problem = check_package(decl.file, strictest.event_type)
    except OSError as exc:
        ctx.problems.add(f"{where}.file", f"cannot read the package: {exc}")
        return
    if problem:
        ctx.problems.add(
            f"{where}.file",
            f"{problem}; lambda {decl.name!r} runs on {strictest.event_type} at {strictest.where}",
        )


def _check_node(
    ctx: Context,
    declared: DeclaredLambdas,
    settings: LambdaSettings,
    used: Mapping[str, list[LambdaUse]],
) -> list[str]:
    """The Node.js that will run the lambdas must exist; a runtime whose major version is not
    that Node's is a note (the function runs on that Node anyway: docs/lambda-edge.md)."""
    try:
        node = find_node(settings.node)
    except InputError as exc:
        message = str(exc)
        if settings.node and "/" in settings.node:  # a path (made absolute): PATH is not searched
            message = f"Node.js not found: {settings.node} is not an executable file"
        ctx.problems.add("lambda.node" if settings.node else "lambdas", message)
        return []
    notes = []
    mismatch: dict[str, str | None] = {}
    for name, decl in declared.decls.items():
        if name not in used:
            continue
        if decl.runtime not in mismatch:
            mismatch[decl.runtime] = runtime_mismatch(decl.runtime, node)
        sentence = mismatch[decl.runtime]
        if sentence:
            where = f"{declared.where[name]}.runtime"
            notes.append(f"{ctx.problems.source}: {where}: lambda {name!r}: {sentence}")
    return notes
