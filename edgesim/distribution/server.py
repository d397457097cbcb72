"""``[server]``: the listeners (HTTP, HTTPS, admin), the state directory, the distribution's domain
name, the debug header, the viewers' keep-alive timeout, whether origin helpers may reach
unmapped domains over the network, and where serve's clock starts (``now``, ``frozen``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from edgesim.distribution.model import ServerSettings
from edgesim.distribution.tables import MISSING, Context, Table, toml_type
from edgesim.kvs.clock import ClockError, checked_instant, parse_instant

SERVER_KEYS = (
    "host",
    "port",
    "admin_port",
    "state_dir",
    "ephemeral",
    "domain_name",
    "access_log",
    "https",
    "https_port",
    "debug_headers",
    "network_origins",
    "keepalive_timeout_s",
    "admin_allowed_hosts",
    "inspector",
    "inspector_flows",
    "inspector_body_bytes",
    "now",
    "frozen",
)
_HOSTNAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+")


def read_server(ctx: Context, data: Mapping[str, Any]) -> ServerSettings:
    t = ctx.table("server", data, SERVER_KEYS)
    defaults = ServerSettings()
    port = t.integer("port", defaults.port, lo=0, hi=65_535)
    admin_port = t.integer("admin_port", defaults.admin_port, lo=0, hi=65_535)
    if port == admin_port and port != 0:  # 0 means "any free port" for both
        t.error("admin_port", f"must differ from port ({port})")
    https = t.flag("https", defaults.https)
    https_port = t.integer("https_port", defaults.https_port, lo=0, hi=65_535)
    if https and https_port != 0:  # an unused port cannot clash
        for other, value in (("port", port), ("admin_port", admin_port)):
            if https_port != value:
                continue
            if t.has("https_port"):
                t.error("https_port", f"must differ from {other} ({value})")
            else:
                t.error(
                    "https_port",
                    f"the default, {value}, is {other}'s too; "
                    "set https_port to another port (0: a free one) or https = false",
                )
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
        https=https,
        https_port=https_port,
        debug_headers=t.flag("debug_headers", defaults.debug_headers),
        network_origins=t.flag("network_origins", defaults.network_origins),
        admin_allowed_hosts=tuple(_allowed_hosts(t)),
        inspector=t.flag("inspector", defaults.inspector),
        inspector_flows=t.integer("inspector_flows", defaults.inspector_flows, lo=1, hi=100_000),
        inspector_body_bytes=t.integer(
            "inspector_body_bytes", defaults.inspector_body_bytes, lo=0, hi=1_048_576
        ),
        keepalive_timeout_s=t.number(
            "keepalive_timeout_s", defaults.keepalive_timeout_s, above=0.0, hi=3_600.0
        ),
        now=_clock_start(t),
        frozen=t.flag("frozen", defaults.frozen),
    )


def _clock_start(t: Table) -> datetime | None:
    """``now``: where serve's clock starts, a TOML offset date-time (``now =
    2030-01-01T09:00:00Z``) or the same as a string; it needs a time zone."""
    value = t.raw("now")
    if value is MISSING:
        return None
    try:
        if isinstance(value, str):
            return parse_instant(value, "now")
        if isinstance(value, datetime):
            return checked_instant(value, "now", shown=value.isoformat())
    except ClockError as exc:
        t.error("now", exc.reason)
        return None
    t.error(
        "now",
        f"expected a date-time such as 2030-01-01T09:00:00Z, got {toml_type(value)} {value!r}",
    )
    return None


def _allowed_hosts(t: Table) -> list[str]:
    """Extra names the admin server answers to (beyond loopback names): host names, or
    ``*.suffix`` for any name under a suffix; lower-cased, without a port."""
    names: list[str] = []
    for index, name in enumerate(t.texts("admin_allowed_hosts") or []):
        where = f"{t.at('admin_allowed_hosts')}[{index}]"
        bare = name.strip().lower()
        plain = bare[2:] if bare.startswith("*.") else bare
        if ":" in plain and not plain.startswith("["):
            t.problems.add(where, f"{name!r}: give the name without a port (any port is allowed)")
        elif not (_HOSTNAME.fullmatch(plain) or plain.startswith("[")):
            t.problems.add(where, f"{name!r} is not a host name")
        else:
            names.append(bare)
    return names
