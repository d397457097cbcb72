"""``edgesim serve`` and ``edgesim cache invalidate``: parse, call the library, print."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
from dataclasses import replace
from pathlib import Path

from edgesim.controlplane.endpoint import add_endpoint_arguments, endpoint_of
from edgesim.distribution.model import Distribution, LocalOrigin
from edgesim.distribution.origins import local_key, local_origin
from edgesim.errors import InputError

DEFAULT_CONFIG = "edgesim.toml"


SERVE_DESCRIPTION = """\
Run the distribution described by ./edgesim.toml (or --config) in front of
your dev origin: viewers on one port; the KVS API, /status and /metrics on
the admin port. Function files, the config and KVS seed files are watched
and reloaded. Without a config file, serve runs the bundled demo.

Flags override the config file. See docs/serve.md and docs/configuration.md."""


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
    serve.add_argument("--no-reload", action="store_true", help="do not watch files for changes")
    serve.add_argument("--no-tour", action="store_true", help="demo only: skip the request tour")
    serve.set_defaults(handler=cmd_serve)

    cache = sub.add_parser("cache", help="cache operations on a running serve")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True)
    invalidate = cache_sub.add_parser("invalidate", help="remove cached objects by path pattern")
    invalidate.add_argument("paths", nargs="+", help="paths such as /index.html or '/images/*'")
    add_endpoint_arguments(invalidate)
    invalidate.set_defaults(handler=cmd_cache_invalidate)


def cmd_serve(args: argparse.Namespace) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


async def _serve(args: argparse.Namespace) -> None:
    from edgesim.app import EdgeServer
    from edgesim.distribution.config import load_config

    config = Path(args.config) if args.config else Path(DEFAULT_CONFIG)
    if args.config and not config.is_file():
        raise InputError(f"--config {args.config}: no such file")
    if not config.is_file():
        await _serve_demo(args)
        return
    dist = _with_overrides(load_config(config), args)
    server = EdgeServer(dist, log_format=args.log_format)
    await _run(server, args, tour=None)


async def _serve_demo(args: argparse.Namespace) -> None:
    from edgesim.app import EdgeServer
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
        server = EdgeServer(dist, log_format=args.log_format)
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
    dist: Distribution, args: argparse.Namespace, *, base_dir: Path | None = None
) -> Distribution:
    """``dist`` with what the flags say instead of the config; ``--origin`` directories are
    relative to ``base_dir`` (default: the working directory)."""
    server = dist.server
    if args.ephemeral:
        server = replace(server, ephemeral=True)
    if args.host:
        server = replace(server, host=args.host)
    if args.debug_headers:
        server = replace(server, debug_headers=True)
    if args.network_origins:
        server = replace(server, network_origins=True)
    throttling = dist.throttling
    if args.no_throttle:
        throttling = replace(throttling, enabled=False)
    local = {**dist.origins_local, **_origin_flags(dist, args.origin, base_dir or Path.cwd())}
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


async def _run(server: object, args: argparse.Namespace, tour: object) -> None:
    from edgesim.app import EdgeServer
    from edgesim.devloop.reloader import watch

    assert isinstance(server, EdgeServer)
    try:
        await server.start(port=args.port, admin_port=args.admin_port)
    except BaseException:
        await server.stop()
        raise
    for line in server.banner():
        server.say(line)
    tasks = []
    if not args.no_reload:
        overrides = functools.partial(_with_overrides, args=args)
        tasks.append(asyncio.create_task(watch(server, overrides=overrides)))
    if tour is not None:
        tasks.append(asyncio.create_task(tour()))  # type: ignore[operator]
    try:
        await asyncio.Event().wait()
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await server.stop()


def cmd_cache_invalidate(args: argparse.Namespace) -> int:
    from edgesim.controlplane.invalidate import invalidate

    return invalidate(endpoint_of(args), args.paths)
