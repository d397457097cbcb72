"""Diff a live store against a desired data set, and cut the changes into UpdateKeys batches.

Pure functions: ``edgesim kvs diff/apply/import`` print and send what these compute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from edgesim import limits
from edgesim.kvs.importfile import item_size


@dataclass(frozen=True)
class Plan:
    """Changes turning ``live`` into ``desired``; ``removed`` keys are deleted only with prune."""

    added: dict[str, str]
    changed: dict[str, tuple[str, str]]  # key → (live value, desired value)
    removed: dict[str, str]  # key → live value
    unchanged: int
    prune: bool

    @property
    def puts(self) -> dict[str, str]:
        puts = dict(self.added)
        puts.update((k, new) for k, (_, new) in self.changed.items())
        return puts

    @property
    def deletes(self) -> list[str]:
        return list(self.removed) if self.prune else []

    @property
    def empty(self) -> bool:
        return not self.puts and not self.deletes


def compute_plan(live: Mapping[str, str], desired: Mapping[str, str], *, prune: bool) -> Plan:
    added = {k: v for k, v in desired.items() if k not in live}
    changed = {k: (live[k], v) for k, v in desired.items() if k in live and live[k] != v}
    removed = {k: v for k, v in live.items() if k not in desired}
    unchanged = len(desired) - len(added) - len(changed)
    return Plan(added, changed, removed, unchanged, prune)


def size_after(live: Mapping[str, str], plan: Plan) -> int:
    """TotalSizeInBytes of the store once ``plan`` is applied (key + value UTF-8 bytes)."""
    items = dict(live)
    for key in plan.deletes:
        items.pop(key, None)
    items.update(plan.puts)
    return sum(item_size(k, v) for k, v in items.items())


@dataclass
class Batch:
    puts: list[tuple[str, str]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    size: int = 0

    def __len__(self) -> int:
        return len(self.puts) + len(self.deletes)

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {}
        if self.puts:
            body["Puts"] = [{"Key": k, "Value": v} for k, v in self.puts]
        if self.deletes:
            body["Deletes"] = [{"Key": k} for k in self.deletes]
        return body


def batches(
    puts: Mapping[str, str],
    deletes: Iterable[str] = (),
    *,
    max_ops: int = limits.KVS_MAX_BATCH_OPERATIONS,
    max_bytes: int = limits.KVS_MAX_BATCH_BYTES,
) -> list[Batch]:
    """Split into batches of at most ``max_ops`` operations and ``max_bytes`` of keys and values
    (the service's measure). Deletes come first, so space is freed before it is needed."""
    out: list[Batch] = []
    current = Batch()

    def add(size: int) -> Batch:
        nonlocal current
        if current and (len(current) >= max_ops or current.size + size > max_bytes):
            out.append(current)
            current = Batch()
        current.size += size
        return current

    for key in deletes:
        add(len(key.encode())).deletes.append(key)
    for key, value in puts.items():
        add(item_size(key, value)).puts.append((key, value))
    if current:
        out.append(current)
    return out
