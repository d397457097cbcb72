"""How long a write takes to reach each edge location (POP).

AWS describes KVS propagation only as "a few seconds", with no SLA; one field measurement saw
21–26 s at one POP (reference: cloudfront-functions-runtime.md §4.1). So the lag is a model the
user picks, not a fact we reproduce. A ``PropagationSpec`` describes it (``[edges] propagation``
in ``edgesim.toml`` becomes one) and builds the ``LagModel`` the KVS service draws from:

* ``PropagationSpec("fixed", lag_ms=2000)`` — every POP after exactly that delay;
* ``PropagationSpec("uniform", min_ms=1000, max_ms=5000, seed=7)`` — a delay drawn per write
  and POP; with ``seed`` the model owns its random stream, else it draws from the service's;
* either may add ``per_pop_ms={"NRT": 8000}`` to pin some POPs to a fixed delay.

Draws happen at write time from a seeded ``random.Random``, so a run replays exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol

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


Model = Literal["fixed", "uniform"]
MODELS: tuple[Model, ...] = ("fixed", "uniform")


def as_model(value: object) -> Model | None:
    """``value`` as a model name, or None when it names no model."""
    for model in MODELS:
        if isinstance(value, str) and value == model:
            return model
    return None


def model_problem(value: object) -> str:
    """What is wrong with a ``model`` that ``as_model`` refused."""
    return f"model must be one of {', '.join(MODELS)}, got {value!r}"


class PropagationSpecError(InputError):
    """A propagation spec that breaks its rules; ``problems`` holds every one as (key, message),
    the key being a field name (``"max_ms"``) or ``"per_pop_ms.<POP>"``."""

    def __init__(self, problems: tuple[tuple[str, str], ...]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"propagation.{key}: {message}" for key, message in problems))


@dataclass(frozen=True)
class PropagationSpec:
    """The propagation model: validated when built, compared by value, and turned into the
    ``LagModel`` the KVS service draws delays from. Times are in milliseconds.

    ``lag_ms`` belongs to the fixed model; ``min_ms``, ``max_ms`` and ``seed`` to the uniform
    one (a field of the other model must keep its default). ``per_pop_ms`` pins POPs to a fixed
    delay under either model.
    """

    model: Model = "fixed"
    lag_ms: float = 0.0
    min_ms: float = 0.0
    max_ms: float = 0.0
    seed: int | None = None
    per_pop_ms: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A read-only copy: the spec cannot change after it was checked, nor through the caller's
        # mapping. Equality still compares the delays by value.
        object.__setattr__(self, "per_pop_ms", MappingProxyType(dict(self.per_pop_ms)))
        problems = tuple(self._problems())
        if problems:
            raise PropagationSpecError(problems)

    def __hash__(self) -> int:
        fields = (self.model, self.lag_ms, self.min_ms, self.max_ms, self.seed)
        return hash((*fields, frozenset(self.per_pop_ms.items())))

    def _problems(self) -> Iterator[tuple[str, str]]:
        if as_model(self.model) is None:
            yield "model", model_problem(self.model)
            return
        if self.model == "fixed":
            yield from _duration_problems("lag_ms", self.lag_ms)
            unused = {
                "min_ms": self.min_ms != 0,
                "max_ms": self.max_ms != 0,
                "seed": self.seed is not None,
            }
        else:
            low = list(_duration_problems("min_ms", self.min_ms))
            high = list(_duration_problems("max_ms", self.max_ms))
            yield from low + high
            if not low and not high and self.max_ms < self.min_ms:
                yield "max_ms", f"{_num(self.max_ms)} is below min_ms ({_num(self.min_ms)})"
            if self.seed is not None and (
                isinstance(self.seed, bool) or not isinstance(self.seed, int)
            ):
                yield "seed", f"must be an integer, got {self.seed!r}"
            unused = {"lag_ms": self.lag_ms != 0}
        for key, is_set in unused.items():
            if is_set:
                yield key, f"is not used by the {self.model} model"
        for pop, delay in self.per_pop_ms.items():
            yield from _duration_problems(f"per_pop_ms.{pop}", delay)

    def lag_model(self) -> LagModel:
        """A fresh lag model (a seeded uniform model starts its own random stream again)."""
        base: LagModel
        if self.model == "fixed":
            base = FixedLag(self.lag_ms / 1000)
        else:
            base = UniformLag(self.min_ms / 1000, self.max_ms / 1000, self.seed)
        if not self.per_pop_ms:
            return base
        return PerPopLag({pop: ms / 1000 for pop, ms in self.per_pop_ms.items()}, base)


def _duration_problems(key: str, value: object) -> Iterator[tuple[str, str]]:
    """A duration is a finite number of milliseconds, at least 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        yield key, f"expected a number of milliseconds, got {value!r}"
    elif not math.isfinite(value):
        yield key, f"must be a finite number, not {value}"
    elif value < 0:
        yield key, f"{_num(value)} is out of range (must be at least 0)"


def _num(value: float) -> str:
    """``5`` for 5.0, as the config file would have said it."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
