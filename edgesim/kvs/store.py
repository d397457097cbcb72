"""The primary copy of one KeyValueStore, and the rules every write must pass.

Facts (reference: kvs-api-and-distribution.md §A.3–A.5): keys 1–512 UTF-8 bytes (the quota page
wins over the API model's 1024), values ≤ 1 KB, a store ≤ 5 MB, one UpdateKeys ≤ 50 keys or 3 MB;
the ETag versions the whole store and every write must carry the current one in If-Match.

Choices where AWS is silent (kept consistent across edgesim):

* Store size and ``TotalSizeInBytes`` are the sum of UTF-8 key and value bytes.
* Check order: store exists (404) → request shape (400) → If-Match (409) → size quota (402). A
  refused write changes nothing.
* A stale or unknown If-Match is ``ConflictException`` (the only modelled error that fits); an
  empty one is ``ValidationException``.
* A batch over 50 operations or 3 MB is ``ValidationException``: it is a request-shape limit,
  while ``ServiceQuotaExceededException`` is kept for the store's size. With valid keys and values
  50 operations stay far below 3 MB, so the byte check runs first to stay observable.
* Duplicate keys inside Puts or inside Deletes, a key in both lists, and an empty batch are
  ``ValidationException`` (the model marks both lists ``@uniqueItems``).
* Deleting an absent key succeeds and still makes a new version (DeleteKey and UpdateKeys are
  modelled ``idempotent``); so does writing a value a key already has.
* ETags are ``KV`` + 13 characters of ``[A-Z2-7]``, derived from the store id and version.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from edgesim import limits
from edgesim.errors import (
    KvsConflict,
    KvsImportError,
    KvsQuotaExceeded,
    KvsValidationError,
)
from edgesim.kvs.importfile import check_key, check_value, item_size

__all__ = [
    "Change",
    "Store",
    "check_if_match",
    "make_etag",
    "validate_batch",
    "validate_comment",
    "validate_items",
    "validate_key",
    "validate_name",
    "validate_value",
]

# CloudFront API KeyValueStoreName / KeyValueStoreComment shapes.
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
MAX_COMMENT_CHARS = 128


@dataclass(frozen=True)
class Change:
    """One acknowledged write: what it did and the version it made. Replicas replay these."""

    version: int
    etag: str
    last_modified: datetime
    puts: Mapping[str, str]
    deletes: tuple[str, ...]


@dataclass
class Store:
    """A store's primary state. Mutated only through :meth:`apply`, after persistence succeeded."""

    id: str
    name: str
    comment: str
    created: datetime
    last_modified: datetime
    etag: str
    version: int
    items: dict[str, str]
    total_size: int
    seed_hash: str | None = None
    seed_source: str | None = None
    seed_items: dict[str, str] | None = None

    def plan(
        self,
        puts: Mapping[str, str],
        deletes: Iterable[str],
        *,
        when: datetime,
        max_bytes: int,
    ) -> Change:
        """The next version if ``puts``/``deletes`` (already validated) fit; nothing changes yet."""
        size = self.total_size
        items = self.items
        gone = tuple(k for k in deletes if k in items)
        for key in gone:
            size -= item_size(key, items[key])
        for key, value in puts.items():
            old = items.get(key)
            if old is not None:
                size -= item_size(key, old)
            size += item_size(key, value)
        if size > max_bytes:
            raise KvsQuotaExceeded(
                f"store {self.name!r} would hold {size} bytes of keys and values; "
                f"the limit is {max_bytes} bytes"
            )
        version = self.version + 1
        return Change(version, make_etag(self.id, version), when, dict(puts), gone)

    def apply(self, change: Change) -> None:
        items = self.items
        for key in change.deletes:
            self.total_size -= item_size(key, items.pop(key))
        for key, value in change.puts.items():
            old = items.get(key)
            if old is not None:
                self.total_size -= item_size(key, old)
            items[key] = value
            self.total_size += item_size(key, value)
        self.version = change.version
        self.etag = change.etag
        self.last_modified = change.last_modified


