"""The two versions a rehearsal compares: the distribution's functions and KVS data as they are,
and as proposed (other function files, other store contents).

A version is the distribution's own :class:`~edgesim.edge.functions.FunctionRegistry` (so each
function is loaded and checked exactly as ``serve`` loads it) over fixed store contents: every
POP sees the same data, the state after propagation has finished. Throttling is off (a rehearsal
replays a day of traffic in seconds) and compute is counted deterministically, so a result never
depends on the machine's load.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from edgesim.distribution.model import Distribution, FunctionDecl, Throttling
from edgesim.edge.functions import FunctionRegistry
from edgesim.errors import InputError
from edgesim.kvs.importfile import load_import_file
from edgesim.kvs.reader import StaticKvs
from edgesim.kvs.service import KvsService
from edgesim.runtime.function import BudgetPolicy

REHEARSAL_BUDGET = BudgetPolicy(deterministic=True)


# What a traced invocation read: (store, key, value or None); META marks a meta() call.
Read = tuple[str, str, str | None]
META = "\x00meta"


class _Traced:
    """A store reader that notes each read in its owner's ``reads`` list."""

    __slots__ = ("_kvs", "_reads")

    def __init__(self, kvs: StaticKvs, reads: list[Read]) -> None:
        self._kvs = kvs
        self._reads = reads

    @property
    def store_id(self) -> str:
        return self._kvs.store_id

    @property
    def arn(self) -> str:
        return self._kvs.arn

    def get(self, key: str) -> str | None:
        value = self._kvs.items.get(key)
        self._reads.append((self._kvs.name, key, value))
        return value

    def meta(self) -> dict[str, object]:
        self._reads.append((self._kvs.name, META, None))
        return self._kvs.meta()


class _Frozen:
    """One store's contents as every POP's replica sees them."""

    __slots__ = ("_kvs", "_owner")

    def __init__(self, kvs: StaticKvs, owner: FixedStores) -> None:
        self._kvs = kvs
        self._owner = owner

    def snapshot(self) -> StaticKvs | _Traced:
        reads = self._owner.reads
        return self._kvs if reads is None else _Traced(self._kvs, reads)


class FixedStores:
    """The part of :class:`KvsService` a :class:`FunctionRegistry` reads (``pops`` and
    ``replica_of(store, pop).snapshot()``), over fixed contents. While ``reads`` is a list,
    every read is noted in it."""

    def __init__(self, pops: tuple[str, ...], data: Mapping[str, Mapping[str, str]]) -> None:
        self.pops = pops
        self.reads: list[Read] | None = None
        # A stable id per store name, the same in both versions (a function may log it).
        self._stores = {
            name: _Frozen(StaticKvs(dict(items), name=name, store_id=f"rehearsal-{name}"), self)
            for name, items in data.items()
        }

    def replica_of(self, ref: str, pop: str) -> _Frozen:
        return self._stores[ref]


@dataclass
class Version:
    label: str
    dist: Distribution
    functions: FunctionRegistry
    data: dict[str, dict[str, str]]
    files: dict[str, Path]
    stores: FixedStores


def current_data(dist: Distribution) -> dict[str, dict[str, str]]:
    """Each declared store's contents: its seed file (``data = …``), else empty."""
    return {
        name: (load_import_file(decl.data) if decl.data is not None else {})
        for name, decl in dist.kvs.items()
    }


def build_version(
    label: str,
    dist: Distribution,
    *,
    data: Mapping[str, Mapping[str, str]],
    files: Mapping[str, Path] | None = None,
) -> Version:
    """Load every function of ``dist`` (``files`` replaces some functions' code) over ``data``;
    a function that fails to load is an input error naming the version and the file."""
    decls: dict[str, FunctionDecl] = dict(dist.functions)
    for name, path in (files or {}).items():
        decls[name] = dataclasses.replace(decls[name], file=path)
    stores = FixedStores(dist.edges.pops, data)
    registry = FunctionRegistry(
        decls,
        kvs=cast(KvsService, stores),
        budget=REHEARSAL_BUDGET,
        throttling=Throttling(enabled=False),
    )
    errors = registry.load_all()
    if errors:
        raise InputError(f"{label} version: " + "; ".join(errors))
    return Version(
        label,
        dist,
        registry,
        {k: dict(v) for k, v in data.items()},
        {name: d.file for name, d in decls.items()},
        stores,
    )


def parse_assignments(
    items: list[str], *, flag: str, names: list[str], what: str
) -> dict[str, Path]:
    """``NAME=PATH`` items (``NAME=`` may be left out when there is exactly one ``what``)."""
    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            if len(names) != 1:
                choices = ", ".join(names) or "none"
                raise InputError(
                    f"{flag} {item!r}: say which {what} with NAME=PATH (the distribution has "
                    f"{len(names)}: {choices})"
                )
            name, path = names[0], item
        if name not in names:
            raise InputError(
                f"{flag} {item!r}: no {what} {name!r} in the distribution "
                f"(it has: {', '.join(names) or 'none'})"
            )
        if not path:
            raise InputError(f"{flag} {item!r}: missing the file after '='")
        if name in out:
            raise InputError(f"{flag}: {what} {name!r} given twice")
        out[name] = Path(path)
    return out
