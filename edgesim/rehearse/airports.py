"""Where CloudFront's edge locations are, to map a logged POP to the nearest configured one.

The airports' positions are in :mod:`edgesim.edge.places`.
"""

from __future__ import annotations

from edgesim.edge.places import AIRPORTS, distance_km
from edgesim.edge.viewer import pop_code


class PopMapper:
    """Maps an edge location name (``IAD89-C1``, ``fra50``, ``NRT``) to a configured POP: the POP
    itself, else one with the same airport code, else the nearest configured airport. Every
    mapping that is not exact is kept in ``notes`` (one line per logged location)."""

    def __init__(self, pops: tuple[str, ...]) -> None:
        self.pops = pops
        self.notes: dict[str, str] = {}
        self._cache: dict[str, str] = {}

    def map(self, location: str) -> str:
        found = self._cache.get(location)
        if found is None:
            found = self._cache[location] = self._decide(location)
        return found

    def _decide(self, location: str) -> str:
        name = location.strip().upper()
        if name in self.pops:
            return name
        code = pop_code(name)
        for pop in self.pops:
            if pop_code(pop) == code:
                return pop
        here = AIRPORTS.get(code)
        placed = [(pop, AIRPORTS[pop_code(pop)]) for pop in self.pops if pop_code(pop) in AIRPORTS]
        if here is None or not placed:
            pop = self.pops[0]
            why = "unknown airport code" if here is None else "no configured POP has a known place"
            self.notes[location] = f"{location}: not configured, {why}; mapped to {pop}"
            return pop
        pop, where = min(placed, key=lambda item: distance_km(here, item[1]))
        km = distance_km(here, where)
        self.notes[location] = (
            f"{location}: not configured; mapped to the nearest configured POP {pop} "
            f"(~{km:,.0f} km)"
        )
        return pop
