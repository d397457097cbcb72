"""The KVS service a distribution declares: stores, their POP replicas and propagation lag, and
the seed files kept in sync with them (used by ``serve``, the pytest plugin and the e2e tests)."""

from __future__ import annotations

from typing import TypeVar

from edgesim.distribution.model import Distribution
from edgesim.kvs.clock import Clock
from edgesim.kvs.importfile import parse_import
from edgesim.kvs.service import KvsService

S = TypeVar("S", bound=KvsService)


def kvs_service_for(
    dist: Distribution,
    *,
    clock: Clock | None = None,
    kind: type[S] = KvsService,  # type: ignore[assignment]
) -> S:
    """The distribution's POPs and propagation lag, kept under ``state_dir`` unless ephemeral;
    ``kind`` a KvsService subclass (serve --workers' leader)."""
    path = None
    if not dist.server.ephemeral:
        dist.server.state_dir.mkdir(parents=True, exist_ok=True)
        path = dist.server.state_dir / "kvs.sqlite3"
    spec = dist.edges.propagation
    return kind(
        path=path,
        pops=dist.edges.pops,
        lag=spec.lag_model(),
        seed=spec.seed or 0,
        clock=clock,
    )


def sync_kvs_seeds(service: KvsService, dist: Distribution) -> list[str]:
    """Create declared stores and apply seed-file changes; returns one line per change."""
    notes = []
    existing = {info.name for info in service.list_stores()}
    for decl in dist.kvs.values():
        if decl.data is None:
            if decl.name not in existing:
                service.create_store(decl.name)
                notes.append(f"kvs {decl.name}: created (empty)")
            continue
        items = parse_import(decl.data.read_bytes(), source=str(decl.data))
        before = service.describe(decl.name).etag if decl.name in existing else None
        info = service.sync_seed(decl.name, items, source=str(decl.data))
        if before != info.etag:
            notes.append(f"kvs {decl.name}: seeded from {decl.data} ({info.item_count} keys)")
    return notes
