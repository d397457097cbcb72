"""The propagation window: after a KVS write, each POP gets the new data after its own lag
(``[edges] propagation``, :class:`~edgesim.kvs.propagation.PropagationSpec`), so for a while some
POPs answer with the new data and others with the old.

The lag of each POP is drawn as the KVS service draws it for a write: from the spec's lag model
with the spec's seed, POPs in configured order (a fixed model, or a pinned POP, gives its exact
delay; a uniform one a draw within ``lag_range_ms``).
"""

from __future__ import annotations

import random

from edgesim.kvs.propagation import PropagationSpec


def pop_lags_ms(spec: PropagationSpec, pops: tuple[str, ...]) -> dict[str, float]:
    model = spec.lag_model()
    rng = random.Random(spec.seed or 0)
    return {pop: round(model.lag_seconds(pop, rng) * 1000, 1) for pop in pops}


def lag_range_ms(spec: PropagationSpec, pop: str) -> tuple[float, float]:
    pinned = spec.per_pop_ms.get(pop)
    if pinned is not None:
        return (pinned, pinned)
    if spec.model == "fixed":
        return (spec.lag_ms, spec.lag_ms)
    return (spec.min_ms, spec.max_ms)
