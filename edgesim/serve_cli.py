"""``edgesim serve`` and ``edgesim cache invalidate``: parse, call the library, print."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from edgesim.clock_cli import clock_overrides
from edgesim.controlplane.endpoint import add_endpoint_arguments, endpoint_of
from edgesim.distribution.model import Distribution, LocalOrigin
from edgesim.distribution.origins import local_key, local_origin
from edgesim.errors import InputError

if TYPE_CHECKING:
    from edgesim.app import EdgeServer
    from edgesim.importers.apishape import Imported

DEFAULT_CONFIG = "edgesim.toml"


SERVE_DESCRIPTION = """\
Run the distribution described by ./edgesim.toml (or --config) in front of
your dev origin: viewers on one port; the KVS API, /status and /metrics on
the admin port. Function files, the config and KVS seed files are watched
and reloaded. Without a config file, serve runs the bundled demo.

With --from SOURCE, serve runs the distribution you deploy instead: a CDK
cloud assembly (cdk.out), a CloudFormation/SAM template, a Terraform directory
or `terraform show -json` file, or `aws cloudfront get-distribution-config`
JSON; map its origins with --origin or an --overlay file. Nothing is written
in your project; the source files are watched and re-imported.

Flags override the config file. See docs/serve.md, docs/configuration.md and
docs/import.md."""

IMPORT_DESCRIPTION = """\
Write the edgesim.toml equivalent of the distribution SOURCE deploys (a CDK
cloud assembly, a CloudFormation/SAM template, a Terraform directory or
`terraform show -json` file, or `aws cloudfront get-distribution-config` JSON),
with comments naming where each part came from, for a config you keep. Function
code and KVS data the source holds inline are written to --files-dir. Origins
not mapped with --origin or the overlay are left as commented [origins_local]
lines to fill in. See docs/import.md."""

# The serve flags that only mean something with --from (dest → flag).
IMPORT_ONLY_FLAGS = {
    "stack": "--stack",
    "parameter": "--parameter",
    "var": "--var",
    "var_file": "--var-file",
    "overlay": "--overlay",
    "function": "--function",
    "lambdas": "--lambda",
    "policy": "--policy",
    "kvs": "--kvs",
    "distribution": "--distribution",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the distribution in front of your dev origin",
        description=SERVE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument(
        "--config", help=f"distribution config (default ./{DEFAULT_CONFIG}; none: bundled demo)"
    )
    serve.add_argument(
        "--from",
        dest="source",
        metavar="SOURCE",
        help="run the distribution this source deploys instead of a config: cdk.out, a "
        "template, a Terraform directory or show -json file, or get-distribution-config JSON",
    )
    add_import_arguments(serve)
    serve.add_argument(
        "--host", help="address to bind (overrides [server].host; default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, help="viewer port (overrides [server].port)")
    serve.add_argument("--admin-port", type=int, help="admin port (overrides [server].admin_port)")
    serve.add_argument("--ephemeral", action="store_true", help="keep KVS state in memory only")
    serve.add_argument(
        "--origin",
        action="append",
        default=[],
        metavar="ID_OR_DOMAIN=URL|DIR",
        help="reach an origin id, or a domain name an origin helper names, at this http(s) URL "
        "or directory (relative to the working directory); adds to or replaces "
        "[origins_local] entries (repeatable)",
    )
    serve.add_argument(
        "--debug-headers",
        action="store_true",
        help="add x-edgesim-error (the error and its position) to CloudFront's error answers "
        "(as [server] debug_headers = true)",
    )
    serve.add_argument(
        "--no-throttle",
        action="store_true",
        help="never throttle a function that keeps running over budget "
        "(as [throttling] enabled = false)",
    )
    serve.add_argument(
        "--https-port",
        type=int,
        metavar="N",
        help="HTTPS viewer port (overrides [server] https_port; default 8443; 0: a free port)",
    )
    serve.add_argument(
        "--no-https", action="store_true", help="serve HTTP only (as [server] https = false)"
    )
    serve.add_argument(
        "--network-origins",
        action="store_true",
        help="let origin helpers reach domains no [origins_local] entry maps over the network "
        "(as [server] network_origins = true; off by default)",
    )
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="console request log: one line of text per request, or one JSON object",
    )
    serve.add_argument(
        "--loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="the event loop: uvloop (faster; pip install 'edgesim[fast]'), asyncio (Python's "
        "own), or auto (default: uvloop when installed)",
    )
    serve.add_argument(
        "--record",
        metavar="FILE",
        help="append every viewer request to FILE (JSON Lines) for edgesim rehearse --traffic",
    )
    serve.add_argument(
        "--now",
        metavar="ISO-8601",
        help="start serve's clock at this time, e.g. 2030-01-01T09:00:00Z; it then runs at real "
        "speed (as [server] now; move it later with `edgesim clock`)",
    )
    serve.add_argument(
        "--frozen",
        action="store_true",
        help="keep serve's clock still until `edgesim clock` moves it (as [server] frozen = true)",
    )
    serve.add_argument(
        "--workers",
        default="1",
        metavar="N|auto",
        help="serve viewers from N processes (auto: one per CPU; default 1): a control process "
        "keeps the KVS, clock, reloads, admin API and logs; each worker has its own cache "
        "(docs/workers.md)",
    )
    serve.add_argument(
        "--shared-cache",
        action="store_true",
        help="with --workers N: one cache for all workers (a request sees Miss then Hit through "
        "any of them), as [cache] shared = true (docs/workers.md)",
    )
    serve.add_argument("--no-reload", action="store_true", help="do not watch files for changes")
    serve.add_argument("--no-tour", action="store_true", help="demo only: skip the request tour")
    serve.set_defaults(handler=cmd_serve)

    importer = sub.add_parser(
        "import",
        help="write the edgesim.toml of a distribution you deploy (CDK, CloudFormation, …)",
        description=IMPORT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument(
        "source",
        metavar="SOURCE",
        help="cdk.out, a CloudFormation/SAM template, a Terraform directory or show -json file, "
        "or get-distribution-config JSON",
    )
    add_import_arguments(importer)
    importer.add_argument(
        "--origin",
        action="append",
        default=[],
        metavar="ID_OR_DOMAIN=URL|DIR",
        help="write this [origins_local] entry (an origin id, domain or construct path)",
    )
    importer.add_argument("--out", help="write the TOML to this file (default: standard output)")
    importer.add_argument(
        "--files-dir",
        help="where function code and KVS data held inline in the source are written "
        "(default: edgesim-imported/ next to --out, or in the working directory)",
    )
    importer.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    importer.set_defaults(handler=cmd_import)

    cache = sub.add_parser("cache", help="cache operations on a running serve")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True)
    invalidate = cache_sub.add_parser("invalidate", help="remove cached objects by path pattern")
    invalidate.add_argument("paths", nargs="+", help="paths such as /index.html or '/images/*'")
    add_endpoint_arguments(invalidate)
    invalidate.set_defaults(handler=cmd_cache_invalidate)


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``serve --from`` and ``import`` that shape the import."""
    parser.add_argument("--stack", help="the stack of a CDK cloud assembly with several")
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a CloudFormation/CDK parameter value, over its default (repeatable)",
    )
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Terraform variable value, over its default (repeatable)",
    )
    parser.add_argument(
        "--var-file",
        action="append",
        default=[],
        metavar="FILE",
        help="a Terraform .tfvars file, applied before --var (repeatable)",
    )
    parser.add_argument(
        "--overlay",
        metavar="FILE",
        help="a TOML file with [origins_local] (and [server], [edges], [throttling]) for "
        "the imported distribution, e.g. edgesim.local.toml",
    )
    parser.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="NAME=PATH.js[,kvs=STORE][,runtime=…]",
        help="a function's code (a DistributionConfig names functions only by ARN), or a local "
        "file instead of the code in the source (repeatable)",
    )
    parser.add_argument(
        "--lambda",
        dest="lambdas",
        action="append",
        default=[],
        metavar="NAME_OR_ARN=PATH[,handler=…]",
        help="a Lambda@Edge function's code (.js/.mjs/.cjs, a directory or a .zip) for an "
        "association's versioned ARN or a function name, or instead of the code in the "
        "source (repeatable; edgesim.importers.lambda_flags)",
    )
    parser.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="[ID=]POLICY.json",
        help="a custom policy a behaviour names by id: the output of aws cloudfront "
        "get-cache-policy / get-origin-request-policy / get-response-headers-policy "
        "(repeatable)",
    )
    parser.add_argument(
        "--kvs",
        action="append",
        default=[],
        metavar="STORE=DATA.json",
        help="seed a key value store from a KVS import file, over the source's data (repeatable)",
    )
    parser.add_argument(
        "--distribution",
        metavar="NAME",
        help="which distribution, when the source defines several",
    )


