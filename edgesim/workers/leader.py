"""The KVS of ``serve --workers N``'s control process: the one writer, noting every store
creation, write (with its landing time at each POP) and deletion for the workers' followers
(edgesim.workers.follower)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgesim.distribution.model import Distribution
from edgesim.kvs.clock import SettableClock
from edgesim.kvs.replicas import ReplicaSet
from edgesim.kvs.service import KvsService
from edgesim.kvs.store import Change, Store
from edgesim.stores import kvs_service_for
from edgesim.workers.messages import KvsEvent, StoreAdded, StoreChanged, StoreDeleted


class LeaderKvs(KvsService):
    """The KVS service, noting every store creation, write (with its landing time at each POP)
    and deletion for the workers' followers."""

    def __init__(self, **kwargs: Any) -> None:
        self._events: list[KvsEvent] = []
        self.on_event: Callable[[], None] | None = None
        super().__init__(**kwargs)

    def __enter__(self) -> LeaderKvs:
        return self

    def _register(self, store: Store) -> None:
        super()._register(store)
        replicas = self._replicas[store.id]
        replicas.feed = self._recorded
        self._emit(StoreAdded(store.name, replicas.export_state()))

    def delete_store(self, ref: str, *, if_match: str | None = None) -> None:
        with self._lock:
            store_id = self.describe(ref).id
            super().delete_store(ref, if_match=if_match)
            self._emit(StoreDeleted(store_id))

    def _recorded(self, replicas: ReplicaSet, change: Change, lands: dict[str, float]) -> None:
        self._emit(StoreChanged(replicas.store_id, change, lands))

    def _emit(self, event: KvsEvent) -> None:
        self._events.append(event)
        if self.on_event is not None:
            self.on_event()

    def take_events(self) -> tuple[KvsEvent, ...]:
        with self._lock:
            events, self._events = tuple(self._events), []
            return events

    def snapshot(self) -> list[tuple[str, Any]]:
        """Every store as a follower starts from it (what is pending included); the events
        noted so far are in it, so they are dropped."""
        with self._lock:
            self._events = []
            return [
                (info.name, self._replicas[info.id].export_state()) for info in self.list_stores()
            ]


def leader_kvs_for(dist: Distribution, clock: SettableClock) -> LeaderKvs:
    """As :func:`edgesim.stores.kvs_service_for`, the leader's kind."""
    return kvs_service_for(dist, clock=clock, kind=LeaderKvs)
