"""One edge cache for every ``serve --workers N`` process (``[cache] shared = true``).

The entries live in an SQLite database (WAL mode) in a directory the control process creates
and removes; bodies up to the spill threshold are stored in it, larger ones are spilled to files
in the same directory as :class:`~edgesim.edge.cache.HttpCache` spills them. Every worker opens
the database and reads and writes it itself: a lookup is one SQL statement in the worker, with
no round trip through the control process, so a request costs no other process's time, and the
cache keeps working while the control process is busy with its observers.

It behaves as the cache of one process: :class:`SharedCache` is an ``HttpCache`` (the edge
pipeline calls the same ``lookup`` / ``begin`` / ``refresh``), every lookup marks the entry
recently used for all processes (a global order, ``used``), a store or a refresh evicts the
least recently used entries over the ``[cache]`` budgets once for all workers, and an
invalidation removes an entry once. The totals per POP are kept by triggers in the same
transaction as the change, so ``/status`` reads them without scanning entries. Writes take
SQLite's write lock (one process at a time, held for one statement or a short transaction);
readers never wait for it (WAL).

Why not the control process holding the cache behind an RPC: every hit would then wait for the
control process's event loop, which decodes every worker's finished requests; the database
needs no other process to answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import mmap
import shutil
import sqlite3
import struct
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

try:
    import fcntl
except ImportError:  # Windows: no memo (every lookup reads the database)
    fcntl = None  # type: ignore[assignment]

from edgesim.edge.cache import (
    DEFAULT_CHUNK,
    CachedObject,
    CacheWriter,
    HttpCache,
    PopUsage,
    _FileChunks,
    _memory_chunks,
    _remove_file,
    invalidation_pattern,
)
from edgesim.edge.ttl import TtlDecision

DATABASE = "cache.sqlite3"
GENERATION = "generation"
_GENERATION = struct.Struct("<Q")
# A process keeps up to this many rows it read (and bodies up to this size in all) while no
# entry changes; any change anywhere drops them all.
MEMO_ENTRIES = 4096
MEMO_BYTES = 16 * 1024 * 1024
BUSY_TIMEOUT_S = 30.0  # the write lock is held for microseconds; this only bounds a stuck peer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    pop TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers BLOB NOT NULL,
    stored_at REAL NOT NULL,
    ttl REAL NOT NULL,
    swr REAL NOT NULL,
    sie REAL NOT NULL,
    size INTEGER NOT NULL,
    body BLOB,
    spill TEXT,
    cost INTEGER NOT NULL,
    used INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_used ON entries(used);
CREATE INDEX IF NOT EXISTS entries_spilled ON entries(used) WHERE spill IS NOT NULL;
CREATE TABLE IF NOT EXISTS usage (
    pop TEXT PRIMARY KEY,
    entries INTEGER NOT NULL DEFAULT 0,
    memory_used INTEGER NOT NULL DEFAULT 0,
    memory_bytes INTEGER NOT NULL DEFAULT 0,
    disk_bytes INTEGER NOT NULL DEFAULT 0,
    spilled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('evictions', 0), ('invalidated', 0);
CREATE TRIGGER IF NOT EXISTS entries_added AFTER INSERT ON entries BEGIN
    INSERT OR IGNORE INTO usage (pop) VALUES (NEW.pop);
    UPDATE usage SET
        entries = entries + 1,
        memory_used = memory_used + NEW.cost,
        memory_bytes = memory_bytes + (CASE WHEN NEW.spill IS NULL THEN NEW.size ELSE 0 END),
        disk_bytes = disk_bytes + (CASE WHEN NEW.spill IS NULL THEN 0 ELSE NEW.size END),
        spilled = spilled + (NEW.spill IS NOT NULL)
    WHERE pop = NEW.pop;
END;
CREATE TRIGGER IF NOT EXISTS entries_removed AFTER DELETE ON entries BEGIN
    UPDATE usage SET
        entries = entries - 1,
        memory_used = memory_used - OLD.cost,
        memory_bytes = memory_bytes - (CASE WHEN OLD.spill IS NULL THEN OLD.size ELSE 0 END),
        disk_bytes = disk_bytes - (CASE WHEN OLD.spill IS NULL THEN 0 ELSE OLD.size END),
        spilled = spilled - (OLD.spill IS NOT NULL)
    WHERE pop = OLD.pop;
END;
CREATE TRIGGER IF NOT EXISTS entries_recosted AFTER UPDATE OF cost ON entries BEGIN
    UPDATE usage SET memory_used = memory_used - OLD.cost + NEW.cost WHERE pop = NEW.pop;
END;
"""

