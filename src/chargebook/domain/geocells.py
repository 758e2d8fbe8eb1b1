"""The spatial index search uses, on any SQL database: latitude bands, and growing caps.

**Bands.** Each location stores ``lat_band = floor(latitude * BANDS_PER_DEGREE)``: the
0.01° strip (about 1.1 km) it lies in. A B-tree on ``(lat_band, longitude, …)`` turns
"every location in this box" into one short index range per band (``lat_band IN (…) AND
longitude BETWEEN …``), which SQLite and PostgreSQL both answer with one index seek per
band. Unlike square cells, a box of any size is only ``height / 1.1 km`` ranges, and the
longitude bound is exact, so little is read outside the box.

**Growing caps.** Search asks for the nearest ``limit`` matches. It fetches every match
in a cap of radius ``r`` (through the box of :func:`chargebook.domain.geo.cap_box`);
when ``limit`` of them lie within ``r``, those are the nearest ``limit`` overall, since
anything not fetched is farther than ``r``. Otherwise ``r`` grows (:func:`next_radius`,
by the density seen so far) until it reaches the requested radius, where the answer is
complete by definition. Nearest-first is therefore exact, with ties broken by row id.

**Index columns.** :func:`search_power_columns` condenses a location's EVSEs into the two
numbers the index filters on, so that most searches never leave the index.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

BANDS_PER_DEGREE = 100

#: The first cap's radius for ``limit`` = 20. About 1,000 locations per km² sit in the
#: centre of a big city at a million locations, so this first cap holds a few dozen there;
#: sparser places grow from it in a few steps (:func:`next_radius`).
FIRST_RADIUS_KM = 0.25
_REFERENCE_LIMIT = 20
_MAX_GROWTH = 8.0
_MIN_GROWTH = 1.5
_SAFETY = 1.5  # aim for this many times ``limit`` in the next cap


def lat_band(latitude: float) -> int:
    """The band a latitude lies in. Monotonic, so the bands of a box are a plain range."""
    return math.floor(latitude * BANDS_PER_DEGREE)


def bands_between(min_lat: float, max_lat: float) -> list[int]:
    """Every band that holds some latitude in ``[min_lat, max_lat]``. Not clipped to ±90:
    a stored latitude out of range (OCPI's pattern allows 99.9) is still found."""
    return list(range(lat_band(min_lat), lat_band(max_lat) + 1))


def first_radius(limit: int, radius_km: float) -> float:
    """Where to start: the first cap grows with ``limit`` like the area ``limit`` needs."""
    return min(radius_km, FIRST_RADIUS_KM * math.sqrt(max(limit, 1) / _REFERENCE_LIMIT))


def next_radius(current_km: float, found: int, limit: int, radius_km: float) -> float:
    """The next cap after ``found`` (< ``limit``) matches within ``current_km``.

    Matches grow with the area, so aim at ``_SAFETY * limit`` by the density seen; none
    seen yet means the density is low, so grow by the most allowed. Growth is bounded so
    that one wrong guess costs one more query, not a scan of a whole city.
    """
    if found <= 0:
        growth = _MAX_GROWTH
    else:
        growth = math.sqrt(_SAFETY * limit / found)
    growth = min(_MAX_GROWTH, max(_MIN_GROWTH, growth))
    return min(radius_km, current_km * growth)


@dataclass(frozen=True, slots=True)
class EvseSummary:
    """What the index needs to know of one EVSE."""

    listed: bool  # search lists it at all (not REMOVED)
    bookable: bool  # reservable and in service: a search with a window may list it
    connector_powers_kw: tuple[float, ...]


def search_power_columns(
    published: bool, evses: Iterable[EvseSummary]
) -> tuple[float | None, float | None]:
    """``(search_power_kw, bookable_power_kw)`` of a location.

    ``search_power_kw`` is the highest connector power among EVSEs search lists, or None
    when search lists nothing here (unpublished, or no listed EVSE has a connector): a
    location matches ``power_min=P`` without a window exactly when it is ``>= P``.
    ``bookable_power_kw`` is the same over bookable EVSEs only: a location whose value is
    ``>= P`` *may* match with a window (bookings still decide), one below never does.
    """
    if not published:
        return None, None
    search: float | None = None
    bookable: float | None = None
    for evse in evses:
        if not evse.listed or not evse.connector_powers_kw:
            continue
        top = max(evse.connector_powers_kw)
        search = top if search is None else max(search, top)
        if evse.bookable:
            bookable = top if bookable is None else max(bookable, top)
    return search, bookable
