"""Config seed files: create once, then apply only what changed in the file."""

from pathlib import Path

import pytest

from edgesim.errors import KvsImportError
from edgesim.kvs import FixedLag, KvsService, VirtualClock

SOURCE = "fixtures/kvs/seed.json"


def test_seed_creates_the_store_everywhere_at_once(clock: VirtualClock) -> None:
    with KvsService(clock=clock, pops=("IAD", "NRT"), lag=FixedLag(30)) as kvs:
        info = kvs.sync_seed("cfg", {"a": "1", "b": "2"}, source=SOURCE)
        assert (info.name, info.item_count) == ("cfg", 2)
        assert kvs.replica("cfg", "NRT").get("a") == "1"


def test_unchanged_seed_writes_nothing(kvs: KvsService) -> None:
    first = kvs.sync_seed("cfg", {"a": "1", "b": "2"}, source=SOURCE)
    again = kvs.sync_seed("cfg", {"b": "2", "a": "1"}, source="elsewhere.json")  # order-free hash
    assert again.etag == first.etag


def test_changed_seed_applies_the_diff_between_seeds_not_the_live_state(kvs: KvsService) -> None:
    etag = kvs.sync_seed("cfg", {"a": "1", "b": "2", "c": "3"}, source=SOURCE).etag
    # API writes after the seed: one to a seeded key, one new key, one deleted seeded key.
    etag = kvs.update_keys(
        "cfg", puts=[("a", "api"), ("mine", "x")], deletes=["c"], if_match=etag
    ).etag
    info = kvs.sync_seed("cfg", {"a": "1", "b": "22", "d": "4"}, source=SOURCE)
    assert info.etag != etag  # one ordinary write
    # b changed and d is new in the file; c left the file (already gone); a did not change in
    # the file, so the API's value stays; mine is not the file's business.
    assert kvs.export("cfg") == {"a": "api", "b": "22", "d": "4", "mine": "x"}


def test_key_removed_from_the_seed_is_deleted(kvs: KvsService) -> None:
    kvs.sync_seed("cfg", {"a": "1", "b": "2"}, source=SOURCE)
    kvs.sync_seed("cfg", {"a": "1"}, source=SOURCE)
    assert kvs.export("cfg") == {"a": "1"}


def test_seed_diff_goes_through_the_write_path_with_lag(clock: VirtualClock) -> None:
    with KvsService(clock=clock, pops=("IAD",), lag=FixedLag(5)) as kvs:
        kvs.sync_seed("cfg", {"a": "1"}, source=SOURCE)
        kvs.sync_seed("cfg", {"a": "2"}, source=SOURCE)
        replica = kvs.replica("cfg", "IAD")
        assert replica.get("a") == "1"
        [status] = kvs.propagation_status("cfg")
        assert status.pending == ((2, 5.0),)
        clock.advance(5)
        assert replica.get("a") == "2"


def test_store_created_by_api_then_seeded(kvs: KvsService) -> None:
    etag = kvs.create_store("cfg", items={"old": "1"}).etag
    info = kvs.sync_seed("cfg", {"new": "2"}, source=SOURCE)
    assert info.etag != etag
    assert kvs.export("cfg") == {"new": "2", "old": "1"}


def test_restart_keeps_api_writes_and_remembers_the_seed(
    tmp_path: Path, clock: VirtualClock
) -> None:
    path = tmp_path / "kvs.sqlite3"
    seed = {"a": "1", "b": "2"}
    with KvsService(path=path, clock=clock) as kvs:
        etag = kvs.sync_seed("cfg", seed, source=SOURCE).etag
        etag = kvs.put_key("cfg", "a", "changed by API", if_match=etag).etag
    with KvsService(path=path, clock=clock) as kvs:
        assert kvs.sync_seed("cfg", seed, source=SOURCE).etag == etag
        assert kvs.export("cfg") == {"a": "changed by API", "b": "2"}
        kvs.sync_seed("cfg", {"a": "1", "b": "3"}, source=SOURCE)
    with KvsService(path=path, clock=clock) as kvs:
        # The previous seed (with b=3) is what the next diff starts from.
        kvs.sync_seed("cfg", {"a": "1"}, source=SOURCE)
        assert kvs.export("cfg") == {"a": "changed by API"}


def test_bad_seed_names_the_file(kvs: KvsService) -> None:
    with pytest.raises(KvsImportError, match=r"fixtures/kvs/seed.json: 'k+…': key is 513 bytes"):
        kvs.sync_seed("cfg", {"k" * 513: "v"}, source=SOURCE)
    with pytest.raises(KvsImportError, match=r"seed.json: store name 'bad name' is invalid"):
        kvs.sync_seed("bad name", {}, source=SOURCE)


def test_seed_diff_over_quota_is_refused_and_not_remembered(clock: VirtualClock) -> None:
    with KvsService(clock=clock, max_store_bytes=10) as kvs:
        etag = kvs.sync_seed("cfg", {"a": "1"}, source=SOURCE).etag
        etag = kvs.put_key("cfg", "api", "xxxx", if_match=etag).etag  # 9 bytes live
        with pytest.raises(KvsImportError, match=r"cannot apply the changes: .*limit is 10 bytes"):
            kvs.sync_seed("cfg", {"a": "1", "b": "2"}, source=SOURCE)
        assert kvs.describe("cfg").etag == etag
        etag = kvs.delete_key("cfg", "api", if_match=etag).etag
        kvs.sync_seed("cfg", {"a": "1", "b": "2"}, source=SOURCE)  # retried, now it fits
        assert kvs.export("cfg") == {"a": "1", "b": "2"}
