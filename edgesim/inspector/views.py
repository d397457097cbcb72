"""What the inspector's pages read besides requests: functions, KVS per POP, the cache per POP and
the distribution, each as a JSON-ready dict built from a running :class:`EdgeServer`."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgesim.edge.flow import NOT_LOADED, THROTTLED

if TYPE_CHECKING:
    from edgesim.app import EdgeServer
    from edgesim.inspector.capture import FlowCapture

MAX_KEYS = 1_000  # keys listed per store (the page says when there are more)
HISTOGRAM_BUCKETS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)  # upper bounds; then "> 100"


# -- functions ----------------------------------------------------------------------------------
def percentile(values: list[int], q: float) -> int | None:
    """The nearest-rank percentile (``q`` in 0–100) of ``values``, None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def histogram(values: Iterable[int]) -> list[dict[str, Any]]:
    """Utilization counts in buckets of 10 (as a CloudWatch histogram would group them)."""
    counts = [0] * (len(HISTOGRAM_BUCKETS) + 1)
    for value in values:
        index = next((i for i, top in enumerate(HISTOGRAM_BUCKETS) if value <= top), -1)
        counts[index] += 1
    labels = [f"≤{top}" for top in HISTOGRAM_BUCKETS] + [f">{HISTOGRAM_BUCKETS[-1]}"]
    return [{"bucket": label, "count": count} for label, count in zip(labels, counts, strict=True)]


def functions_view(server: EdgeServer, capture: FlowCapture) -> dict[str, Any]:
    recent: dict[str, list[int]] = {}
    for name, error_kind, utilization in capture.recent_runs():
        if error_kind not in (NOT_LOADED, THROTTLED):
            recent.setdefault(name, []).append(utilization)
    builds = {fn: row for row in server.builds.status() for fn in row["functions"]}
    rows = []
    for name, slot in server.proxy.state.functions.slots.items():
        stats = server.metrics.functions.get(name)
        utilizations = recent.get(name, [])
        invocations = stats.invocations if stats else 0
        rows.append(
            {
                "name": name,
                "file": shown_path(slot.decl.file, server.dist.config_path),
                "runtime": slot.decl.runtime,
                "kvs": slot.decl.kvs,
                "compat": slot.decl.compat,
                "loaded": slot.function is not None,
                "version": slot.versions,
                "loaded_at_ms": round(slot.loaded_at * 1000) if slot.loaded_at else None,
                # A built function's positions in its sources (issue 15).
                "last_error": slot.last_error and server.builds.relabeler.text(slot.last_error),
                "build": builds.get(name),
                "last_reload": server.reloads.get(name),
                "warnings": list(slot.findings),
                "throttled": slot.throttle.throttled(),
                "invocations": invocations,
                "errors": {
                    "execution": stats.execution_errors if stats else 0,
                    "validation": stats.validation_errors if stats else 0,
                },
                "throttles": stats.throttles if stats else 0,
                "utilization": {
                    "mean": round(stats.utilization_sum / invocations)
                    if stats and invocations
                    else None,
                    "max": stats.utilization_max if stats else None,
                    # Over the runs still in the inspector's ring (the last N requests).
                    "p50": percentile(utilizations, 50),
                    "p99": percentile(utilizations, 99),
                    "recent_runs": len(utilizations),
                    "histogram": histogram(utilizations),
                },
            }
        )
    return {"functions": rows}


def shown_path(path: Path, config: Path | None) -> str:
    """A file as the user wrote it: relative to the config's folder when it is inside it."""
    if config is not None:
        try:
            return str(path.resolve().relative_to(config.resolve().parent))
        except ValueError:
            pass
    return str(path)


# -- KVS ----------------------------------------------------------------------------------------
class KvsTimeline:
    """When each recent write landed at each POP, for the propagation chart.

    Built from the replicas' own schedule: while a version is pending at a POP, its landing
    time is known exactly (now + what is left); a version first seen already landed is marked
    as observed at that moment. :meth:`observe` runs whenever the page asks (and while a live
    stream is open), so writes made while nobody looks show as observed on the next look."""

    KEEP = 20  # versions per store

    def __init__(self) -> None:
        self.writes: dict[str, dict[int, dict[str, Any]]] = {}
        self._baseline: dict[str, int] = {}  # the version each store had when first seen

    def observe(self, server: EdgeServer) -> None:
        now_ms = server.clock.wall().timestamp() * 1000
        for info in server.kvs.list_stores():
            statuses = server.kvs.propagation_status(info.name)
            if not statuses:
                continue
            latest = max(
                [s.version for s in statuses] + [v for s in statuses for v, _ in s.pending]
            )
            baseline = self._baseline.setdefault(info.name, latest)
            versions = self.writes.setdefault(info.name, {})
            if latest > baseline and latest not in versions:
                versions[latest] = {
                    "version": latest,
                    "etag": info.etag,
                    "written_ms": info.last_modified.timestamp() * 1000,
                    "lands": {},
                }
            for version, write in versions.items():
                lands: dict[str, dict[str, Any]] = write["lands"]
                for status in statuses:
                    pending = dict(status.pending)
                    if version in pending:  # its landing time is known exactly
                        at = now_ms + pending[version] * 1000
                        lands[status.pop] = {"at_ms": at, "observed": False}
                    elif status.version >= version and status.pop not in lands:
                        lands[status.pop] = {"at_ms": now_ms, "observed": True}
                for landing in lands.values():  # exact times: a rounded one could lie ahead
                    landing["landed"] = landing["at_ms"] <= now_ms
            for old in sorted(versions)[: -self.KEEP]:
                del versions[old]

    def of(self, store: str) -> list[dict[str, Any]]:
        return [self.writes.get(store, {})[v] for v in sorted(self.writes.get(store, {}))]


