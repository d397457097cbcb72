"""The read side of a KeyValueStore, as a function at one edge location sees it.

The runtime depends only on :class:`KvsReader`; per-POP replicas implement it, and so does
:class:`StaticKvs`, a fixed mapping used by ``edgesim test`` and ``load_function``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


class KvsReader(Protocol):
    @property
    def store_id(self) -> str: ...

    @property
    def arn(self) -> str: ...

    def get(self, key: str) -> str | None:
        """The value, or None when the key is absent."""

    def meta(self) -> dict[str, object]:
        """``{creationDateTime, lastUpdatedDateTime, keyCount}`` as ``handle.meta()`` resolves."""


ACCOUNT_ID = "123456789012"


def store_arn(store_id: str) -> str:
    return f"arn:aws:cloudfront::{ACCOUNT_ID}:key-value-store/{store_id}"


def iso_millis(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class StaticKvs:
    """An immutable snapshot of a store's items."""

    items: dict[str, str]
    name: str = "local"
    store_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def arn(self) -> str:
        return store_arn(self.store_id)

    def get(self, key: str) -> str | None:
        return self.items.get(key)

    def meta(self) -> dict[str, object]:
        stamp = iso_millis(self.created)
        return {
            "creationDateTime": stamp,
            "lastUpdatedDateTime": stamp,
            "keyCount": len(self.items),
        }