def _pairs(items: Sequence[str], flag: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{flag} {item!r}: expected NAME=VALUE")
        pairs[key.strip()] = value
    return pairs


def _import(args: argparse.Namespace, workdir: Path, *, require_origins: bool = True) -> Imported:
    """Import ``args.source`` with the flags of ``serve --from`` / ``import``."""
    from edgesim.importers.load import import_distribution

    return import_distribution(
        Path(args.source),
        workdir=workdir,
        stack=args.stack,
        parameters=_pairs(args.parameter, "--parameter"),
        variables=_pairs(args.var, "--var"),
        var_files=[Path(f) for f in args.var_file],
        overlay=Path(args.overlay) if args.overlay else None,
        origins=list(args.origin),
        functions=list(args.function),
        lambdas=list(args.lambdas),
        policies=list(args.policy),
        kvs=list(args.kvs),
        distribution=args.distribution,
        require_origins=require_origins,
    )


def reimporter(args: argparse.Namespace, workdir: Path) -> Callable[[], Distribution]:
    """Import ``serve --from``'s source with its flags; called again on every change."""
    return lambda: _import(args, workdir).dist


def cmd_serve(args: argparse.Namespace) -> int:
    name, factory = event_loop(args.loop)
    args.loop_name = name
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_serve(args))
    return 0