def kvs_view(server: EdgeServer, timeline: KvsTimeline) -> dict[str, Any]:
    timeline.observe(server)
    now_ms = server.clock.wall().timestamp() * 1000
    stores = []
    for info in server.kvs.list_stores():
        stores.append(
            {
                "name": info.name,
                "id": info.id,
                "arn": info.arn,
                "etag": info.etag,
                "items": info.item_count,
                "size": info.total_size,
                "pops": [
                    {
                        "pop": p.pop,
                        "version": p.version,
                        "etag": p.etag,
                        "in_sync": p.etag == info.etag,
                        "pending": [
                            {"version": v, "lands_in_s": round(s, 3)} for v, s in p.pending
                        ],
                    }
                    for p in server.kvs.propagation_status(info.name)
                ],
                "timeline": timeline.of(info.name),
            }
        )
    return {"now_ms": now_ms, "pops": list(server.dist.edges.pops), "stores": stores}


def kvs_keys_view(server: EdgeServer, store: str) -> dict[str, Any]:
    """Every key (up to :data:`MAX_KEYS`) with the latest value and what each POP serves now."""
    latest = server.kvs.export(store)
    pops = list(server.kvs.pops)
    snapshots = {pop: server.kvs.replica_of(store, pop).snapshot() for pop in pops}
    names = sorted(set(latest) | {k for s in snapshots.values() for k in s.stored_keys()})
    rows = []
    for key in names[:MAX_KEYS]:
        at_pops = {pop: snap.get(key) for pop, snap in snapshots.items()}
        rows.append(
            {
                "key": key,
                "value": latest.get(key),
                "pops": at_pops,
                "in_sync": all(v == latest.get(key) for v in at_pops.values()),
            }
        )
    info = server.kvs.describe(store)
    return {
        "store": info.name,
        "arn": info.arn,
        "etag": info.etag,
        "pops": pops,
        "versions": {pop: snap.version for pop, snap in snapshots.items()},
        "keys": rows,
        "truncated": len(names) > MAX_KEYS,
    }


# -- cache --------------------------------------------------------------------------------------
def cache_view(server: EdgeServer) -> dict[str, Any]:
    now = server.cache.clock()
    by_pop: dict[str, list[dict[str, Any]]] = {pop: [] for pop in server.dist.edges.pops}
    for obj in server.cache.objects():
        pop, _, rest = obj.key.partition("|")
        by_pop.setdefault(pop, []).append(
            {
                "key": rest,
                "path": obj.path,
                "status": obj.status,
                "size": obj.size,
                "age_s": obj.age(now),
                "ttl_s": obj.ttl,
                "ttl_left_s": round(obj.ttl - (now - obj.stored_at), 3),
                "fresh": obj.is_fresh(now),
                "on_disk": obj.spilled,
            }
        )
    requests = server.metrics.requests
    return {
        "stats": server.cache.stats(),
        # From the requests served (X-Cache), as CloudFront's cache statistics count them.
        "requests": {
            "hits": requests["Hit"] + requests["RefreshHit"],
            "misses": requests["Miss"],
            "hit_rate": round(server.metrics.cache_hit_rate, 4),
        },
        "pops": [{"pop": pop, "objects": objects} for pop, objects in by_pop.items()],
    }


# -- distribution -------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """A config object as JSON-ready data (dataclasses as dicts, sets sorted, paths as text)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path | datetime):
        return str(value)
    return value


def distribution_view(server: EdgeServer) -> dict[str, Any]:
    dist = server.dist
    behaviors = []
    for order, behavior in enumerate(dist.all_behaviors()):
        behaviors.append(
            {
                "order": order,
                "path": behavior.path,
                "origin": behavior.origin,
                "viewer_request": behavior.viewer_request,
                "viewer_response": behavior.viewer_response,
                "cache_policy": plain(behavior.cache_policy),
                "origin_request_policy": plain(behavior.origin_request_policy),
                "response_headers_policy": plain(behavior.response_headers_policy),
                "allowed_methods": sorted(behavior.allowed_methods),
                "cached_methods": sorted(behavior.cached_methods),
                "viewer_protocol_policy": behavior.viewer_protocol_policy,
                "compress": behavior.compress,
            }
        )
    local = dist.origins_local
    origins = [
        {
            **plain(origin),
            "local": plain(local.get(origin.id)),
        }
        for origin in dist.origins.values()
    ]
    lenient = [f.name for f in dist.functions.values() if f.compat == "lenient"]
    warnings = list(dist.notes) + [
        f"function {name}: compat = lenient (served even where CloudFront would refuse it)"
        for name in lenient
    ]
    return {
        "config": dist.config_path.name if dist.config_path else None,
        "domain_name": dist.server.domain_name,
        "aliases": list(dist.aliases),
        "pops": list(dist.edges.pops),
        "default_root_object": dist.default_root_object,
        "behaviors": behaviors,
        "origins": origins,
        "origin_groups": [plain(g) for g in dist.origin_groups.values()],
        "origins_local": plain(local),
        "functions": [
            {**plain(f), "file": shown_path(f.file, dist.config_path)}
            for f in dist.functions.values()
        ],
        "custom_error_responses": [plain(r) for r in dist.custom_error_responses.values()],
        "geo_restriction": plain(dist.geo_restriction),
        "throttling": plain(dist.throttling),
        "warnings": warnings,
        "load_errors": server.load_errors(),
    }
