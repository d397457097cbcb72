"""SQLite: reopen restores everything; a failed commit changes nothing; one process per file."""

import sqlite3
from pathlib import Path

import pytest

from edgesim.errors import KvsError, KvsNotFound
from edgesim.kvs import FixedLag, KvsService, VirtualClock
from tests.unit.kvs.conftest import START


def test_reopen_restores_stores_items_etags_and_versions(
    tmp_path: Path, clock: VirtualClock
) -> None:
    path = tmp_path / "state" / "kvs.sqlite3"
    with KvsService(path=path, clock=clock) as kvs:
        a = kvs.create_store("a", comment="first", items={"x": "1", "é": "€\x00"})
        etag = kvs.put_key("a", "y", "2", if_match=a.etag).etag
        etag = kvs.update_keys("a", puts=[("z", "3")], deletes=["x"], if_match=etag).etag
        gone = kvs.create_store("gone", items={"k": "v"})
        kvs.delete_store("gone")
        b = kvs.create_store("b")
        expected = [kvs.describe("a"), kvs.describe("b")]
        replica_version = kvs.replica_of("a", "LOCAL").version
    with KvsService(path=path, clock=clock) as kvs:
        assert kvs.list_stores() == expected
        assert kvs.export("a") == {"y": "2", "z": "3", "é": "€\x00"}
        assert kvs.describe(b.arn).created == START
        with pytest.raises(KvsNotFound):
            kvs.describe(gone.id)
        # The version counter carries on: the next write must not reuse an old ETag.
        assert kvs.replica_of("a", "LOCAL").version == replica_version == 3
        result = kvs.put_key("a", "w", "4", if_match=etag)
        assert result.etag not in {a.etag, etag}


def test_state_on_disk_is_at_every_pop_from_the_start(tmp_path: Path, clock: VirtualClock) -> None:
    path = tmp_path / "kvs.sqlite3"
    with KvsService(path=path, clock=clock, pops=("IAD",), lag=FixedLag(60)) as kvs:
        etag = kvs.create_store("s").etag
        kvs.put_key("s", "k", "v", if_match=etag)
        assert kvs.replica("s", "IAD").get("k") is None  # still in flight
    with KvsService(path=path, clock=clock, pops=("IAD", "NRT"), lag=FixedLag(60)) as kvs:
        assert kvs.replica("s", "IAD").get("k") == "v"
        assert kvs.replica("s", "NRT").get("k") == "v"
        assert all(s.pending == () for s in kvs.propagation_status("s"))


def test_failed_commit_leaves_memory_and_disk_unchanged(
    tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kvs.sqlite3"
    with KvsService(path=path, clock=clock) as kvs:
        etag = kvs.create_store("s", items={"a": "1"}).etag
        monkeypatch.setattr(kvs._storage, "_conn", _FailingAtStoreUpdate(kvs._storage._conn))
        with pytest.raises(sqlite3.OperationalError, match=r"disk I/O"):
            kvs.update_keys("s", puts=[("b", "2")], deletes=["a"], if_match=etag)
        monkeypatch.undo()
        assert kvs.export("s") == {"a": "1"}
        assert kvs.describe("s").etag == etag
        assert kvs.replica("s", "LOCAL").get("b") is None
        kvs.put_key("s", "c", "3", if_match=etag)  # the connection is usable again
    with KvsService(path=path, clock=clock) as kvs:
        assert kvs.export("s") == {"a": "1", "c": "3"}


class _FailingAtStoreUpdate:
    """A connection whose UPDATE of the store row fails: mid-transaction, after the items."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql.startswith("UPDATE stores"):
            raise sqlite3.OperationalError("disk I/O error")
        return self._conn.execute(sql, *args)

    def executemany(self, sql: str, rows: object) -> sqlite3.Cursor:
        return self._conn.executemany(sql, rows)  # type: ignore[arg-type]


def test_second_process_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kvs.sqlite3"
    with (
        KvsService(path=path),
        pytest.raises(KvsError, match=r"in use by another edgesim process"),
    ):
        KvsService(path=path)
    with KvsService(path=path) as again:  # released on close
        assert again.list_stores() == []


def test_a_file_that_is_not_sqlite_is_a_kvs_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "kvs.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(KvsError, match=r"kvs.sqlite3"):
        KvsService(path=path)


def test_database_is_opened_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    with KvsService(path=tmp_path / "kvs.sqlite3") as kvs:
        conn = kvs._storage._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