def settle_heap() -> None:
    """Move everything loaded so far (modules, the distribution, functions, stores) out of the
    cyclic garbage collector's view once serve is up: under load, Python's full collections
    otherwise rescan that start-up heap again and again (measured: about a third of serve's CPU
    per request at 32 connections, benchmarks/plumbing_cost.py). Objects made later, requests
    included, are collected as usual; what start-up made and a reload drops is freed by
    reference counting (only reference cycles among them stay). Young collections then run
    every 10,000 new container objects instead of 700, as in ``serve --workers`` (each request
    makes hundreds, almost all freed by reference counting; measured −2.7% instructions per
    request at 32 connections)."""
    from edgesim.workers.worker import GC_THRESHOLDS

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def event_loop(choice: str) -> tuple[str, Callable[[], asyncio.AbstractEventLoop] | None]:
    """The event loop ``--loop`` asks for: its name, and the factory of ``asyncio.Runner`` (None:
    Python's own loop). ``auto`` takes uvloop when it is installed (the ``fast`` extra) and runs
    on this platform; ``uvloop`` requires it."""
    if choice == "asyncio":
        return "asyncio", None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise InputError(
                "--loop uvloop: uvloop is not installed (pip install 'edgesim[fast]', or "
                "pip install uvloop; it does not run on Windows)"
            ) from None
        return "asyncio", None
    return "uvloop", uvloop.new_event_loop


def _edge_server(dist: Distribution, args: argparse.Namespace) -> EdgeServer:
    """serve's server: one process (``--workers 1``, the default), or a control process and
    ``--workers`` worker processes serving viewers (edgesim.workers, docs/workers.md)."""
    from edgesim.app import EdgeServer
    from edgesim.workers.supervisor import ControlServer, worker_count

    count = worker_count(getattr(args, "workers", None) or "1")
    if count == 1:
        return EdgeServer(dist, log_format=args.log_format, record=_record(args))
    loop = getattr(args, "loop_name", "asyncio")
    return ControlServer(
        dist,
        workers=count,
        loop=loop,
        shared_cache=bool(getattr(args, "shared_cache", False)),
        log_format=args.log_format,
        record=_record(args),
    )


