"""Great-circle distance, and the latitude/longitude box that holds a spherical cap.

Distances are on a sphere of the mean Earth radius (IUGG), which is what "distance_km"
means everywhere in the API. The box is exact for a cap on that sphere (not a flat-earth
approximation), and it stays correct where flat boxes break: a cap that contains a pole
spans every longitude, and a cap that crosses the antimeridian is two longitude ranges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088

# Bounds are widened by this much (about a centimetre) so that float rounding in the box and
# in the distance can never drop a point whose computed distance is within the radius.
_MARGIN_DEG = 1e-7


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class CapBox:
    """Every point within the radius has ``min_lat <= lat <= max_lat`` and a longitude in
    one of ``lng_ranges`` (inclusive, each within -180..180)."""

    min_lat: float
    max_lat: float
    lng_ranges: tuple[tuple[float, float], ...]


def cap_box(lat: float, lng: float, radius_km: float) -> CapBox:
    """The smallest latitude/longitude box (or two, across the antimeridian) around a cap.

    For a cap of angular radius d around latitude p that does not reach a pole, the widest
    longitude offset of its points is asin(sin d / cos p) (spherical trigonometry: the
    meridian tangent to the cap). A cap that reaches a pole spans every longitude.
    """
    d = max(radius_km, 0.0) / EARTH_RADIUS_KM
    d_deg = math.degrees(d)
    min_lat = lat - d_deg - _MARGIN_DEG
    max_lat = lat + d_deg + _MARGIN_DEG
    cos_p = math.cos(math.radians(lat))
    if d >= math.pi / 2 or cos_p <= math.sin(d) + 1e-12:
        return CapBox(min_lat, max_lat, ((-180.0, 180.0),))
    dlng = math.degrees(math.asin(min(1.0, math.sin(d) / cos_p))) + _MARGIN_DEG
    west, east = lng - dlng, lng + dlng
    if west < -180.0:
        return CapBox(min_lat, max_lat, ((-180.0, east), (west + 360.0, 180.0)))
    if east > 180.0:
        return CapBox(min_lat, max_lat, ((west, 180.0), (-180.0, east - 360.0)))
    return CapBox(min_lat, max_lat, ((west, east),))
