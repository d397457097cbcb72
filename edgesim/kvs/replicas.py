"""Per-POP copies of a store, each moving forward as writes land there.

Every acknowledged write (version v) gets a landing time per POP: now + the lag model's draw.
A POP serves the newest version that has landed; if v+1 lands before v, the POP jumps straight
to v+1 (which includes v) and never goes back. Once every landing time has passed, all POPs hold
the primary's latest version.

Cost model:

* the read path is one clock call and one float compare; landed versions are applied lazily,
  on the first read after their landing time;
* writes are kept as deltas (:class:`~edgesim.kvs.store.Change`), not copies, and dropped once
  every POP has passed them;
* a POP's item dict is never mutated once published: catching up builds a new dict (one copy per
  catch-up, however many versions it spans, shared by POPs that reach the same version). So a
  reader holding a :meth:`Replica.snapshot` sees one version for as long as it likes — what a
  function invocation needs, since writes apply between invocations, never during one.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from edgesim.kvs.propagation import LagModel
from edgesim.kvs.reader import iso_millis, store_arn
from edgesim.kvs.store import Change, Store

# Settle every POP (and drop old deltas) once this many writes are in the log, so that a POP
# nobody reads cannot make the log grow without bound.
SETTLE_AFTER = 64


@dataclass(frozen=True)
class PopStatus:
    pop: str
    version: int
    etag: str
    pending: tuple[tuple[int, float], ...]  # (version, seconds until it lands), by version


@dataclass(frozen=True)
class ReplicaSetState:
    """A :class:`ReplicaSet` as plain data (picklable), for a follower in another process."""

    store_id: str
    created: str
    items: dict[str, str]  # the oldest POP version's items
    version: int
    etag: str
    updated: str
    log: list[Change]  # every write after ``version``, in order
    pops: dict[str, tuple[int, list[tuple[int, float]]]]  # POP -> (version, pending landings)


@dataclass(frozen=True)
class _View:
    """What one POP serves: a version's items and metadata, published as one object."""

    items: dict[str, str]
    version: int
    etag: str
    updated: str  # lastUpdatedDateTime, ISO with milliseconds


class ReplicaSnapshot:
    """One version of a POP's copy, frozen: the reader for a single invocation."""

    __slots__ = ("_created", "_view", "arn", "store_id")

    def __init__(self, store_id: str, created: str, view: _View) -> None:
        self.store_id = store_id
        self.arn = store_arn(store_id)
        self._created = created
        self._view = view

    @property
    def version(self) -> int:
        return self._view.version

    def get(self, key: str) -> str | None:
        return self._view.items.get(key)

    def stored_keys(self) -> list[str]:
        """The keys this version holds (the inspector lists them per POP)."""
        return list(self._view.items)

    def meta(self) -> dict[str, object]:
        view = self._view
        return {
            "creationDateTime": self._created,
            "lastUpdatedDateTime": view.updated,
            "keyCount": len(view.items),
        }


class Replica:
    """A store as one POP sees it right now (implements ``KvsReader``)."""

    __slots__ = (
        "_created",
        "_items",
        "_next_land",
        "_now",
        "_owner",
        "_pending",
        "_view",
        "arn",
        "pop",
        "store_id",
    )

    def __init__(self, owner: ReplicaSet, pop: str, view: _View) -> None:
        self._owner = owner
        self._now: Callable[[], float] = owner.clock
        self.pop = pop
        self.store_id = owner.store_id
        self.arn = store_arn(owner.store_id)
        self._created = owner.created
        self._publish(view)
        self._pending: list[tuple[int, float]] = []  # (version, landing time), not yet applied
        self._next_land = math.inf  # earliest landing time in _pending

    def _publish(self, view: _View) -> None:
        self._view = view
        self._items = view.items

    def get(self, key: str) -> str | None:
        if self._now() >= self._next_land:
            self._owner.advance(self)
        return self._items.get(key)

    def meta(self) -> dict[str, object]:
        return self.snapshot().meta()

    def snapshot(self) -> ReplicaSnapshot:
        """The version this POP holds now, frozen (cheap: no copy)."""
        if self._now() >= self._next_land:
            self._owner.advance(self)
        return ReplicaSnapshot(self.store_id, self._created, self._view)

    @property
    def version(self) -> int:
        return self.snapshot().version

    @property
    def etag(self) -> str:
        if self._now() >= self._next_land:
            self._owner.advance(self)
        return self._view.etag


