"""A worker's KVS: a follower copy of every store's POP replicas, applying the control process's
writes with the landing times the control process drew, so a write lands at a POP at the same
clock reading in every worker. Reads cost what they cost in one process (the same
:class:`~edgesim.kvs.replicas.Replica`: a clock read and a compare, the catch-up on the first
read after a landing)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence

from edgesim.errors import KvsNotFound
from edgesim.kvs.reader import ACCOUNT_ID, KvsReader
from edgesim.kvs.replicas import Replica, ReplicaSet, ReplicaSetState
from edgesim.workers.messages import KvsEvent, StoreAdded, StoreChanged, StoreDeleted

_ARN = re.compile(rf"arn:aws:cloudfront::{ACCOUNT_ID}:key-value-store/(.+)")


class FollowerKvs:
    """What the edge reads of :class:`~edgesim.kvs.service.KvsService` (``pops``,
    ``replica``, ``replica_of``), fed by :meth:`apply`."""

    def __init__(
        self,
        pops: Sequence[str],
        clock: Callable[[], float],
        stores: Iterable[tuple[str, ReplicaSetState]] = (),
    ) -> None:
        self._pops = tuple(pops)
        self._clock = clock
        self._lock = threading.RLock()
        self._sets: dict[str, ReplicaSet] = {}  # by store id
        self._ids: dict[str, str] = {}  # name -> id
        for name, state in stores:
            self._add(name, state)

    @property
    def pops(self) -> tuple[str, ...]:
        return self._pops

    def replica(self, ref: str, pop: str) -> KvsReader:
        return self.replica_of(ref, pop)

    def replica_of(self, ref: str, pop: str) -> Replica:
        found = _ARN.fullmatch(ref)
        store_id = found.group(1) if found else ref
        sets = self._sets.get(store_id) or self._sets.get(self._ids.get(ref, ""))
        if sets is None:
            raise KvsNotFound(f"no key value store {ref!r} (give its name, id or ARN)")
        replica = sets.replicas.get(pop)
        if replica is None:
            raise KvsNotFound(f"unknown POP {pop!r}; configured POPs: {', '.join(self._pops)}")
        return replica

    def versions(self, ref: str) -> dict[str, int]:
        """Each POP's version of a store now (for tests and /status)."""
        sets = self._sets[self._ids.get(ref, ref)]
        return {pop: replica.version for pop, replica in sets.replicas.items()}

    def apply(self, events: Iterable[KvsEvent]) -> None:
        """The control process's store creations, writes and deletions, in its order."""
        with self._lock:
            for event in events:
                if isinstance(event, StoreAdded):
                    self._add(event.name, event.state)
                elif isinstance(event, StoreChanged):
                    sets = self._sets.get(event.store_id)
                    if sets is not None:
                        sets.apply(event.change, event.lands)
                elif isinstance(event, StoreDeleted):
                    gone = self._sets.pop(event.store_id, None)
                    if gone is not None:
                        gone.close()
                    self._ids = {n: i for n, i in self._ids.items() if i != event.store_id}

    def _add(self, name: str, state: ReplicaSetState) -> None:
        self._sets[state.store_id] = ReplicaSet.from_state(state, self._clock, self._lock)
        self._ids[name] = state.store_id
