"""Which AWS region a POP's requests are served from: the POP's regional edge cache region
(``[edges] pop_regions`` over edgesim's defaults), and, for an MRAP-style local origin with one
bucket per region, the configured region nearest the POP.

A Multi-Region Access Point routes each request "to the bucket with the lowest latency" (S3 User
Guide, "Multi-Region Access Points"); edgesim has no network to measure, so it uses the POP's own
region when a bucket is there, else the bucket whose region is nearest the POP's airport on the
globe (positions in :mod:`edgesim.edge.places`). That approximation is documented in
docs/s3-origins.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from edgesim.edge.places import AIRPORTS, REGION_POSITIONS, distance_km
from edgesim.edge.viewer import DEFAULT_REGION, POP_REGIONS, pop_code


def region_of(pop: str, overrides: Mapping[str, str] | None = None) -> str:
    """The region of ``pop``'s regional edge cache: ``[edges] pop_regions`` (by full POP name or
    its three-letter code), else edgesim's default for the code, else us-east-1."""
    if overrides:
        found = overrides.get(pop) or overrides.get(pop_code(pop))
        if found is not None:
            return found
    return POP_REGIONS.get(pop_code(pop), DEFAULT_REGION)


def nearest_region(
    pop: str, candidates: Sequence[str], overrides: Mapping[str, str] | None = None
) -> str:
    """The region among ``candidates`` (not empty) that serves ``pop``: its own region when
    listed, else the nearest by position (the POP's airport, else its region's position), ties
    and unknown positions going to the first listed."""
    own = region_of(pop, overrides)
    if own in candidates:
        return own
    here = AIRPORTS.get(pop_code(pop)) or REGION_POSITIONS.get(own)
    if here is None:
        return candidates[0]
    best, best_distance = candidates[0], math.inf
    for region in candidates:
        position = REGION_POSITIONS.get(region)
        if position is not None and distance_km(here, position) < best_distance:
            best, best_distance = region, distance_km(here, position)
    return best