class ReplicaSet:
    """All POP copies of one store, and the write log they replay from."""

    def __init__(
        self,
        store: Store,
        pops: Sequence[str],
        clock: Callable[[], float],
        lock: threading.RLock,
    ) -> None:
        self.store_id = store.id
        self.created = iso_millis(store.created)
        self.clock = clock
        self._lock = lock
        # State that exists when the set is built is already everywhere.
        base = _View(dict(store.items), store.version, store.etag, iso_millis(store.last_modified))
        self._log: dict[int, Change] = {}
        self._log_start = store.version + 1  # oldest version the log may still hold
        self._latest = base  # most recently materialised view, shared by POPs reaching it
        self.replicas = {pop: Replica(self, pop, base) for pop in pops}
        self._closed = False
        # Told of every write after it is scheduled here, with its landing times (serve
        # --workers sends them to the worker processes: edgesim.workers).
        self.feed: Callable[[ReplicaSet, Change, dict[str, float]], None] | None = None

    def record(self, change: Change, lag: LagModel, rng: random.Random) -> None:
        """Schedule an acknowledged write at every POP. Call with the service lock held."""
        if self._closed:
            return
        lands = self.landing_times(lag, rng)
        self.apply(change, lands)
        if self.feed is not None:  # serve --workers: the same write, landing at the same times
            self.feed(self, change, lands)

    def landing_times(self, lag: LagModel, rng: random.Random) -> dict[str, float]:
        """When a write made now lands at each POP (clock readings): one draw per POP, in POP
        order, so a seeded lag model gives the same times on every run."""
        now = self.clock()
        return {pop: now + lag.lag_seconds(pop, rng) for pop in self.replicas}

    def apply(self, change: Change, lands: Mapping[str, float]) -> None:
        """Schedule ``change`` at each POP at its landing time: what :meth:`record` computed
        here, or another process's (a follower applying its leader's writes)."""
        if self._closed:
            return
        self._log[change.version] = change
        for pop, replica in self.replicas.items():
            land = lands[pop]
            replica._pending.append((change.version, land))
            replica._next_land = min(replica._next_land, land)
        if len(self._log) > SETTLE_AFTER:
            self.settle()

    def export_state(self) -> ReplicaSetState:
        """Everything a follower needs to hold the same POP copies: the oldest POP view's items,
        the write log from there, and each POP's version and pending landings."""
        with self._lock:
            self.settle()
            oldest = min((r._view for r in self.replicas.values()), key=lambda v: v.version)
            return ReplicaSetState(
                store_id=self.store_id,
                created=self.created,
                items=dict(oldest.items),
                version=oldest.version,
                etag=oldest.etag,
                updated=oldest.updated,
                log=[self._log[v] for v in sorted(self._log) if v > oldest.version],
                pops={pop: (r._view.version, list(r._pending)) for pop, r in self.replicas.items()},
            )

    @classmethod
    def from_state(
        cls, state: ReplicaSetState, clock: Callable[[], float], lock: threading.RLock
    ) -> ReplicaSet:
        """A follower's copy of the set whose :meth:`export_state` this is."""
        self = cls.__new__(cls)
        self.store_id, self.created = state.store_id, state.created
        self.clock, self._lock, self._closed, self.feed = clock, lock, False, None
        base = _View(state.items, state.version, state.etag, state.updated)
        self._log = {change.version: change for change in state.log}
        self._log_start = state.version + 1
        self._latest = base
        self.replicas = {}
        for pop, (version, pending) in state.pops.items():
            replica = Replica(self, pop, base)
            replica._publish(self._materialise(base, version) if version > base.version else base)
            replica._pending = list(pending)
            replica._next_land = min((t for _, t in pending), default=math.inf)
            self.replicas[pop] = replica
        return self

    def advance(self, replica: Replica) -> None:
        """Apply to ``replica`` every version that has landed by now (the lazy catch-up)."""
        with self._lock:
            now = self.clock()
            if now < replica._next_land:
                return  # another thread caught it up meanwhile
            landed = [v for v, t in replica._pending if t <= now]
            if landed:
                target = max(landed)
                replica._publish(self._materialise(replica._view, target))
                replica._pending = [(v, t) for v, t in replica._pending if v > target]
                self._collect()
            replica._next_land = min((t for _, t in replica._pending), default=math.inf)

    def settle(self) -> None:
        with self._lock:
            for replica in self.replicas.values():
                if self.clock() >= replica._next_land:
                    self.advance(replica)

    def status(self) -> list[PopStatus]:
        with self._lock:
            self.settle()
            now = self.clock()
            return [
                PopStatus(
                    pop,
                    r._view.version,
                    r._view.etag,
                    tuple(sorted((v, t - now) for v, t in r._pending)),
                )
                for pop, r in self.replicas.items()
            ]

    def close(self) -> None:
        """The store was deleted: freeze every POP where it stands and drop the log."""
        with self._lock:
            self._closed = True
            for replica in self.replicas.values():
                replica._pending = []
                replica._next_land = math.inf
            self._log.clear()

    def _materialise(self, view: _View, target: int) -> _View:
        if self._latest.version == target:
            return self._latest
        items = dict(view.items)
        change = None
        for version in range(view.version + 1, target + 1):
            change = self._log[version]
            for key in change.deletes:
                items.pop(key, None)
            items.update(change.puts)
        assert change is not None  # target > view.version: the POP had something pending
        built = _View(items, target, change.etag, iso_millis(change.last_modified))
        if target > self._latest.version:
            self._latest = built
        return built

    def _collect(self) -> None:
        """Drop deltas every POP has already applied."""
        low = min(r._view.version for r in self.replicas.values())
        while self._log_start <= low:
            self._log.pop(self._log_start, None)
            self._log_start += 1