def make_etag(store_id: str, version: int) -> str:
    digest = hashlib.sha256(f"{store_id}/{version}".encode()).digest()
    return "KV" + base64.b32encode(digest).decode()[:13]


def validate_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise KvsValidationError(
            f"store name {name!r} is invalid: use 1-64 characters from [a-zA-Z0-9-_]"
        )


def validate_comment(comment: str) -> None:
    if len(comment) > MAX_COMMENT_CHARS:
        raise KvsValidationError(
            f"comment is {len(comment)} characters; the limit is {MAX_COMMENT_CHARS}"
        )


def _shown(key: str) -> str:
    return repr(key if len(key) <= 40 else key[:40] + "…")


def _utf8(text: object, what: str) -> None:
    if not isinstance(text, str):
        raise KvsValidationError(f"{what} must be a string, got {type(text).__name__}")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise KvsValidationError(f"{what} is not valid UTF-8 text") from None


def validate_key(key: str) -> None:
    _utf8(key, "key")
    try:
        check_key(key, where=_shown(key))
    except KvsImportError as exc:
        raise KvsValidationError(str(exc)) from None


def validate_value(key: str, value: str) -> None:
    _utf8(value, f"value of key {_shown(key)}")
    try:
        check_value(value, where=f"key {_shown(key)}")
    except KvsImportError as exc:
        raise KvsValidationError(str(exc)) from None


def validate_items(items: Mapping[str, str], *, max_bytes: int) -> int:
    """Check a whole initial data set (create/import); return its size in bytes."""
    total = 0
    for key, value in items.items():
        validate_key(key)
        validate_value(key, value)
        total += item_size(key, value)
    if total > max_bytes:
        raise KvsQuotaExceeded(
            f"{len(items)} items take {total} bytes of keys and values; "
            f"the store limit is {max_bytes} bytes"
        )
    return total


def validate_batch(puts: Sequence[tuple[str, str]], deletes: Sequence[str]) -> dict[str, str]:
    """Check an UpdateKeys request's shape; return the puts as a mapping."""
    count = len(puts) + len(deletes)
    if count == 0:
        raise KvsValidationError("UpdateKeys needs at least one put or delete")
    if count > limits.KVS_MAX_BATCH_OPERATIONS:
        raise KvsValidationError(
            f"UpdateKeys has {count} operations; the limit is {limits.KVS_MAX_BATCH_OPERATIONS}"
        )
    payload = 0
    for key, value in puts:
        _utf8(key, "key")
        _utf8(value, f"value of key {_shown(key)}")
        payload += item_size(key, value)
    for key in deletes:
        _utf8(key, "key")
        payload += len(key.encode())
    if payload > limits.KVS_MAX_BATCH_BYTES:
        raise KvsValidationError(
            f"UpdateKeys carries {payload} bytes of keys and values; "
            f"the limit is {limits.KVS_MAX_BATCH_BYTES}"
        )
    mapping: dict[str, str] = {}
    for key, value in puts:
        validate_key(key)
        validate_value(key, value)
        if key in mapping:
            raise KvsValidationError(f"key {_shown(key)} appears twice in Puts")
        mapping[key] = value
    seen: set[str] = set()
    for key in deletes:
        validate_key(key)
        if key in seen:
            raise KvsValidationError(f"key {_shown(key)} appears twice in Deletes")
        if key in mapping:
            raise KvsValidationError(f"key {_shown(key)} is in both Puts and Deletes")
        seen.add(key)
    return mapping


def check_if_match(store: Store, if_match: str) -> None:
    if not if_match:
        raise KvsValidationError("If-Match is required: pass the store's current ETag")
    if if_match != store.etag:
        raise KvsConflict(
            f"If-Match {if_match!r} does not match the current ETag of store "
            f"{store.name!r} ({store.etag}); describe the store and retry"
        )
