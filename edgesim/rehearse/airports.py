"""Where CloudFront's edge locations are, to map a logged POP to the nearest configured one.

An access log names the edge location by "a three-letter code and an arbitrarily assigned
number" (``IAD89-C1``); "the three-letter code typically corresponds with the International Air
Transport Association (IATA) airport code for an airport near the edge location's geographic
location" (Developer Guide, standard log fields, ``x-edge-location``). The coordinates below are
those airports' public positions, rounded to a tenth of a degree — enough to rank distances.
"""

from __future__ import annotations

import math

from edgesim.edge.viewer import pop_code

# IATA code → (latitude, longitude) in degrees; the codes of edgesim.edge.viewer.POP_REGIONS.
AIRPORTS: dict[str, tuple[float, float]] = {
    # North America
    "IAD": (38.9, -77.5), "JFK": (40.6, -73.8), "EWR": (40.7, -74.2), "BOS": (42.4, -71.0),
    "ATL": (33.6, -84.4), "MIA": (25.8, -80.3), "PHL": (39.9, -75.2), "CLT": (35.2, -80.9),
    "ORD": (42.0, -87.9), "DFW": (32.9, -97.0), "IAH": (30.0, -95.3), "MSP": (44.9, -93.2),
    "DEN": (39.9, -104.7), "DTW": (42.2, -83.4), "MCI": (39.3, -94.7), "QRO": (20.6, -100.2),
    "SEA": (47.4, -122.3), "PDX": (45.6, -122.6), "YVR": (49.2, -123.2),
    "SFO": (37.6, -122.4), "SJC": (37.4, -121.9), "LAX": (33.9, -118.4), "PHX": (33.4, -112.0),
    "YUL": (45.5, -73.7), "YYZ": (43.7, -79.6),
    # Europe
    "LHR": (51.5, -0.5), "MAN": (53.4, -2.3), "DUB": (53.4, -6.3),
    "FRA": (50.0, 8.6), "MUC": (48.4, 11.8), "DUS": (51.3, 6.8), "HAM": (53.6, 10.0),
    "AMS": (52.3, 4.8), "ZRH": (47.5, 8.5), "VIE": (48.1, 16.6), "WAW": (52.2, 21.0),
    "PRG": (50.1, 14.3), "BUD": (47.4, 19.3),
    "CDG": (49.0, 2.6), "MRS": (43.4, 5.2),
    "MXP": (45.6, 8.7), "FCO": (41.8, 12.2), "MAD": (40.5, -3.6), "BCN": (41.3, 2.1),
    "LIS": (38.8, -9.1),
    "ARN": (59.7, 17.9), "HEL": (60.3, 25.0), "OSL": (60.2, 11.1), "CPH": (55.6, 12.6),
    # Asia Pacific
    "NRT": (35.8, 140.4), "HND": (35.5, 139.8), "KIX": (34.4, 135.2),
    "TPE": (25.1, 121.2), "ICN": (37.5, 126.4),
    "HKG": (22.3, 113.9), "SIN": (1.4, 104.0), "KUL": (2.7, 101.7),
    "BKK": (13.7, 100.7), "CGK": (-6.1, 106.7), "MNL": (14.5, 121.0),
    "BOM": (19.1, 72.9), "DEL": (28.6, 77.1), "MAA": (13.0, 80.2), "BLR": (13.2, 77.7),
    "HYD": (17.2, 78.4), "CCU": (22.7, 88.4),
    "SYD": (-33.9, 151.2), "MEL": (-37.7, 144.8), "PER": (-31.9, 116.0),
    "AKL": (-37.0, 174.8),
    # South America, Middle East, Africa
    "GRU": (-23.4, -46.5), "GIG": (-22.8, -43.2), "EZE": (-34.8, -58.5), "SCL": (-33.4, -70.8),
    "BOG": (4.7, -74.1), "LIM": (-12.0, -77.1),
    "DXB": (25.3, 55.4), "FJR": (25.1, 56.3), "BAH": (26.3, 50.6), "TLV": (32.0, 34.9),
    "JNB": (-26.1, 28.2), "CPT": (-34.0, 18.6),
}  # fmt: skip


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine, Earth radius 6,371 km)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(min(1.0, math.sqrt(h)))


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
