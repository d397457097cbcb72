"""edgesim.kvs.service: store management, references, reads, ListKeys pagination, and config seed
files (create once, then apply only what changed in the file)."""

from pathlib import Path

import pytest

from edgesim.errors import KvsConflict, KvsImportError, KvsNotFound, KvsValidationError
from edgesim.kvs import FixedLag, KvsService, VirtualClock, store_arn
from tests.unit.kvs.conftest import START


def test_created_store_is_described_alike_by_name_id_or_arn(
    kvs: KvsService, clock: VirtualClock
) -> None:
    info = kvs.create_store("my_store-1", comment="hello", items={"b": "2", "a": "1"})
    assert info.name == "my_store-1"
    assert len(info.id) == 36
    assert (
        info.arn
        == store_arn(info.id)
        == f"arn:aws:cloudfront::123456789012:key-value-store/{info.id}"
    )
    assert (info.comment, info.status, info.item_count, info.total_size) == ("hello", "READY", 2, 4)
    assert info.created == info.last_modified == START
    clock.advance(10)
    assert kvs.describe(info.arn) == kvs.describe(info.id) == kvs.describe("my_store-1") == info
    after = kvs.put_key(info.id, "c", "3", if_match=info.etag)
    described = kvs.describe(info.name)
    assert described.etag == after.etag
    assert described.created == START
    assert (described.last_modified - START).total_seconds() == 10


@pytest.mark.parametrize("name", ["", "a" * 65, "has space", "dot.ted", "ü", "arn:x"])
def test_invalid_store_names_are_refused(kvs: KvsService, name: str) -> None:
    with pytest.raises(KvsValidationError, match=r"store name .* is invalid"):
        kvs.create_store(name)


def test_store_name_length_boundary_and_comment(kvs: KvsService) -> None:
    kvs.create_store("a" * 64, comment="c" * 128)
    with pytest.raises(KvsValidationError, match=r"comment is 129 characters; the limit is 128"):
        kvs.create_store("b", comment="c" * 129)


def test_duplicate_name_conflicts(kvs: KvsService) -> None:
    kvs.create_store("s")
    with pytest.raises(KvsConflict, match=r"named 's' already exists"):
        kvs.create_store("s")


def test_create_validates_items_like_an_import(kvs: KvsService) -> None:
    with pytest.raises(KvsValidationError, match=r"1025 bytes"):
        kvs.create_store("s", items={"k": "v" * 1025})
    with pytest.raises(KvsValidationError, match=r"513 bytes"):
        kvs.create_store("s", items={"k" * 513: "v"})
    with pytest.raises(KvsNotFound):
        kvs.describe("s")


def test_unknown_name_id_or_arn_is_not_found(kvs: KvsService) -> None:
    info = kvs.create_store("s")
    for ref in ["t", "00000000-0000-0000-0000-000000000000", store_arn("nope"),
                info.arn.replace("123456789012", "999999999999")]:  # fmt: skip
        with pytest.raises(KvsNotFound, match=r"no key value store"):
            kvs.describe(ref)


def test_stores_list_by_name_and_deleting_one_frees_its_name(kvs: KvsService) -> None:
    b = kvs.create_store("b")
    a = kvs.create_store("a")
    assert [s.name for s in kvs.list_stores()] == ["a", "b"]
    with pytest.raises(KvsConflict):
        kvs.delete_store("a", if_match=b.etag)
    kvs.delete_store("a", if_match=a.etag)
    kvs.delete_store(b.arn)
    assert kvs.list_stores() == []
    with pytest.raises(KvsNotFound):
        kvs.get_key("a", "k")
    again = kvs.create_store("a")  # the name is free again, under a new id
    assert again.id != a.id


def test_list_keys_pages_in_byte_order(kvs: KvsService) -> None:
    items = {k: k.upper() for k in ["b", "a", "é", "z", "Z", "aa", "\U0001f600", "\uffff", "0"]}
    kvs.create_store("s", items=items)
    seen: list[tuple[str, str]] = []
    token = None
    pages = 0
    while True:
        page, token = kvs.list_keys("s", max_results=2, next_token=token)
        seen.extend(page)
        pages += 1
        if token is None:
            break
    assert pages == 5
    assert [k for k, _ in seen] == sorted(items, key=lambda k: k.encode())
    assert dict(seen) == items


def test_list_keys_defaults_and_exact_fit(kvs: KvsService) -> None:
    kvs.create_store("s", items={f"k{i:02d}": "v" for i in range(20)})
    page, token = kvs.list_keys("s")
    assert len(page) == 10
    page, token = kvs.list_keys("s", next_token=token)
    assert [k for k, _ in page] == [f"k{i:02d}" for i in range(10, 20)]
    assert token is None  # no empty trailing page
    empty = kvs.create_store("empty")
    assert kvs.list_keys(empty.id) == ([], None)


def test_list_keys_token_survives_writes_between_pages(kvs: KvsService) -> None:
    etag = kvs.create_store("s", items={"a": "1", "b": "2", "c": "3", "d": "4"}).etag
    page, token = kvs.list_keys("s", max_results=2)
    assert [k for k, _ in page] == ["a", "b"]
    kvs.update_keys("s", puts=[("bb", "x")], deletes=["c"], if_match=etag)
    page, token = kvs.list_keys("s", max_results=2, next_token=token)
    assert page == [("bb", "x"), ("d", "4")]
    assert token is None


@pytest.mark.parametrize("bad", [0, 51, -1, True])
def test_list_keys_max_results_range(kvs: KvsService, bad: int) -> None:
    kvs.create_store("s")
    with pytest.raises(KvsValidationError, match=r"MaxResults must be between 1 and 50"):
        kvs.list_keys("s", max_results=bad)


def test_list_keys_rejects_foreign_or_garbage_tokens(kvs: KvsService) -> None:
    kvs.create_store("s", items={"a": "1", "b": "2"})
    kvs.create_store("t", items={"a": "1", "b": "2"})
    _, token = kvs.list_keys("s", max_results=1)
    assert token is not None
    for bad in [token + "!", "%%%", "", "AAAA"]:
        with pytest.raises(KvsValidationError, match=r"NextToken"):
            kvs.list_keys("s", next_token=bad)
    with pytest.raises(KvsValidationError, match=r"NextToken"):
        kvs.list_keys("t", next_token=token)


def test_get_key_of_a_missing_key_is_not_found_and_of_an_empty_key_invalid(
    kvs: KvsService,
) -> None:
    kvs.create_store("s")
    with pytest.raises(KvsNotFound, match=r"key 'nope' does not exist in store 's'"):
        kvs.get_key("s", "nope")
    with pytest.raises(KvsValidationError):
        kvs.get_key("s", "")


def test_export_is_sorted_copy(kvs: KvsService) -> None:
    kvs.create_store("s", items={"b": "2", "a": "1"})
    exported = kvs.export("s")
    assert list(exported) == ["a", "b"]
    exported["c"] = "3"
    assert kvs.describe("s").item_count == 2


def test_pops_must_be_a_sequence_of_distinct_names() -> None:
    with KvsService(pops=("IAD", "NRT")) as kvs:
        assert kvs.pops == ("IAD", "NRT")
    for bad in [(), ("A", "A"), "IAD"]:
        with pytest.raises(ValueError, match=r"pops"):
            KvsService(pops=bad)


# -- config seed files (sync_seed) ------------------------------------------------------------

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