def _record(args: argparse.Namespace) -> Path | None:
    """serve --record FILE: where the recording goes (None: not recording)."""
    return Path(args.record) if args.record else None


async def _serve(args: argparse.Namespace) -> None:
    from edgesim.distribution.config import load_config

    if args.source:
        if args.config:
            raise InputError("--from and --config: give one (--from imports, --config reads TOML)")
        await _serve_import(args)
        return
    for dest, flag in IMPORT_ONLY_FLAGS.items():
        if getattr(args, dest):
            raise InputError(f"{flag} applies to an imported distribution: add --from SOURCE")
    config = Path(args.config) if args.config else Path(DEFAULT_CONFIG)
    if args.config and not config.is_file():
        raise InputError(f"--config {args.config}: no such file")
    if not config.is_file():
        await _serve_demo(args)
        return
    dist = _with_overrides(load_config(config), args)
    server = _edge_server(dist, args)
    await _run(server, args, tour=None, notes=dist.notes)


async def _serve_import(args: argparse.Namespace) -> None:
    """``serve --from``: function code and KVS data the source holds inline go to a temporary
    directory, removed on exit; nothing is written in the project."""

    workdir = Path(tempfile.mkdtemp(prefix="edgesim-import-"))
    try:
        reimport = reimporter(args, workdir)
        dist = _with_overrides(reimport(), args, origin_flags=False)
        server = _edge_server(dist, args)
        server.say(f"serving the distribution {args.source} deploys")
        await _run(server, args, tour=None, notes=dist.notes, reimport=reimport)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def _serve_demo(args: argparse.Namespace) -> None:
    from edgesim.demo import demo_config, start_demo_origin, tour

    origin_runner, origin_url = await start_demo_origin()
    try:
        dist = demo_config(
            origin_url,
            port=8080 if args.port is None else args.port,
            admin_port=8081 if args.admin_port is None else args.admin_port,
            ephemeral=True,  # the demo never leaves state behind
        )
        dist = _with_overrides(dist, args)
        server = _edge_server(dist, args)
        server.say(f"no {DEFAULT_CONFIG} here: running the bundled demo (origin {origin_url})")

        async def run_tour() -> None:
            base = f"http://127.0.0.1:{server.viewer_port}"
            admin = f"http://127.0.0.1:{server.admin_port}"
            await tour(base, admin, server.say)
            server.say(f"tour done; still serving on {base} (Ctrl-C to stop)")

        await _run(server, args, tour=None if args.no_tour else run_tour)
    finally:
        await origin_runner.cleanup()


def _with_overrides(
    dist: Distribution,
    args: argparse.Namespace,
    *,
    base_dir: Path | None = None,
    origin_flags: bool = True,
) -> Distribution:
    """``dist`` with what the flags say instead of the config; ``--origin`` directories are
    relative to ``base_dir`` (default: the working directory). ``origin_flags=False``: the
    ``--origin`` flags were applied already (an import maps its origins itself)."""
    server = dist.server
    if args.ephemeral:
        server = replace(server, ephemeral=True)
    if args.host:
        server = replace(server, host=args.host)
    if args.debug_headers:
        server = replace(server, debug_headers=True)
    if args.network_origins:
        server = replace(server, network_origins=True)
    if getattr(args, "no_https", False):
        server = replace(server, https=False)
    https_port = getattr(args, "https_port", None)
    if https_port is not None:
        if not 0 <= https_port <= 65_535:
            raise InputError(f"--https-port {https_port}: expected a port from 0 to 65535")
        server = replace(server, https_port=https_port)
    server = clock_overrides(server, args)
    throttling = dist.throttling
    if args.no_throttle:
        throttling = replace(throttling, enabled=False)
    local = dist.origins_local
    if origin_flags:
        local = {**local, **_origin_flags(dist, args.origin, base_dir or Path.cwd())}
    return replace(dist, server=server, throttling=throttling, origins_local=local)


