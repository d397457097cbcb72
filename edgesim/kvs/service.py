"""The KVS as the control plane and the edge use it: stores, keys, seeds, and POP replicas.

One :class:`KvsService` owns the primary copy of every store (in memory, written through to
SQLite), one replica per store and POP, the lag model and its seeded random stream.

A write goes: validate → check If-Match → check the size quota → commit to SQLite → apply to the
primary → schedule its landing at every POP. Anything refused before the commit changes nothing;
the commit is one transaction, so a crash leaves the write either wholly there or wholly absent.

Emulator choices (AWS is silent; see also :mod:`edgesim.kvs.store`):

* A new store (with its initial items) and everything on disk at start-up are at every POP at
  once; only later writes propagate with lag. Stores are ``READY`` as soon as they exist.
* ListKeys orders keys by UTF-8 bytes (= code point order); ``NextToken`` encodes the last key
  returned, so a page boundary survives writes between pages.
* A deleted store's replicas stay frozen at the version they held; :meth:`KvsService.replica`
  no longer finds it.
* The number of stores is not capped (the per-account quota is 50 or 200, sources disagree).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import random
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

import orjson

from edgesim import limits
from edgesim.errors import (
    KvsApiError,
    KvsConflict,
    KvsImportError,
    KvsNotFound,
    KvsValidationError,
)
from edgesim.kvs.clock import Clock, RealClock
from edgesim.kvs.persistence import SeedUpdate, SqliteStorage
from edgesim.kvs.propagation import FixedLag, LagModel
from edgesim.kvs.reader import ACCOUNT_ID, KvsReader, store_arn
from edgesim.kvs.replicas import PopStatus, Replica, ReplicaSet
from edgesim.kvs.store import (
    Store,
    check_if_match,
    make_etag,
    validate_batch,
    validate_comment,
    validate_items,
    validate_key,
    validate_name,
    validate_value,
)

__all__ = ["KvsService", "PopStatus", "StoreInfo", "WriteResult"]

_ARN = re.compile(rf"arn:aws:cloudfront::{ACCOUNT_ID}:key-value-store/(.+)")
MAX_LIST_RESULTS = 50  # ListKeys MaxResults range 1-50 (service model)


@dataclass(frozen=True)
class StoreInfo:
    name: str
    id: str
    arn: str
    comment: str
    created: datetime
    last_modified: datetime
    status: str
    etag: str
    item_count: int
    total_size: int


@dataclass(frozen=True)
class WriteResult:
    etag: str
    item_count: int
    total_size: int


class KvsService:
    def __init__(
        self,
        *,
        path: Path | None = None,
        clock: Clock | None = None,
        pops: Sequence[str] = ("LOCAL",),
        lag: LagModel | None = None,
        seed: int = 0,
        max_store_bytes: int = limits.KVS_MAX_STORE_BYTES,
    ) -> None:
        if isinstance(pops, str) or not pops or len(set(pops)) != len(pops):
            raise ValueError(f"pops must be a non-empty sequence of distinct names, got {pops!r}")
        self._pops = tuple(pops)
        self._clock = clock or RealClock()
        self._lag = lag or FixedLag(0.0)
        self._rng = random.Random(seed)
        self._max_bytes = max_store_bytes
        self._lock = threading.RLock()
        self._stores: dict[str, Store] = {}  # by id
        self._ids: dict[str, str] = {}  # name -> id
        self._replicas: dict[str, ReplicaSet] = {}
        self._sorted: dict[str, tuple[int, list[str]]] = {}  # id -> (version, sorted keys)
        self._storage = SqliteStorage(path)
        for store in self._storage.load():
            self._register(store)

    # -- stores ---------------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        """The clock propagation runs on (shared with the edge in ``serve`` and the fixtures)."""
        return self._clock

    @property
    def pops(self) -> tuple[str, ...]:
        return self._pops

    def create_store(
        self, name: str, *, comment: str = "", items: Mapping[str, str] | None = None
    ) -> StoreInfo:
        validate_name(name)
        validate_comment(comment)
        data = dict(items or {})
        total = validate_items(data, max_bytes=self._max_bytes)
        with self._lock:
            return self._info(self._create(name, comment, data, total, None))

    def list_stores(self) -> list[StoreInfo]:
        with self._lock:
            return [self._info(self._stores[i]) for _, i in sorted(self._ids.items())]

    def describe(self, ref: str) -> StoreInfo:
        with self._lock:
            return self._info(self._resolve(ref))

    def delete_store(self, ref: str, *, if_match: str | None = None) -> None:
        with self._lock:
            store = self._resolve(ref)
            if if_match is not None:
                check_if_match(store, if_match)
            self._storage.delete_store(store.id)
            del self._stores[store.id], self._ids[store.name]
            self._sorted.pop(store.id, None)
            self._replicas.pop(store.id).close()

    # -- keys -----------------------------------------------------------------------------

    def get_key(self, ref: str, key: str) -> str:
        with self._lock:
            store = self._resolve(ref)
            validate_key(key)
            value = store.items.get(key)
            if value is None:
                raise KvsNotFound(f"key {key!r} does not exist in store {store.name!r}")
            return value

    def list_keys(
        self, ref: str, *, max_results: int = 10, next_token: str | None = None
    ) -> tuple[list[tuple[str, str]], str | None]:
        with self._lock:
            store = self._resolve(ref)
            if (
                isinstance(max_results, bool)
                or not isinstance(max_results, int)
                or not 1 <= max_results <= MAX_LIST_RESULTS
            ):
                raise KvsValidationError(
                    f"MaxResults must be between 1 and {MAX_LIST_RESULTS}, got {max_results!r}"
                )
            keys = self._sorted_keys(store)
            start = 0
            if next_token is not None:
                start = bisect.bisect_right(keys, _decode_token(next_token, store.id))
            page = keys[start : start + max_results]
            more = start + max_results < len(keys)
            token = _encode_token(store.id, page[-1]) if more else None
            return [(k, store.items[k]) for k in page], token

    def put_key(self, ref: str, key: str, value: str, *, if_match: str) -> WriteResult:
        with self._lock:
            store = self._resolve(ref)
            validate_key(key)
            validate_value(key, value)
            return self._write(store, {key: value}, (), if_match)

    def delete_key(self, ref: str, key: str, *, if_match: str) -> WriteResult:
        with self._lock:
            store = self._resolve(ref)
            validate_key(key)
            return self._write(store, {}, (key,), if_match)

    def update_keys(
        self,
        ref: str,
        *,
        puts: Sequence[tuple[str, str]] = (),
        deletes: Sequence[str] = (),
        if_match: str,
    ) -> WriteResult:
        with self._lock:
            store = self._resolve(ref)
            mapping = validate_batch(puts, deletes)
            return self._write(store, mapping, tuple(deletes), if_match)

    def export(self, ref: str) -> dict[str, str]:
        with self._lock:
            store = self._resolve(ref)
            return {k: store.items[k] for k in self._sorted_keys(store)}

    # -- config seed files ------------------------------------------------------------------

    def sync_seed(self, name: str, items: Mapping[str, str], *, source: str) -> StoreInfo:
        """Bring a store in line with its seed file; API writes to other keys survive.

        Only what changed between the previously synced seed and this one is written, as one
        ordinary write (so it propagates with lag); an unchanged file writes nothing.
        """
        data = dict(items)
        try:
            validate_name(name)
            total = validate_items(data, max_bytes=self._max_bytes)
        except KvsApiError as exc:
            raise KvsImportError(f"{source}: {exc}") from None
        digest = seed_hash(data)
        seed = SeedUpdate(digest, source, data)
        with self._lock:
            store_id = self._ids.get(name)
            if store_id is None:
                return self._info(self._create(name, "", data, total, seed))
            store = self._stores[store_id]
            if store.seed_hash == digest:
                return self._info(store)
            old = store.seed_items or {}
            puts = {k: v for k, v in data.items() if old.get(k) != v}
            deletes = tuple(k for k in old if k not in data and k in store.items)
            if puts or deletes:
                try:
                    self._write(store, puts, deletes, store.etag, seed)
                except KvsApiError as exc:
                    raise KvsImportError(f"{source}: cannot apply the changes: {exc}") from None
            else:
                self._storage.set_seed(store.id, seed)
            store.seed_hash, store.seed_source, store.seed_items = digest, source, data
            return self._info(store)

    # -- the edge ----------------------------------------------------------------------------

    def replica(self, ref: str, pop: str) -> KvsReader:
        return self.replica_of(ref, pop)

    def replica_of(self, ref: str, pop: str) -> Replica:
        """:meth:`replica` with its concrete type (``snapshot()``, ``version``, ``etag``)."""
        with self._lock:
            replicas = self._replicas[self._resolve(ref).id].replicas
            found = replicas.get(pop)
            if found is None:
                raise KvsNotFound(f"unknown POP {pop!r}; configured POPs: {', '.join(self._pops)}")
            return found

    def propagation_status(self, ref: str) -> list[PopStatus]:
        with self._lock:
            return self._replicas[self._resolve(ref).id].status()

    def close(self) -> None:
        with self._lock:
            self._storage.close()

    def __enter__(self) -> KvsService:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _resolve(self, ref: str) -> Store:
        found = _ARN.fullmatch(ref)
        store = self._stores.get(found.group(1) if found else ref)
        if store is None:
            store_id = self._ids.get(ref)
            store = None if store_id is None else self._stores[store_id]
        if store is None:
            raise KvsNotFound(f"no key value store {ref!r} (give its name, id or ARN)")
        return store

    def _create(
        self, name: str, comment: str, items: dict[str, str], total: int, seed: SeedUpdate | None
    ) -> Store:
        if name in self._ids:
            raise KvsConflict(f"a key value store named {name!r} already exists")
        store_id = str(uuid.uuid4())
        now = self._clock.wall()
        store = Store(
            id=store_id,
            name=name,
            comment=comment,
            created=now,
            last_modified=now,
            etag=make_etag(store_id, 1),
            version=1,
            items=items,
            total_size=total,
            seed_hash=None if seed is None else seed.hash,
            seed_source=None if seed is None else seed.source,
            seed_items=None if seed is None else dict(seed.items),
        )
        self._storage.insert_store(store)
        self._register(store)
        return store

    def _register(self, store: Store) -> None:
        self._stores[store.id] = store
        self._ids[store.name] = store.id
        self._replicas[store.id] = ReplicaSet(store, self._pops, self._clock.monotonic, self._lock)

    def _write(
        self,
        store: Store,
        puts: Mapping[str, str],
        deletes: tuple[str, ...],
        if_match: str,
        seed: SeedUpdate | None = None,
    ) -> WriteResult:
        check_if_match(store, if_match)
        change = store.plan(puts, deletes, when=self._clock.wall(), max_bytes=self._max_bytes)
        self._storage.write(store.id, change, seed)  # durable before anything else changes
        store.apply(change)
        self._replicas[store.id].record(change, self._lag, self._rng)
        return WriteResult(change.etag, len(store.items), store.total_size)

    def _sorted_keys(self, store: Store) -> list[str]:
        cached = self._sorted.get(store.id)
        if cached is None or cached[0] != store.version:
            # Code point order is UTF-8 byte order, so plain sorting gives the byte order.
            cached = (store.version, sorted(store.items))
            self._sorted[store.id] = cached
        return cached[1]

    @staticmethod
    def _info(store: Store) -> StoreInfo:
        return StoreInfo(
            name=store.name,
            id=store.id,
            arn=store_arn(store.id),
            comment=store.comment,
            created=store.created,
            last_modified=store.last_modified,
            status="READY",
            etag=store.etag,
            item_count=len(store.items),
            total_size=store.total_size,
        )


def seed_hash(items: Mapping[str, str]) -> str:
    """Order-independent digest of a seed's items."""
    return hashlib.sha256(orjson.dumps(sorted(items.items()))).hexdigest()


def _encode_token(store_id: str, last_key: str) -> str:
    raw = store_id.encode() + b"\n" + last_key.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, store_id: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        owner, _, last_key = raw.partition(b"\n")
        if owner.decode() != store_id or not last_key:
            raise ValueError
        return last_key.decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise KvsValidationError(f"NextToken {token!r} is not valid for this store") from None