_COLUMNS = "key, path, pop, status, headers, stored_at, ttl, swr, sie, size, body, spill"
# A hit's use reaches the shared LRU order this late at most (see SharedCache.lookup).
TOUCH_DELAY_S = 0.05


@dataclass(slots=True)
class SharedObject(CachedObject):
    """A stored object as one process read it. A spilled body's file is opened when the object
    is looked up: another process may evict it (and delete the file) at any time after that,
    and the open file keeps the bytes for this reader (POSIX unlink semantics)."""

    opened: BinaryIO | None = field(default=None, repr=False)

    def body_chunks(self, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        if self.spill_file is None:
            return _memory_chunks(self.body or b"", chunk_size)
        opened, self.opened = self.opened, None
        return _FileChunks(self.spill_file, chunk_size, opened)

    def __del__(self) -> None:
        # Looked up but never read (revalidated, replaced by the origin's answer): let go.
        if self.opened is not None:
            self.opened.close()


class SharedWriter(CacheWriter):
    """A body being stored in the shared cache: committed as soon as the origin's last byte
    (``Content-Length``) is written, before that byte goes to the viewer. In one process the
    viewer's next request waits for the event loop that commits; with several workers, another
    worker may take that request first, and would miss an object this viewer already has. A
    viewer that hangs up during the last chunk leaves the object cached (the origin sent all
    of it). Bodies without a length (compressed on the way) commit at their end, as usual."""

    def __init__(
        self, cache: HttpCache, key: str, template: CachedObject, *, spill_threshold: int
    ) -> None:
        super().__init__(cache, key, template, spill_threshold=spill_threshold)
        lengths = [v for n, v in template.headers if n == "content-length"]
        self._expected = int(lengths[0]) if len(lengths) == 1 and lengths[0].isdigit() else None

    def write(self, chunk: bytes) -> None:
        super().write(chunk)
        if self._expected and self.size == self._expected:
            self.commit()


def create_directory() -> Path:
    """A new directory for a shared cache (the control process removes it at the end)."""
    return Path(tempfile.mkdtemp(prefix="edgesim-shared-cache-"))


class SharedCache(HttpCache):
    """An :class:`HttpCache` whose entries every process that opens ``directory`` shares.

    ``owner``: the control process, which created the directory and removes it on
    :meth:`close`; a worker's ``close`` only lets go (its unfinished writes are dropped).
    Hits and misses are not counted here (the metrics count them from the requests served)."""

    writer_class = SharedWriter

    def __init__(
        self,
        directory: Path,
        *,
        owner: bool,
        clock: Callable[[], float],
        memory_limit_bytes: int,
        disk_limit_bytes: int,
        spill_threshold_bytes: int = 1024 * 1024,
        count_entry_overhead: bool = True,
    ) -> None:
        super().__init__(
            clock=clock,
            memory_limit_bytes=memory_limit_bytes,
            disk_limit_bytes=disk_limit_bytes,
            spill_threshold_bytes=spill_threshold_bytes,
            spill_dir=directory / "bodies",
            count_entry_overhead=count_entry_overhead,
        )
        self.directory = directory
        self.owner = owner
        # Autocommit: each statement is its own transaction unless BEGIN IMMEDIATE opened one.
        self._db = sqlite3.connect(
            directory / DATABASE, timeout=BUSY_TIMEOUT_S, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode = WAL")
        # A cache of a running serve: nothing to keep across a crash, so no fsync.
        self._db.execute("PRAGMA synchronous = OFF")
        if owner:
            self._db.executescript(_SCHEMA)
            (directory / GENERATION).write_bytes(bytes(_GENERATION.size))
        # The generation: a counter every process maps, raised after each committed change.
        self._counter_file = open(directory / GENERATION, "r+b")  # noqa: SIM115 (closed in close)
        self._counter = mmap.mmap(self._counter_file.fileno(), _GENERATION.size)
        self._memo: dict[str, tuple[Any, ...]] = {}  # key -> row, valid for _memo_generation
        self._memo_bytes = 0
        self._memo_generation = -1
        self._touched: dict[str, int] = {}  # key -> its last use here, not yet written
        self._flush_timer: asyncio.TimerHandle | None = None
        self._last_used = 0

    # --- reading ---------------------------------------------------------------------------

    def lookup(self, key: str) -> CachedObject | None:
        """The entry, read without SQLite's write lock: from this process's memo of rows it
        read while no process changed any entry since (the shared generation counter), else
        from the database. Its use joins the shared LRU order within TOUCH_DELAY_S, with the
        time it happened (and before this process's next write, so its own evictions always
        see it): writing it on every hit cost four times the read (about 43 µs against 10 µs)
        and made the workers queue for the lock."""
        generation = self._generation() if fcntl is not None else -1
        if generation != self._memo_generation or generation < 0:
            self._memo.clear()
            self._memo_bytes = 0
            self._memo_generation = generation
        row = self._memo.get(key)
        if row is None:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM entries WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            if generation >= 0:
                self._remember(key, row)
        self._touched[key] = self._now_used()
        if self._flush_timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop (a script, a test): at once
                self.flush()
            else:
                self._flush_timer = loop.call_later(TOUCH_DELAY_S, self.flush)
        return self._object(row)

    def _remember(self, key: str, row: tuple[Any, ...]) -> None:
        size = len(row[10] or b"")
        if len(self._memo) >= MEMO_ENTRIES or self._memo_bytes + size > MEMO_BYTES:
            self._memo.clear()
            self._memo_bytes = 0
        self._memo[key] = row
        self._memo_bytes += size

    def _generation(self) -> int:
        return int(_GENERATION.unpack_from(self._counter, 0)[0])

    def _bump(self) -> None:
        """After a committed change of entries: every process's memo is stale. The file lock
        makes concurrent bumps add up (readers read the counter without it)."""
        if fcntl is None:
            return
        fcntl.flock(self._counter_file, fcntl.LOCK_EX)
        try:
            _GENERATION.pack_into(self._counter, 0, self._generation() + 1)
        finally:
            fcntl.flock(self._counter_file, fcntl.LOCK_UN)

    def _now_used(self) -> int:
        """A place in the LRU order: the system's monotonic clock (the same in every process),
        strictly increasing within this one."""
        used = max(time.monotonic_ns(), self._last_used + 1)
        self._last_used = used
        return used

    def flush(self) -> None:
        """Write this process's pending uses to the shared LRU order."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._touched:
            with self._transaction(changes=False):
                pass  # _transaction writes them; uses change no entry's content

    def _write_touches(self) -> None:
        if self._touched:
            touched, self._touched = self._touched, {}
            # max(): an older use never moves an entry back (another process may have used it
            # since, or replaced it with a new entry).
            self._db.executemany(
                "UPDATE entries SET used = max(used, ?) WHERE key = ?",
                [(used, key) for key, used in touched.items()],
            )

    def _object(self, row: tuple[Any, ...], *, open_body: bool = True) -> SharedObject | None:
        key, path, pop, status, headers, stored_at, ttl, swr, sie, size, body, spill = row
        obj = SharedObject(
            status=status,
            headers=[(name, value) for name, value in orjson.loads(headers)],
            stored_at=stored_at,
            ttl=ttl,
            stale_while_revalidate=swr,
            stale_if_error=sie,
            size=size,
            path=path,
            key=key,
            body=body,
            spill_file=None if spill is None else Path(spill),
            pop=pop,
        )
        if spill is not None and open_body:
            try:
                obj.opened = open(spill, "rb")  # noqa: SIM115 (closed by its reader)
            except FileNotFoundError:
                return None  # evicted by another process since: a miss
        return obj

    def objects(self) -> list[CachedObject]:
        self.flush()
        rows = self._db.execute(
            f"SELECT {_COLUMNS.replace('body', 'NULL')} FROM entries ORDER BY used"
        ).fetchall()
        return [obj for row in rows if (obj := self._object(row, open_body=False)) is not None]

    def stats(self, pops: Iterable[str] = ()) -> dict[str, Any]:
        rows = self._db.execute(
            "SELECT pop, entries, memory_used, memory_bytes, disk_bytes, spilled FROM usage"
        ).fetchall()
        counters = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
        usage = {pop: PopUsage() for pop in pops}
        for pop, entries, memory_used, _memory, disk, _spilled in rows:
            usage[pop] = PopUsage(entries, memory_used, disk)
        memory_bytes = sum(row[3] for row in rows)
        disk_bytes = sum(row[4] for row in rows)
        return {
            "entries": sum(row[1] for row in rows),
            "bytes": memory_bytes + disk_bytes,
            "memory_bytes": memory_bytes,
            "memory_used_bytes": sum(row[2] for row in rows),
            "memory_limit_bytes": self.memory_limit_bytes,
            "disk_bytes": disk_bytes,
            "disk_limit_bytes": self.disk_limit_bytes,
            "spilled_entries": sum(row[5] for row in rows),
            "writers": len(self._writers),  # this process's
            "hits": 0,
            "misses": 0,
            "evictions": counters.get("evictions", 0),
            "invalidated": counters.get("invalidated", 0),
            "shared": True,
            "pops": {pop: row.as_dict() for pop, row in sorted(usage.items())},
        }

    def pop_usage(self, pops: Iterable[str] = ()) -> dict[str, PopUsage]:
        rows = {pop: PopUsage() for pop in pops}
        for pop, counts in self.stats(pops)["pops"].items():
            rows[pop] = PopUsage(counts["entries"], counts["memory_bytes"], counts["disk_bytes"])
        return dict(sorted(rows.items()))

    def __len__(self) -> int:
        (count,) = self._db.execute("SELECT COALESCE(SUM(entries), 0) FROM usage").fetchone()
        return int(count)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        found = self._db.execute("SELECT 1 FROM entries WHERE key = ?", (key,)).fetchone()
        return found is not None

    # --- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, *, changes: bool = True) -> Iterator[list[str]]:
        """A write transaction; yields a list for the spill files it removed, deleted once it
        committed (a rolled-back removal keeps its file). ``changes``: it may change entries
        (the generation goes up once it committed)."""
        removed: list[str] = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._write_touches()
            yield removed
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        if changes:
            self._bump()
        for name in removed:
            _remove_file(Path(name))

    def _store(self, key: str, obj: CachedObject) -> CachedObject | None:
        obj.memory_cost = self._memory_cost(obj)
        too_big = obj.memory_cost > self.memory_limit_bytes or (
            obj.spilled and obj.size > self.disk_limit_bytes
        )
        if too_big:
            _remove_file(obj.spill_file)
            return None
        spill = None if obj.spill_file is None else str(obj.spill_file)
        with self._transaction() as removed:
            self._delete("key = ?", (key,), removed)
            self._db.execute(
                f"INSERT INTO entries ({_COLUMNS}, cost, used) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key, obj.path, obj.pop, obj.status, orjson.dumps(obj.headers),
                    obj.stored_at, obj.ttl, obj.stale_while_revalidate, obj.stale_if_error,
                    obj.size, None if obj.spilled else (obj.body or b""), spill,
                    obj.memory_cost, self._now_used(),
                ),
            )  # fmt: skip
            self._evict_in(removed)
        return obj

    def refresh(
        self, key: str, decision: TtlDecision, headers: list[tuple[str, str]] | None = None
    ) -> CachedObject | None:
        with self._transaction() as removed:
            row = self._db.execute(
                "UPDATE entries SET stored_at = ?, ttl = ?, swr = ?, sie = ?, used = ?"
                f" WHERE key = ? RETURNING {_COLUMNS}",
                (
                    self.clock(), decision.ttl, decision.stale_while_revalidate,
                    decision.stale_if_error, self._now_used(), key,
                ),
            ).fetchone()  # fmt: skip
            if row is None:
                return None
            if headers is not None:
                stripped = set(decision.strip_headers)
                kept = [(name, value) for name, value in headers if name not in stripped]
                obj = self._object(row, open_body=False)
                assert obj is not None
                obj.headers = kept
                cost = self._memory_cost(obj)
                self._db.execute(
                    "UPDATE entries SET headers = ?, cost = ? WHERE key = ?",
                    (orjson.dumps(kept), cost, key),
                )
                self._evict_in(removed)  # new headers, new cost: make room if it grew
                row = self._db.execute(
                    f"SELECT {_COLUMNS} FROM entries WHERE key = ?", (key,)
                ).fetchone()
                if row is None:  # evicted itself (larger than the whole budget now)
                    return None
        return self._object(row)

    def set_limits(self, *, memory_limit_bytes: int, disk_limit_bytes: int) -> None:
        self.memory_limit_bytes = memory_limit_bytes
        self.disk_limit_bytes = disk_limit_bytes
        with self._transaction() as removed:
            self._evict_in(removed)

    def discard(self, key: str) -> bool:
        with self._transaction() as removed:
            return self._delete("key = ?", (key,), removed) > 0

    def _delete(self, where: str, args: tuple[Any, ...], removed: list[str]) -> int:
        rows = self._db.execute(f"DELETE FROM entries WHERE {where} RETURNING spill", args)
        count = 0
        for (spill,) in rows.fetchall():
            count += 1
            if spill is not None:
                removed.append(spill)
        return count

    def _evict_in(self, removed: list[str]) -> None:
        """Least recently used entries out until both budgets hold (inside a transaction)."""
        evicted = 0
        while True:
            memory, disk = self._db.execute(
                "SELECT COALESCE(SUM(memory_used), 0), COALESCE(SUM(disk_bytes), 0) FROM usage"
            ).fetchone()
            if memory > self.memory_limit_bytes:
                # cost 0: a spilled body when entry overhead is not counted (tests only).
                victim = "SELECT rowid FROM entries WHERE cost > 0 ORDER BY used LIMIT 1"
            elif disk > self.disk_limit_bytes:
                victim = "SELECT rowid FROM entries WHERE spill IS NOT NULL ORDER BY used LIMIT 1"
            else:
                break
            if self._delete(f"rowid = ({victim})", (), removed) == 0:
                break
            evicted += 1
        if evicted:
            self._count("evictions", evicted)

    def _count(self, name: str, n: int) -> None:
        self._db.execute("UPDATE counters SET value = value + ? WHERE name = ?", (n, name))

    # --- invalidation ----------------------------------------------------------------------

    def invalidate(self, pattern: str) -> int:
        """As :meth:`HttpCache.invalidate`, for every process: matching entries go once (the
        count is what this call removed), and this process's unfinished writes for a matching
        path are abandoned (each process is asked to drop its own)."""
        text, prefix = invalidation_pattern(pattern)
        where = "substr(path, 1, length(?1)) = ?1" if prefix else "path = ?1"
        with self._transaction() as removed:
            count = self._delete(where, (text,), removed)
            self._count("invalidated", count)
        for writer in list(self._writers):
            if writer.path.startswith(text) if prefix else writer.path == text:
                writer.abort()
        return count

    # --- shutdown --------------------------------------------------------------------------

    def close(self) -> None:
        """Drop this process's unfinished writes and let go of the database; the owner also
        deletes it, with every spilled body."""
        for writer in list(self._writers):
            writer.abort()
        with contextlib.suppress(sqlite3.Error):
            self.flush()
            self._db.close()
        self._memo.clear()
        self._counter.close()
        self._counter_file.close()
        if self.owner:
            shutil.rmtree(self.directory, ignore_errors=True)


__all__ = ["SharedCache", "SharedObject", "create_directory"]
