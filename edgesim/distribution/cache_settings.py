"""``[cache]``: the edge cache's memory and disk budgets, for all POPs together, and whether
``serve --workers N``'s workers share one cache (``shared``).

CloudFront's own cache capacity is not configurable and not published; these budgets only keep
the emulator's process within bounds (defaults in ``edgesim.distribution.model.CacheSettings``,
explained in docs/cache.md and docs/configuration.md). Sizes are whole MiB (1 MB = 1,048,576
bytes here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from edgesim.distribution.model import CacheSettings
from edgesim.distribution.tables import Context

CACHE_KEYS = ("memory_limit_mb", "disk_limit_mb", "shared")

# Upper bounds that catch a value given in bytes or KB by mistake, not real limits of a machine.
MAX_MEMORY_MB = 1_048_576  # 1 TiB
MAX_DISK_MB = 1_073_741_824  # 1 PiB


def read_cache_settings(ctx: Context, data: Mapping[str, Any]) -> CacheSettings:
    """The ``[cache]`` table; each bad value is a problem naming ``cache.<key>``."""
    t = ctx.table("cache", data, CACHE_KEYS)
    defaults = CacheSettings()
    return CacheSettings(
        # At least 1 MiB: a cache holds something (an entry costs about 0.5 KB before its body).
        memory_limit_mb=t.integer(
            "memory_limit_mb", defaults.memory_limit_mb, lo=1, hi=MAX_MEMORY_MB
        ),
        # 0 is allowed: bodies over the spill threshold (1 MiB) are then not cached at all.
        disk_limit_mb=t.integer("disk_limit_mb", defaults.disk_limit_mb, lo=0, hi=MAX_DISK_MB),
        # serve --workers N only: one cache for all workers (edgesim.workers.shared_cache).
        shared=t.flag("shared", defaults.shared),
    )