def _origin_flags(dist: Distribution, items: list[str], base_dir: Path) -> dict[str, LocalOrigin]:
    """``--origin ID_OR_DOMAIN=URL|DIR`` flags, checked as ``[origins_local]`` entries are; every
    bad flag is reported, one per line."""
    entries: dict[str, LocalOrigin] = {}
    problems: list[str] = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(
                f"--origin {item!r}: expected ID_OR_DOMAIN=URL|DIR, "
                "e.g. api.example.com=http://127.0.0.1:9000"
            )
            continue
        try:
            entry = local_origin(
                key, value, base_dir=base_dir, origins=dist.origins, groups=dist.origin_groups
            )
        except InputError as exc:
            problems.append(f"--origin {item}: {exc}")
            continue
        entries[local_key(key, dist.origins)] = entry
    if problems:
        raise InputError("\n".join(problems))
    return entries


async def _run(
    server: object,
    args: argparse.Namespace,
    tour: object,
    *,
    notes: Sequence[str] = (),
    reimport: Callable[[], Distribution] | None = None,
) -> None:
    from edgesim.app import EdgeServer
    from edgesim.devloop.reloader import watch

    assert isinstance(server, EdgeServer)
    # SIGTERM (docker stop, systemd, kill) stops serve as cleanly as Ctrl-C does — from the
    # start: one arriving while serve starts or prints its banner stops it once it is up.
    stopping = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals here (Windows)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    try:
        await server.start(port=args.port, admin_port=args.admin_port)
    except BaseException:
        await server.stop()
        raise
    tasks = []
    if not args.no_reload:
        overrides = functools.partial(_with_overrides, args=args, origin_flags=reimport is None)
        tasks.append(asyncio.create_task(watch(server, overrides=overrides, reimport=reimport)))
        # The watcher's first step sets up its file watches (synchronously, before it waits for
        # changes): let it run before the banner, so an edit made as soon as serve says it is
        # up is seen (it was missed when the watches came a moment after the banner).
        await asyncio.sleep(0)
    for line in server.banner():
        server.say(line)
    server.say(f"event loop: {getattr(args, 'loop_name', 'asyncio')} (--loop to choose)")
    settle_heap()
    # What an imported distribution has that is not emulated, and the config's notes (an
    # unused lambda, a runtime unlike the Node.js that runs it), once.
    for note in notes:
        server.say(note)
    if tour is not None:
        tasks.append(asyncio.create_task(tour()))  # type: ignore[operator]
    try:
        await stopping.wait()
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await server.stop()


def cmd_cache_invalidate(args: argparse.Namespace) -> int:
    from edgesim.controlplane.invalidate import invalidate

    return invalidate(endpoint_of(args), args.paths)


def cmd_import(args: argparse.Namespace) -> int:
    """``edgesim import SOURCE``: the TOML on standard output or in ``--out``."""
    from edgesim.importers.overlay import origin_flag, unmapped_origins
    from edgesim.importers.totoml import to_toml

    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.force:
        raise InputError(f"--out {out}: the file exists; add --force to overwrite it")
    base_dir = (out.parent if out is not None else Path.cwd()).absolute()
    files_dir = Path(args.files_dir) if args.files_dir else base_dir / "edgesim-imported"
    imported = _import(args, files_dir.absolute(), require_origins=False)
    text = to_toml(
        imported.dist,
        base_dir=base_dir,
        where=imported.where,
        legacy=imported.legacy,
        title=f"edgesim.toml written by `edgesim import {args.source}`",
    )
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"edgesim: wrote {out}", file=sys.stderr)
    for path in _written(imported.dist, files_dir.absolute()):
        print(f"edgesim: wrote {path} (held inline in the source)", file=sys.stderr)
    missing = unmapped_origins(imported.dist)
    if missing:
        flags = " ".join(origin_flag(o) for o in missing)
        print(
            f"edgesim: {len(missing)} origin(s) not mapped yet: fill in [origins_local], or "
            f"run serve with {flags}",
            file=sys.stderr,
        )
    return 0


def _written(dist: Distribution, files_dir: Path) -> list[Path]:
    """The function and KVS files the import wrote under ``files_dir``."""
    paths = [decl.file for decl in dist.functions.values()]
    paths += [decl.file for decl in dist.lambdas.values()]
    paths += [decl.data for decl in dist.kvs.values() if decl.data is not None]
    return [p for p in paths if p.is_relative_to(files_dir)]
