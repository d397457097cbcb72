"""How long a write takes to reach each edge location (POP).

AWS describes KVS propagation only as "a few seconds", with no SLA; one field measurement saw
21–26 s at one POP (reference: cloudfront-functions-runtime.md §4.1). So the lag is a model the
user picks, not a fact we reproduce:

* ``{"model": "fixed", "lag_ms": 2000}`` — every POP after exactly that delay;
* ``{"model": "uniform", "min_ms": 1000, "max_ms": 5000, "seed": 7}`` — a delay drawn per write
  and POP; with ``seed`` the model owns its random stream, else it draws from the service's;
* either may add ``"per_pop_ms": {"NRT": 8000}`` to pin some POPs to a fixed delay.

Draws happen at write time from a seeded ``random.Random``, so a run replays exactly.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from edgesim.errors import InputError


class LagModel(Protocol):
    def lag_seconds(self, pop: str, rng: random.Random) -> float:
        """Delay between a write's acknowledgement and its arrival at ``pop``."""
        ...


@dataclass(frozen=True)
class FixedLag:
    seconds: float

    def __post_init__(self) -> None:
        if self.seconds < 0:
            raise ValueError(f"lag cannot be negative ({self.seconds} s)")

    def lag_seconds(self, pop: str, rng: random.Random) -> float:
        return self.seconds


@dataclass(frozen=True)
class UniformLag:
    min_s: float
    max_s: float
    seed: int | None = None
    _own: random.Random | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.min_s <= self.max_s:
            raise ValueError(f"need 0 <= min <= max, got {self.min_s} and {self.max_s} s")
        if self.seed is not None:
            object.__setattr__(self, "_own", random.Random(self.seed))

    def lag_seconds(self, pop: str, rng: random.Random) -> float:
        return (self._own or rng).uniform(self.min_s, self.max_s)


@dataclass(frozen=True)
class PerPopLag:
    per_pop: Mapping[str, float]
    default: LagModel

    def lag_seconds(self, pop: str, rng: random.Random) -> float:
        fixed = self.per_pop.get(pop)
        # Draw even for pinned POPs so adding a pin does not reshuffle the other POPs' delays.
        drawn = self.default.lag_seconds(pop, rng)
        return drawn if fixed is None else fixed


_KEYS = {
    "fixed": {"model", "lag_ms", "per_pop_ms"},
    "uniform": {"model", "min_ms", "max_ms", "seed", "per_pop_ms"},
}


def lag_model_from_config(spec: Mapping[str, object]) -> LagModel:
    """Build a lag model from its config table; errors name the offending key."""
    where = "kvs propagation"
    kind = spec.get("model")
    if kind not in _KEYS:
        choices = ", ".join(repr(k) for k in _KEYS)
        raise InputError(f"{where}: 'model' must be one of {choices}, got {kind!r}")
    unknown = sorted(set(spec) - _KEYS[kind])
    if unknown:
        allowed = ", ".join(sorted(_KEYS[kind]))
        raise InputError(f"{where}: unknown key {unknown[0]!r} for model {kind!r} ({allowed})")
    base: LagModel
    if kind == "fixed":
        base = FixedLag(_millis(spec, "lag_ms", where) / 1000)
    else:
        low = _millis(spec, "min_ms", where)
        high = _millis(spec, "max_ms", where)
        if high < low:
            raise InputError(
                f"{where}: 'max_ms' ({spec['max_ms']}) is below 'min_ms' ({spec['min_ms']})"
            )
        seed = spec.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise InputError(f"{where}: 'seed' must be an integer, got {seed!r}")
        base = UniformLag(low / 1000, high / 1000, seed)
    per_pop = spec.get("per_pop_ms")
    if per_pop is None:
        return base
    if not isinstance(per_pop, Mapping):
        raise InputError(f"{where}: 'per_pop_ms' must be a table of POP = milliseconds")
    pinned = {str(pop): _millis(per_pop, pop, f"{where}.per_pop_ms") / 1000 for pop in per_pop}
    return PerPopLag(pinned, base)


def _millis(table: Mapping[str, object], key: str, where: str) -> float:
    if key not in table:
        raise InputError(f"{where}: missing {key!r}")
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise InputError(f"{where}: {key!r} must be a number of milliseconds >= 0, got {value!r}")
    if value == float("inf"):
        raise InputError(f"{where}: {key!r} must be finite")
    return float(value)
