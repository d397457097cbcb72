"""Where CloudFront's edge locations and AWS regions are on the globe, to rank distances: a
logged POP to the nearest configured one (rehearsal), a POP to the nearest region with a bucket
(MRAP-style local origins).

An edge location is named by "a three-letter code and an arbitrarily assigned number"
(``IAD89-C1``); "the three-letter code typically corresponds with the International Air
Transport Association (IATA) airport code for an airport near the edge location's geographic
location" (Developer Guide, standard log fields, ``x-edge-location``). The coordinates below are
those airports' public positions, and the regions' metro areas, rounded to a tenth of a degree.
"""

from __future__ import annotations

import math

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


# Region → (latitude, longitude) of its metro area.
REGION_POSITIONS: dict[str, tuple[float, float]] = {
    "us-east-1": (38.9, -77.4), "us-east-2": (40.0, -83.0), "us-west-1": (37.4, -121.9),
    "us-west-2": (45.8, -119.7), "ca-central-1": (45.5, -73.6), "ca-west-1": (51.0, -114.1),
    "mx-central-1": (20.6, -100.4), "sa-east-1": (-23.5, -46.6),
    "eu-west-1": (53.3, -6.3), "eu-west-2": (51.5, -0.1), "eu-west-3": (48.9, 2.4),
    "eu-central-1": (50.1, 8.7), "eu-central-2": (47.4, 8.5), "eu-south-1": (45.5, 9.2),
    "eu-south-2": (41.6, -0.9), "eu-north-1": (59.3, 18.1),
    "il-central-1": (32.1, 34.8), "me-south-1": (26.1, 50.6), "me-central-1": (25.2, 55.3),
    "af-south-1": (-33.9, 18.4),
    "ap-northeast-1": (35.7, 139.7), "ap-northeast-2": (37.6, 127.0),
    "ap-northeast-3": (34.7, 135.5), "ap-east-1": (22.3, 114.2), "ap-east-2": (25.0, 121.5),
    "ap-southeast-1": (1.4, 103.8), "ap-southeast-2": (-33.9, 151.2),
    "ap-southeast-3": (-6.2, 106.8), "ap-southeast-4": (-37.8, 145.0),
    "ap-southeast-5": (3.1, 101.7), "ap-southeast-7": (13.8, 100.5),
    "ap-south-1": (19.1, 72.9), "ap-south-2": (17.4, 78.5),
}  # fmt: skip
