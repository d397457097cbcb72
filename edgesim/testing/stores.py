"""KVS objects for tests: a replicated store on a virtual clock, and fault injection.

:class:`ReplicatedKvs` is one store with per-POP replicas (the same model ``serve`` uses), on a
:class:`~edgesim.kvs.clock.VirtualClock` so a test decides when writes land. :class:`FaultyKvs`
wraps any reader and breaks it in one of the ways real stores break (see :data:`FAULTS`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from edgesim import limits
from edgesim.kvs.clock import VirtualClock
from edgesim.kvs.propagation import FixedLag, LagModel
from edgesim.kvs.reader import KvsReader
from edgesim.kvs.service import KvsService


class ReplicatedKvs:
    """One store replicated to ``pops`` with ``lag``; writes land only as the clock advances."""

    def __init__(
        self,
        items: Mapping[str, str] | None = None,
        *,
        pops: Sequence[str] = ("IAD", "FRA", "NRT"),
        lag: LagModel | float = 2.0,
        seed: int = 0,
        name: str = "test-store",
    ) -> None:
        self.clock = VirtualClock()
        model = FixedLag(float(lag)) if isinstance(lag, int | float) else lag
        self.service = KvsService(pops=pops, clock=self.clock, lag=model, seed=seed)
        self.name = name
        self.service.create_store(name, items=dict(items or {}))

    @property
    def pops(self) -> tuple[str, ...]:
        return self.service.pops

    def replica(self, pop: str) -> KvsReader:
        return self.service.replica(self.name, pop)

    def put(self, key: str, value: str) -> None:
        self.service.put_key(self.name, key, value, if_match=self._etag())

    def delete(self, key: str) -> None:
        self.service.delete_key(self.name, key, if_match=self._etag())

    def update(self, puts: Mapping[str, str] = {}, deletes: Sequence[str] = ()) -> None:
        self.service.update_keys(
            self.name, puts=list(puts.items()), deletes=list(deletes), if_match=self._etag()
        )

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def settle(self) -> None:
        """Advance the clock just until every POP holds the latest version."""
        waits = [wait for s in self.service.propagation_status(self.name) for _, wait in s.pending]
        if waits:
            # Every wait is measured from now: the longest one covers all the others.
            self.clock.advance(max(0.0, max(waits)) + 1e-6)

    def items(self) -> dict[str, str]:
        return self.service.export(self.name)

    def _etag(self) -> str:
        return self.service.describe(self.name).etag

    def close(self) -> None:
        self.service.close()

    def __enter__(self) -> ReplicatedKvs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


FaultKind = Literal[
    "missing-key", "malformed-json", "wrong-type", "value-at-limit", "not-associated", "empty"
]
FAULTS: tuple[FaultKind, ...] = (
    "missing-key",  # the key is absent: get() rejects
    "malformed-json",  # the value is not JSON: get(k, {format: 'json'}) rejects
    "wrong-type",  # valid JSON of another type than the stored value's (see wrong_type_value)
    "value-at-limit",  # a 1 KB value of filler
    "not-associated",  # no store associated: cf.kvs() throws
    "empty",  # the empty string
)


_NO_STORE_ID = "00000000-0000-0000-0000-000000000000"

WRONG_TYPE_NUMBER = "42"
WRONG_TYPE_STRING = '"wrong-type"'


def _not_json(name: str) -> object:
    # NaN and Infinity: Python's json reads them, JSON.parse does not.
    raise ValueError(f"{name} is not JSON")


def wrong_type_value(stored: str | None) -> str:
    """The ``wrong-type`` fault's value for a key whose stored value is ``stored``: valid JSON
    of another JSON type than the stored one, the same every time.

    A stored JSON number gets the JSON string ``"wrong-type"`` (not a numeric string, so that
    ``Number(value)`` does not turn it back into a usable number); every other stored value —
    a JSON string, object, array, boolean or null, a value that is not JSON, or no value —
    gets the JSON number ``42``.
    """
    if stored is not None:
        try:
            parsed = json.loads(stored, parse_constant=_not_json)
        except ValueError:
            return WRONG_TYPE_NUMBER
        if isinstance(parsed, int | float) and not isinstance(parsed, bool):
            return WRONG_TYPE_STRING
    return WRONG_TYPE_NUMBER


@dataclass
class FaultyKvs:
    """A reader that answers ``keys`` (or every key when ``keys`` is empty) with a fault.

    ``wrong-type`` answers valid JSON of another type than the value ``base`` holds for the
    key: the string ``"wrong-type"`` for a stored JSON number, the number ``42`` for anything
    else (see :func:`wrong_type_value`).
    """

    base: KvsReader | None
    fault: FaultKind
    keys: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # A misspelt fault must fail where it is written, not inside the function's run.
        if self.fault not in FAULTS:
            raise ValueError(f"unknown KVS fault {self.fault!r}; expected one of {FAULTS}")
        if isinstance(self.keys, str):
            self.keys = frozenset({self.keys})

    @property
    def store_id(self) -> str:
        return self.base.store_id if self.base is not None else _NO_STORE_ID

    @property
    def arn(self) -> str:
        return self.base.arn if self.base is not None else ""

    def _hit(self, key: str) -> bool:
        return not self.keys or key in self.keys

    def get(self, key: str) -> str | None:
        if not self._hit(key):
            return self.base.get(key) if self.base is not None else None
        if self.fault == "missing-key":
            return None
        if self.fault == "malformed-json":
            return '{"truncated": '
        if self.fault == "wrong-type":
            return wrong_type_value(self.base.get(key) if self.base is not None else None)
        if self.fault == "value-at-limit":
            return "x" * limits.KVS_MAX_VALUE_BYTES
        if self.fault == "empty":
            return ""
        raise AssertionError(f"fault {self.fault} has no value")

    def meta(self) -> dict[str, object]:
        return self.base.meta() if self.base is not None else {}
