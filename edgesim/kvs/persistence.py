"""SQLite storage for the KVS: one transaction per acknowledged write.

Durability: WAL with ``synchronous=FULL``, so a commit is on disk (WAL fsynced) before the API
answers — it survives a killed process and a power cut. NORMAL would survive only the former,
and a write costs well under a millisecond either way.

The file is opened with ``locking_mode=EXCLUSIVE``: edgesim keeps the data in memory, so a second
process writing the same file behind its back would make both wrong. A second opener gets a
clear :class:`KvsError` instead.

``path=None`` keeps the database in memory (``--ephemeral``): same code, nothing on disk.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import orjson

from edgesim.errors import KvsError
from edgesim.kvs.importfile import item_size
from edgesim.kvs.store import Change, Store

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stores (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    comment TEXT NOT NULL,
    created TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    etag TEXT NOT NULL,
    version INTEGER NOT NULL,
    seed_hash TEXT,
    seed_source TEXT,
    seed_items BLOB
);
CREATE TABLE IF NOT EXISTS items (
    store_id TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (store_id, key)
) WITHOUT ROWID;
"""


class SeedUpdate:
    """What to remember about a store's config seed file, written with the same transaction."""

    __slots__ = ("hash", "items", "source")

    def __init__(self, hash: str, source: str, items: Mapping[str, str]) -> None:
        self.hash = hash
        self.source = source
        self.items = items


class SqliteStorage:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        target = ":memory:" if path is None else str(path)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise KvsError(
                    f"{path.parent}: cannot create the state directory: {exc.strerror or exc}"
                ) from None
        # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE … COMMIT) below. Only this
        # connection ever touches the file, so waiting on a lock means another process has it.
        self._conn = sqlite3.connect(
            target, isolation_level=None, check_same_thread=False, timeout=0.1
        )
        self._lock = threading.Lock()
        try:
            self._setup()
        except sqlite3.OperationalError as exc:
            self._conn.close()
            if "locked" in str(exc):
                raise KvsError(
                    f"{path}: the KVS database is in use by another edgesim process"
                ) from None
            raise KvsError(f"{path}: cannot open the KVS database: {exc}") from None
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise KvsError(f"{path}: not a KVS database: {exc}") from None

    def _setup(self) -> None:
        conn = self._conn
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        if found not in (0, SCHEMA_VERSION):
            raise KvsError(
                f"{self.path}: KVS database schema {found} is newer than this edgesim "
                f"understands ({SCHEMA_VERSION})"
            )
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def load(self) -> list[Store]:
        conn = self._conn
        items: dict[str, dict[str, str]] = {}
        for store_id, key, value in conn.execute(
            "SELECT store_id, key, value FROM items ORDER BY store_id, key"
        ):
            items.setdefault(store_id, {})[key] = value
        stores = []
        for row in conn.execute(
            "SELECT id, name, comment, created, last_modified, etag, version, seed_hash, "
            "seed_source, seed_items FROM stores ORDER BY name"
        ):
            store_items = items.get(row[0], {})
            stores.append(
                Store(
                    id=row[0],
                    name=row[1],
                    comment=row[2],
                    created=datetime.fromisoformat(row[3]),
                    last_modified=datetime.fromisoformat(row[4]),
                    etag=row[5],
                    version=row[6],
                    items=store_items,
                    # Derived, not stored: it can never disagree with the items.
                    total_size=sum(item_size(k, v) for k, v in store_items.items()),
                    seed_hash=row[7],
                    seed_source=row[8],
                    seed_items=None if row[9] is None else orjson.loads(row[9]),
                )
            )
        return stores

    def insert_store(self, store: Store) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO stores (id, name, comment, created, last_modified, etag, version, "
                "seed_hash, seed_source, seed_items) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    store.id,
                    store.name,
                    store.comment,
                    store.created.isoformat(),
                    store.last_modified.isoformat(),
                    store.etag,
                    store.version,
                    store.seed_hash,
                    store.seed_source,
                    None if store.seed_items is None else orjson.dumps(store.seed_items),
                ),
            )
            conn.executemany(
                "INSERT INTO items (store_id, key, value) VALUES (?, ?, ?)",
                ((store.id, k, v) for k, v in store.items.items()),
            )

    def write(self, store_id: str, change: Change, seed: SeedUpdate | None = None) -> None:
        with self._transaction() as conn:
            conn.executemany(
                "DELETE FROM items WHERE store_id = ? AND key = ?",
                ((store_id, k) for k in change.deletes),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO items (store_id, key, value) VALUES (?, ?, ?)",
                ((store_id, k, v) for k, v in change.puts.items()),
            )
            conn.execute(
                "UPDATE stores SET etag = ?, version = ?, last_modified = ? WHERE id = ?",
                (change.etag, change.version, change.last_modified.isoformat(), store_id),
            )
            if seed is not None:
                self._set_seed(conn, store_id, seed)

    def set_seed(self, store_id: str, seed: SeedUpdate) -> None:
        with self._transaction() as conn:
            self._set_seed(conn, store_id, seed)

    @staticmethod
    def _set_seed(conn: sqlite3.Connection, store_id: str, seed: SeedUpdate) -> None:
        conn.execute(
            "UPDATE stores SET seed_hash = ?, seed_source = ?, seed_items = ? WHERE id = ?",
            (seed.hash, seed.source, orjson.dumps(dict(seed.items)), store_id),
        )

    def delete_store(self, store_id: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM items WHERE store_id = ?", (store_id,))
            conn.execute("DELETE FROM stores WHERE id = ?", (store_id,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
