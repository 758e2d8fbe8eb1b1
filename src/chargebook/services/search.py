"""Search: bookable chargers near a point, nearest first (docs/search.md).

One read transaction, three kinds of statement, all prebuilt:

1. **Candidates** in a growing cap (``domain/geocells.py``): every matching location in the
   cap's box, read from the covering index ``ix_locations_search`` (one seek per 0.01°
   latitude band). Distances are computed here with :func:`haversine_km`; the cap grows
   until ``limit`` matches lie inside it, or it reaches ``radius``. What it returns is
   exactly the nearest ``limit`` of all matches, ties broken by row id.
2. **Details** of those locations: party, EVSEs and connectors, with the same filters.
3. **Tariffs** the listed connectors name, to estimate each EVSE's price for the window.

Filters, the same in 1 and 2: an EVSE is listed when it is not REMOVED and has a connector
matching ``connector_type`` and ``power_min``; with a window it must also be reservable,
in service and free of live bookings overlapping the window. A location is a match when it
is published and lists an EVSE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, bindparam, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chargebook.db.engine import Database
from chargebook.db.models import Booking, Connector, Evse, Location, Party, Tariff
from chargebook.domain.errors import DomainError
from chargebook.domain.geo import cap_box, haversine_km
from chargebook.domain.geocells import bands_between, first_radius, next_radius
from chargebook.domain.lifecycle import LIVE_STATES
from chargebook.domain.tariff import Tariff as TariffTerms
from chargebook.domain.tariff import parse_tariff
from chargebook.domain.tariff_model import TariffType
from chargebook.services.catalogue import OUT_OF_SERVICE
from chargebook.services.clock import utcnow
from chargebook.services.pricing import Quote, quote_window

CURRENCY = "EUR"
#: Without a window, prices are estimated for one hour from the next quarter hour that is at
#: least this far ahead (the earliest a booking may start).
DEFAULT_LEAD = timedelta(minutes=15)
DEFAULT_WINDOW = timedelta(hours=1)

_L, _E, _C, _B, _P, _T = (
    m.__table__ for m in (Location, Evse, Connector, Booking, Party, Tariff)  # type: ignore[attr-defined]
)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    lat: float
    lng: float
    radius_km: float = 50.0
    connector_type: str | None = None
    power_min_kw: float | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    limit: int = 20

    @property
    def has_window(self) -> bool:
        return self.start_time is not None and self.end_time is not None


@dataclass(frozen=True, slots=True)
class ConnectorHit:
    connector_id: str
    standard: str
    power_kw: float
    tariff_ids: tuple[str, ...]


@dataclass(slots=True)
class EvseHit:
    uid: str
    evse_id: str | None
    status: str
    reservable: bool
    connectors: list[ConnectorHit] = field(default_factory=list)
    price: Quote | None = None
    tariff_id: str | None = None  # the tariff the price used; None: platform fees only


@dataclass(slots=True)
class LocationHit:
    pk: int
    location_id: str
    name: str | None
    address: str
    city: str
    postal_code: str | None
    latitude: float
    longitude: float
    time_zone: str
    last_updated: datetime
    party_pk: str
    cpo_name: str
    cpo_party_id: str
    cpo_last_sync_at: datetime | None
    distance_km: float
    evses: list[EvseHit] = field(default_factory=list)
    price: Quote | None = None  # the cheapest listed EVSE's
    tariff_id: str | None = None

    @property
    def supports_reservation(self) -> bool:
        return any(e.reservable for e in self.evses)


@dataclass(slots=True)
class SearchResult:
    total: int  # matches counted within the radius
    total_exact: bool  # True: every match within the radius was counted
    hits: list[LocationHit]
    per_cpo: dict[str, dict[str, Any]]
    window: tuple[datetime, datetime]  # what the prices are for


# --- statements (built once per filter combination) -----------------------------------------


def _connector_filters(power: bool, ctype: bool) -> list[Any]:
    out: list[Any] = []
    if power:
        out.append(_C.c.power_kw >= bindparam("power_min"))
    if ctype:
        out.append(_C.c.standard == bindparam("connector_type"))
    return out


def _evse_filters(window: bool) -> list[Any]:
    if not window:
        return [_E.c.status != "REMOVED"]
    booked = exists().where(
        _B.c.evse_pk == _E.c.pk,
        _B.c.status.in_([s.value for s in LIVE_STATES]),
        _B.c.reservation_start < bindparam("end", type_=_B.c.reservation_start.type),
        _B.c.reservation_end > bindparam("start", type_=_B.c.reservation_end.type),
    )
    return [_E.c.reservable.is_(True), _E.c.status.not_in(sorted(OUT_OF_SERVICE)), ~booked]


def _candidates_stmt(window: bool, power: bool, ctype: bool) -> Select[Any]:
    # The index columns decide everything except connector_type and bookings.
    stmt = select(_L.c.pk, _L.c.latitude, _L.c.longitude).where(
        _L.c.lat_band.in_(bindparam("bands", expanding=True)),
        _L.c.longitude.between(bindparam("west"), bindparam("east")),
        _L.c.latitude.between(bindparam("south"), bindparam("north")),
    )
    power_col = _L.c.bookable_power_kw if window else _L.c.search_power_kw
    stmt = stmt.where(power_col >= bindparam("power_min") if power else power_col.is_not(None))
    if window or ctype:
        listed = (
            select(literal(1))
            .select_from(_E.join(_C, _C.c.evse_pk == _E.c.pk))
            .where(_E.c.location_pk == _L.c.pk, *_evse_filters(window), *_connector_filters(power, ctype))
        )
        stmt = stmt.where(listed.exists())
    return stmt


def _details_stmt(window: bool, power: bool, ctype: bool) -> Select[Any]:
    return (
        select(
            _L.c.pk, _L.c.id, _L.c.name, _L.c.address, _L.c.city, _L.c.postal_code, _L.c.latitude,
            _L.c.longitude, _L.c.time_zone, _L.c.last_updated, _L.c.party_pk, _P.c.party_id,
            _P.c.name, _P.c.last_sync_at, _E.c.pk, _E.c.uid, _E.c.evse_id, _E.c.status,
            _E.c.reservable, _C.c.id, _C.c.standard, _C.c.power_kw, _C.c.tariff_ids,
        )
        .select_from(
            _L.join(_P, _P.c.id == _L.c.party_pk)
            .join(_E, _E.c.location_pk == _L.c.pk)
            .join(_C, _C.c.evse_pk == _E.c.pk)
        )
        .where(_L.c.pk.in_(bindparam("pks", expanding=True)), *_evse_filters(window),
               *_connector_filters(power, ctype))
        .order_by(_E.c.pk, _C.c.pk)
    )


_TARIFFS = select(
    _T.c.pk, _T.c.party_pk, _T.c.id, _T.c.last_updated, _T.c.data
).where(
    _T.c.party_pk.in_(bindparam("parties", expanding=True)),
    _T.c.id.in_(bindparam("ids", expanding=True)),
)

_STATEMENTS: dict[tuple[str, bool, bool, bool], Select[Any]] = {}


def _stmt(kind: str, q: SearchQuery) -> Select[Any]:
    key = (kind, q.has_window, q.power_min_kw is not None, q.connector_type is not None)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        build = _candidates_stmt if kind == "candidates" else _details_stmt
        stmt = _STATEMENTS[key] = build(*key[1:])
    return stmt


def _filter_params(q: SearchQuery) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if q.power_min_kw is not None:
        params["power_min"] = q.power_min_kw
    if q.connector_type is not None:
        params["connector_type"] = q.connector_type
    if q.has_window:
        params["start"], params["end"] = q.start_time, q.end_time
    return params


# --- the search ------------------------------------------------------------------------------


async def search_locations(
    db: Database,
    q: SearchQuery,
    *,
    reservation_fee: Decimal = Decimal(0),
    commission_percent: Decimal = Decimal(0),
    now: datetime | None = None,
) -> SearchResult:
    """The nearest ``q.limit`` matches within ``q.radius_km``, priced for the window (or,
    without one, for an hour from the next quarter hour at least 15 minutes ahead)."""
    window = (q.start_time, q.end_time) if q.has_window else default_window(now or utcnow())
    async with db.engine.connect() as conn:
        nearest, total, exact = await nearest_matches(conn, q)
        hits = await _load_hits(conn, q, nearest)
        tariffs = await _load_tariffs(conn, hits)
    for hit in hits:
        _price(hit, tariffs, window, reservation_fee, commission_percent)  # type: ignore[arg-type]
    return SearchResult(total, exact, hits, _per_cpo(hits), window)  # type: ignore[arg-type]


def default_window(now: datetime) -> tuple[datetime, datetime]:
    earliest = now + DEFAULT_LEAD
    start = earliest.replace(second=0, microsecond=0)
    start += timedelta(minutes=-start.minute % 15)
    if start < earliest:
        start += timedelta(minutes=15)
    return start, start + DEFAULT_WINDOW


async def nearest_matches(conn: AsyncConnection, q: SearchQuery) -> tuple[list[tuple[float, int]], int, bool]:
    """``([(distance_km, location pk)] nearest first, total, total_exact)``.

    Each pass fetches every match in a cap of radius ``r``. Once ``limit`` of them lie
    within ``r``, nothing unfetched can be nearer than the ``limit``-th, so the answer is
    final; otherwise ``r`` grows, and at ``r = radius`` the answer is final by definition.
    ``total`` counts the fetched matches within the radius: all of them when ``r`` reached
    the radius (``total_exact``), else a lower bound.
    """
    stmt = _stmt("candidates", q)
    base = _filter_params(q)
    r = first_radius(q.limit, q.radius_km)
    while True:
        box = cap_box(q.lat, q.lng, r)
        params = {**base, "bands": bands_between(box.min_lat, box.max_lat),
                  "south": box.min_lat, "north": box.max_lat}
        found: dict[int, float] = {}
        for west, east in box.lng_ranges:
            for pk, lat, lng in await conn.execute(stmt, {**params, "west": west, "east": east}):
                distance = haversine_km(q.lat, q.lng, lat, lng)
                if distance <= q.radius_km:
                    found[pk] = distance
        inside = sorted((d, pk) for pk, d in found.items() if d <= r)
        complete = r >= q.radius_km
        if complete or len(inside) >= q.limit:
            return inside[: q.limit], len(found), complete
        r = next_radius(r, len(inside), q.limit, q.radius_km)


async def _load_hits(conn: AsyncConnection, q: SearchQuery, nearest: list[tuple[float, int]]) -> list[LocationHit]:
    if not nearest:
        return []
    distance = {pk: d for d, pk in nearest}
    params = {**_filter_params(q), "pks": list(distance)}
    hits: dict[int, LocationHit] = {}
    evses: dict[int, EvseHit] = {}
    for row in await conn.execute(_stmt("details", q), params):
        (pk, loc_id, name, address, city, postal, lat, lng, tz, updated, party_pk, party_id,
         party_name, synced, evse_pk, uid, evse_id, status, reservable, conn_id, standard,
         power, tariff_ids) = row
        hit = hits.get(pk)
        if hit is None:
            hit = hits[pk] = LocationHit(pk, loc_id, name, address, city, postal, lat, lng, tz,
                                         updated, party_pk, party_name, party_id, synced,
                                         distance[pk])
        evse = evses.get(evse_pk)
        if evse is None:
            evse = evses[evse_pk] = EvseHit(uid, evse_id, status, bool(reservable))
            hit.evses.append(evse)
        evse.connectors.append(ConnectorHit(conn_id, standard, power, tuple(tariff_ids or ())))
    # A location whose EVSEs all changed between the two statements (possible on PostgreSQL,
    # where each statement sees the latest commit) is dropped rather than shown empty.
    return [hits[pk] for _, pk in nearest if pk in hits]


# --- prices ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _KnownTariff:
    key: tuple[int, datetime]  # (row pk, last_updated): a tariff version
    terms: TariffTerms | None  # None: unparseable, or not in our currency


_PARSED: dict[tuple[int, datetime], TariffTerms | None] = {}
_COSTS: dict[tuple[Any, ...], Quote | None] = {}
_CACHE_MAX = 4096


async def _load_tariffs(conn: AsyncConnection, hits: Sequence[LocationHit]) -> dict[tuple[str, str], _KnownTariff]:
    parties = {h.party_pk for h in hits}
    ids = {t for h in hits for e in h.evses for c in e.connectors for t in c.tariff_ids}
    if not parties or not ids:
        return {}
    rows = await conn.execute(_TARIFFS, {"parties": sorted(parties), "ids": sorted(ids)})
    known: dict[tuple[str, str], _KnownTariff] = {}
    for pk, party_pk, tariff_id, updated, data in rows:
        key = (pk, updated)
        if key not in _PARSED:
            if len(_PARSED) >= _CACHE_MAX:
                _PARSED.clear()
            _PARSED[key] = _parse(data)
        known[(party_pk, tariff_id)] = _KnownTariff(key, _PARSED[key])
    return known


def _parse(data: dict[str, Any]) -> TariffTerms | None:
    try:
        terms = parse_tariff(data)
    except DomainError:
        return None  # a tariff we cannot read prices nothing; search still answers
    return terms if terms.currency == CURRENCY else None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _pick(party_pk: str, ids: tuple[str, ...], known: dict[tuple[str, str], _KnownTariff],
          at: datetime) -> tuple[str, _KnownTariff] | None:
    """The connector's tariff for a booking: the first listed that is valid at the window's
    start, preferring REGULAR (or untyped) tariffs over ad-hoc and profile ones."""
    best: tuple[tuple[bool, int], str, _KnownTariff] | None = None
    for index, tariff_id in enumerate(ids):
        entry = known.get((party_pk, tariff_id))
        if entry is None or entry.terms is None or not entry.terms.is_valid_at(at):
            continue
        rank = (entry.terms.type not in (None, TariffType.REGULAR), index)
        if best is None or rank < best[0]:
            best = (rank, tariff_id, entry)
    return None if best is None else (best[1], best[2])


def _price(hit: LocationHit, known: dict[tuple[str, str], _KnownTariff],
           window: tuple[datetime, datetime], fee: Decimal, commission_percent: Decimal) -> None:
    zone = _zone(hit.time_zone)
    start, end = window[0].astimezone(zone), window[1].astimezone(zone)
    fees_only = quote_window(None, start, end, Decimal(0), fee, commission_percent)
    for evse in hit.evses:
        for connector in evse.connectors:
            picked = _pick(hit.party_pk, connector.tariff_ids, known, window[0])
            if picked is None:
                continue
            tariff_id, entry = picked
            cost = _cached_quote(entry, start, end, connector.power_kw, fee, commission_percent)
            if cost is not None and (evse.price is None or cost.client_price < evse.price.client_price):
                evse.price, evse.tariff_id = cost, tariff_id
        if evse.price is not None and (hit.price is None or evse.price.client_price < hit.price.client_price):
            hit.price, hit.tariff_id = evse.price, evse.tariff_id
        evse.price = evse.price or fees_only
    hit.price = hit.price or fees_only


def _cached_quote(entry: _KnownTariff, start: datetime, end: datetime, power_kw: float,
                  fee: Decimal, commission_percent: Decimal) -> Quote | None:
    # The tariff engine costs ~0.1 ms per estimate; results repeat across EVSEs and requests.
    key = (entry.key, start, end, str(start.tzinfo), power_kw, fee, commission_percent)
    if key in _COSTS:
        return _COSTS[key]
    assert entry.terms is not None
    try:
        result: Quote | None = quote_window(entry.terms, start, end, Decimal(str(power_kw)), fee,
                                            commission_percent)
    except DomainError:
        result = None
    if len(_COSTS) >= _CACHE_MAX:
        _COSTS.clear()
    _COSTS[key] = result
    return result


def _per_cpo(hits: Sequence[LocationHit]) -> dict[str, dict[str, Any]]:
    """Per CPO: how many of the results it gave and how fresh its data is."""
    per: dict[str, dict[str, Any]] = {}
    for hit in hits:
        stats = per.setdefault(hit.cpo_party_id, {
            "cpo_name": hit.cpo_name, "results": 0, "data_updated_at": hit.last_updated,
            "last_sync_at": hit.cpo_last_sync_at,
        })
        stats["results"] += 1
        stats["data_updated_at"] = max(stats["data_updated_at"], hit.last_updated)
    return per
