"""Where the admin clients (``edgesim kvs …``, ``edgesim cache invalidate``) find the admin
endpoint, and the exit codes they share.

The first of these wins:

1. ``--endpoint URL``;
2. ``$EDGESIM_ENDPOINT`` (``$EDGESIM_KVS_ENDPOINT``, its older name, still works);
3. ``[server] host`` and ``admin_port`` of the config given by ``--config``, or of
   ``./edgesim.toml`` when there is one (``--config`` goes before the environment: it is given
   on the command line);
4. ``http://127.0.0.1:8081``, serve's and ``edgesim kvs serve``'s default.

Exit codes: 0 done; 1 failed (the endpoint is unreachable or answered with a failure); 2 bad
input (flags, files, a request the endpoint refused as invalid); 3 conflict (re-run).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from edgesim.errors import InputError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_CONFLICT = 0, 1, 2, 3
EXIT_UNREACHABLE = EXIT_FAILED

DEFAULT_ENDPOINT = "http://127.0.0.1:8081"
ENV_ENDPOINT = "EDGESIM_ENDPOINT"
ENV_ALIASES = ("EDGESIM_KVS_ENDPOINT",)
DEFAULT_CONFIG = "edgesim.toml"

# A server bound to every address is reached on the loopback one.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


@dataclass(frozen=True)
class Endpoint:
    """An admin endpoint URL and where it came from (for messages)."""

    url: str
    source: str

    def __str__(self) -> str:
        return self.url


def resolve_endpoint(
    endpoint: str | None = None,
    *,
    config: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Endpoint:
    """The admin endpoint from (in this order) ``endpoint``, ``config``, the environment,
    ``./edgesim.toml`` (in ``cwd``), then the default. A config that cannot be read, or whose
    ``admin_port`` is 0 (a free port picked at start-up), is an :class:`InputError`."""
    if endpoint:
        return Endpoint(_checked(endpoint, "--endpoint"), "--endpoint")
    if config is not None:
        return _from_config(Path(config), f"--config {config}")
    env = os.environ if environ is None else environ
    for name in (ENV_ENDPOINT, *ENV_ALIASES):
        if env.get(name):
            return Endpoint(_checked(env[name], f"${name}"), f"${name}")
    found = (cwd or Path.cwd()) / DEFAULT_CONFIG
    if found.is_file():
        return _from_config(found, f"./{DEFAULT_CONFIG}")
    return Endpoint(DEFAULT_ENDPOINT, "the default")


def _checked(url: str, source: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise InputError(f"{source} {url!r}: expected an http(s) URL such as {DEFAULT_ENDPOINT}")
    return url.rstrip("/")


def _from_config(path: Path, source: str) -> Endpoint:
    from edgesim.distribution.config import load_config

    if not path.is_file():
        raise InputError(f"{source}: no such file")
    try:
        server = load_config(path).server
    except InputError as exc:
        raise InputError(
            f"{exc}\n(the admin endpoint is read from this file: pass --endpoint URL to skip it)"
        ) from None
    where = f"{source} [server] admin_port"
    if server.admin_port == 0:
        raise InputError(
            f"{where} is 0 (a free port picked at start-up): pass --endpoint with the admin "
            "URL serve printed"
        )
    host = _WILDCARDS.get(server.host, server.host)
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return Endpoint(f"http://{host}:{server.admin_port}", where)


def add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """``--endpoint`` and ``--config``, resolved later by :func:`endpoint_of`."""
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help=f"admin endpoint (default: ${ENV_ENDPOINT}, else [server] host and admin_port of "
        f"./{DEFAULT_CONFIG} or --config, else {DEFAULT_ENDPOINT})",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"read the admin endpoint from this edgesim.toml (default ./{DEFAULT_CONFIG} when "
        f"there is one and ${ENV_ENDPOINT} is unset)",
    )


def endpoint_of(args: argparse.Namespace) -> Endpoint:
    return resolve_endpoint(getattr(args, "endpoint", None), config=getattr(args, "config", None))
