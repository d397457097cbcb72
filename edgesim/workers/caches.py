"""The per-worker caches of ``serve --workers N`` (the default, without ``[cache] shared``),
seen from the control process: their figures added up for ``/status`` and ``/metrics``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from edgesim.edge.cache import CachedObject, HttpCache

if TYPE_CHECKING:
    from edgesim.workers.supervisor import Supervisor


def merge_cache_stats(rows: list[dict[str, Any]], pops: Sequence[str]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for row in rows:
        for key, value in row.items():
            if key == "pops":
                continue
            if key.endswith("_limit_bytes"):
                merged[key] = value  # the same budget in every worker
            elif isinstance(value, int | float):
                merged[key] = merged.get(key, 0) + value
    per_pop: dict[str, dict[str, Any]] = {pop: {} for pop in pops}
    for row in rows:
        for pop, usage in row.get("pops", {}).items():
            target = per_pop.setdefault(pop, {})
            for key, value in usage.items():
                target[key] = target.get(key, 0) + value
    merged["pops"] = dict(sorted(per_pop.items()))
    return merged


class WorkersCache(HttpCache):
    """The control process's cache stands for the workers' caches in ``/status`` and
    ``/metrics`` (it stores nothing itself: no viewer request reaches it)."""

    supervisor: Supervisor | None = None
    # The workers' objects as the inspector's Cache view last asked for them (their bodies
    # stay in the workers): an object two workers hold is listed twice.
    listed: list[CachedObject] = []  # noqa: RUF012 (replaced whole, never mutated)

    def objects(self) -> list[CachedObject]:
        return list(self.listed)

    def stats(self, pops: Any = ()) -> dict[str, Any]:
        merged = self.supervisor.cache_stats(list(pops)) if self.supervisor else None
        stats = merged if merged is not None else super().stats(pops)
        # Each worker's own cache: their objects are counted here, not listed (objects() is
        # this process's, empty); the inspector can say so.
        stats["per_worker"] = True
        return stats
