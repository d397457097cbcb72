"""Store management, references, reads and ListKeys pagination."""

import pytest

from edgesim.errors import KvsConflict, KvsNotFound, KvsValidationError
from edgesim.kvs import KvsService, VirtualClock, store_arn
from tests.unit.kvs.conftest import START


def test_create_and_describe(kvs: KvsService, clock: VirtualClock) -> None:
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
def test_store_name_rules(kvs: KvsService, name: str) -> None:
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


def test_unknown_refs(kvs: KvsService) -> None:
    info = kvs.create_store("s")
    for ref in ["t", "00000000-0000-0000-0000-000000000000", store_arn("nope"),
                info.arn.replace("123456789012", "999999999999")]:  # fmt: skip
        with pytest.raises(KvsNotFound, match=r"no key value store"):
            kvs.describe(ref)


def test_list_and_delete_stores(kvs: KvsService) -> None:
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


def test_export_is_sorted_copy(kvs: KvsService) -> None:
    kvs.create_store("s", items={"b": "2", "a": "1"})
    exported = kvs.export("s")
    assert list(exported) == ["a", "b"]
    exported["c"] = "3"
    assert kvs.describe("s").item_count == 2


def test_pops_property_and_bad_pops() -> None:
    with KvsService(pops=("IAD", "NRT")) as kvs:
        assert kvs.pops == ("IAD", "NRT")
    for bad in [(), ("A", "A"), "IAD"]:
        with pytest.raises(ValueError, match=r"pops"):
            KvsService(pops=bad)
