"""Search: bookable chargers near a point, nearest first (docs/search.md).

One read transaction; every statement is built once per filter combination:

1. **Candidates** in a growing cap (``domain/geocells.py``): the locations in the cap's
   box, read from the covering index ``ix_locations_search`` with one seek per 0.01°
   latitude band. Distances are computed here with :func:`haversine_km`.
2. **Details** (party, EVSEs, connectors, with the filters) of the nearest candidates, in
   distance order. Without a window, or with a ``connector_type``, candidates are exact
   matches and details are read once. With a window alone, the index can only say "has a
   bookable EVSE powerful enough"; the details statement is then also the check against
   bookings, run on the nearest few candidates until ``limit`` of them hold up. This
   checks a few dozen locations against bookings instead of every one in the cap.
3. **Tariffs** the listed connectors name, to estimate each EVSE's price for the window.

The cap grows until ``limit`` confirmed matches lie inside it, or it reaches the radius.
What comes back is exactly the nearest ``limit`` matches, ties broken by row id.

Filters: an EVSE is listed when it is not REMOVED and has a connector matching
``connector_type`` and ``power_min``; with a window it must also be reservable, in service
and free of live bookings overlapping the window. A location matches when it is published
and lists an EVSE.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import Select, Text, bindparam, exists, literal, select, type_coerce
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
from chargebook.services.pricing import Quote, charging_cost, quote, reservation_cost

CURRENCY = "EUR"
#: Without a window, prices are for one hour from the next quarter hour that is at least
#: 15 minutes ahead (the earliest a booking may start).
DEFAULT_LEAD = timedelta(minutes=15)
DEFAULT_WINDOW = timedelta(hours=1)

_L, _E, _C, _B, _P, _T = (
    m.__table__ for m in (Location, Evse, Connector, Booking, Party, Tariff)
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

    @property
    def index_is_exact(self) -> bool:
        """True when the candidates statement decides every filter (see module doc)."""
        return not self.has_window or self.connector_type is not None


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
    distance_km: float = 0.0
    evses: list[EvseHit] = field(default_factory=list)
    price: Quote | None = None  # the cheapest listed EVSE's with a known tariff
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


# --- statements ------------------------------------------------------------------------------


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
    stmt = select(_L.c.pk, _L.c.latitude, _L.c.longitude).where(
        _L.c.lat_band.in_(bindparam("bands", expanding=True)),
        _L.c.longitude.between(bindparam("west"), bindparam("east")),
        _L.c.latitude.between(bindparam("south"), bindparam("north")),
    )
    power_col = _L.c.bookable_power_kw if window else _L.c.search_power_kw
    stmt = stmt.where(power_col >= bindparam("power_min") if power else power_col.is_not(None))
    if ctype:  # the index knows nothing of connector types: ask the EVSEs
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
            _L.c.longitude, _L.c.time_zone, _L.c.last_updated, _L.c.party_pk, _P.c.name,
            _P.c.party_id, _P.c.last_sync_at, _E.c.pk, _E.c.uid, _E.c.evse_id, _E.c.status,
            _E.c.reservable, _C.c.id, _C.c.standard, _C.c.power_kw,
            type_coerce(_C.c.tariff_ids, Text),  # see _ids
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


_TARIFFS = select(_T.c.pk, _T.c.party_pk, _T.c.id, _T.c.last_updated, _T.c.currency, _T.c.data).where(
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
        hits, total, exact = await nearest_matches(conn, q)
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


async def nearest_matches(conn: AsyncConnection, q: SearchQuery) -> tuple[list[LocationHit], int, bool]:
    """``(the nearest q.limit matches with their details, total, total_exact)``.

    A pass reads every candidate in a cap of radius ``r``, then details for the nearest
    unchecked ones in distance order, until ``limit`` matches are confirmed or the cap's
    candidates run out. ``limit`` confirmed inside ``r`` are final: nothing unread is
    nearer than ``r``. Otherwise ``r`` grows; at ``r = radius`` the answer is final anyway.
    ``total`` counts the matches known within the radius: every one when the radius was
    read and nothing is left unchecked (``total_exact``), else a lower bound.
    """
    exact_index = q.index_is_exact
    checked: dict[int, LocationHit | None] = {}  # None: a candidate that did not hold up
    r = first_radius(q.limit, q.radius_km)
    while True:
        found = await _candidates(conn, q, r)
        inside = sorted((d, pk) for pk, d in found.items() if d <= r)
        complete = r >= q.radius_km
        matches = len(inside)
        if complete or matches >= q.limit:  # details only when they can finish the search
            confirmed = await _confirm(conn, q, inside, checked, exact_index)
            if complete or len(confirmed) >= q.limit:
                if exact_index:
                    total = len(found)
                else:
                    total = sum(1 for pk in found if checked.get(pk) is not None)
                    complete = complete and all(pk in checked for pk in found)
                return confirmed[: q.limit], total, complete
            matches = len(confirmed)
        r = next_radius(r, matches, q.limit, q.radius_km)


async def _candidates(conn: AsyncConnection, q: SearchQuery, r: float) -> dict[int, float]:
    """Candidates in the cap's box that lie within the radius: {pk: distance_km}."""
    box = cap_box(q.lat, q.lng, r)
    params = {**_filter_params(q), "bands": bands_between(box.min_lat, box.max_lat),
              "south": box.min_lat, "north": box.max_lat}
    found: dict[int, float] = {}
    for west, east in box.lng_ranges:  # two ranges across the antimeridian
        for pk, lat, lng in await conn.execute(_stmt("candidates", q), {**params, "west": west, "east": east}):
            distance = haversine_km(q.lat, q.lng, lat, lng)
            if distance <= q.radius_km:
                found[pk] = distance
    return found


async def _confirm(conn: AsyncConnection, q: SearchQuery, inside: list[tuple[float, int]],
                   checked: dict[int, LocationHit | None], exact_index: bool) -> list[LocationHit]:
    """Details of candidates in distance order until ``limit`` hold up or none are left."""
    confirmed: list[LocationHit] = []
    i = 0
    while True:
        while i < len(inside) and inside[i][1] in checked:
            hit = checked[inside[i][1]]
            if hit is not None:
                hit.distance_km = inside[i][0]
                confirmed.append(hit)
            i += 1
        need = q.limit - len(confirmed)
        if need <= 0 or i == len(inside):
            return confirmed
        # Most candidates hold up (bookings are sparse): ask for a few more than needed.
        size = need if exact_index else math.ceil(need * 1.25) + 2
        batch = [pk for _, pk in inside[i: i + size] if pk not in checked]
        loaded = await _load_details(conn, q, batch)
        for pk in batch:
            checked[pk] = loaded.get(pk)


async def _load_details(conn: AsyncConnection, q: SearchQuery, pks: list[int]) -> dict[int, LocationHit]:
    hits: dict[int, LocationHit] = {}
    evses: dict[int, EvseHit] = {}
    for row in await conn.execute(_stmt("details", q), {**_filter_params(q), "pks": pks}):
        hit = hits.get(row[0])
        if hit is None:
            hit = hits[row[0]] = LocationHit(*row[:14])
        evse = evses.get(row[14])
        if evse is None:
            evse = evses[row[14]] = EvseHit(row[15], row[16], row[17], bool(row[18]))
            hit.evses.append(evse)
        evse.connectors.append(ConnectorHit(row[19], row[20], row[21], _ids(row[22])))
    return hits


def _ids(raw: str | list[str] | None) -> tuple[str, ...]:
    # The text of the JSON column where the driver hands it over (SQLite), parsed here much
    # faster than by the column type; asyncpg decodes json columns itself.
    if isinstance(raw, str):
        raw = orjson.loads(raw)
    return tuple(raw or ())


# --- prices ----------------------------------------------------------------------------------

TariffKey = tuple[int, datetime]  # (row pk, last_updated): one version of a tariff
_PARSED: dict[TariffKey, TariffTerms | None] = {}
_COSTS: dict[tuple[Any, ...], Decimal | None] = {}
_CACHE_MAX = 8192


async def _load_tariffs(conn: AsyncConnection, hits: Sequence[LocationHit]) -> dict[tuple[str, str], tuple[TariffKey, TariffTerms]]:
    """{(party pk, tariff id): (version, terms)} for the tariffs the hits' connectors name.
    Parsed terms are kept per version, so only a changed tariff is parsed again."""
    ids = {t for h in hits for e in h.evses for c in e.connectors for t in c.tariff_ids}
    if not ids:
        return {}
    rows = await conn.execute(_TARIFFS, {"parties": sorted({h.party_pk for h in hits}), "ids": sorted(ids)})
    known: dict[tuple[str, str], tuple[TariffKey, TariffTerms]] = {}
    for pk, party_pk, tariff_id, updated, currency, data in rows:
        key = (pk, updated)
        if key not in _PARSED:
            _bounded(_PARSED)
            _PARSED[key] = _parse(data) if currency == CURRENCY else None
        terms = _PARSED[key]
        if terms is not None:
            known[(party_pk, tariff_id)] = (key, terms)
    return known


def _parse(data: dict[str, Any]) -> TariffTerms | None:
    try:
        terms = parse_tariff(data)
    except DomainError:
        return None  # a tariff we cannot read prices nothing; search still answers
    return terms if terms.currency == CURRENCY else None


def _bounded(cache: dict[Any, Any]) -> None:
    if len(cache) >= _CACHE_MAX:
        cache.clear()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _pick(party_pk: str, ids: tuple[str, ...], known: dict[tuple[str, str], tuple[TariffKey, TariffTerms]],
          at: datetime) -> tuple[str, TariffKey, TariffTerms] | None:
    """The connector's tariff for a booking: the first listed one valid at the window's
    start, REGULAR (or untyped) tariffs before ad-hoc and profile ones (OCPI 2.2.1
    mod_tariffs.asciidoc § TariffType: only one of each type is active at a time)."""
    best: tuple[tuple[bool, int], str, TariffKey, TariffTerms] | None = None
    for index, tariff_id in enumerate(ids):
        entry = known.get((party_pk, tariff_id))
        if entry is None or not entry[1].is_valid_at(at):
            continue
        rank = (entry[1].type not in (None, TariffType.REGULAR), index)
        if best is None or rank < best[0]:
            best = (rank, tariff_id, *entry)
    return None if best is None else best[1:]


def _price(hit: LocationHit, known: dict[tuple[str, str], tuple[TariffKey, TariffTerms]],
           window: tuple[datetime, datetime], fee: Decimal, commission_percent: Decimal) -> None:
    zone = _zone(hit.time_zone)
    start, end = window[0].astimezone(zone), window[1].astimezone(zone)
    fees_only = quote(Decimal(0), fee, commission_percent)
    for evse in hit.evses:
        for connector in evse.connectors:
            picked = _pick(hit.party_pk, connector.tariff_ids, known, window[0])
            if picked is None:
                continue
            tariff_id, key, terms = picked
            cost = _window_cost(key, terms, start, end, connector.power_kw)
            if cost is None:
                continue
            price = quote(cost, fee, commission_percent, terms.currency)
            if evse.price is None or price.client_price < evse.price.client_price:
                evse.price, evse.tariff_id = price, tariff_id
        if evse.price is not None and (hit.price is None or evse.price.client_price < hit.price.client_price):
            hit.price, hit.tariff_id = evse.price, evse.tariff_id
        evse.price = evse.price or fees_only
    hit.price = hit.price or fees_only


def _window_cost(key: TariffKey, terms: TariffTerms, start: datetime, end: datetime,
                 power_kw: float) -> Decimal | None:
    """Reservation plus charging cost, each remembered per tariff version: the engine takes
    ~0.1 ms per estimate, and a page of results repeats a few tariffs and powers."""
    where = (key, start, end, str(start.tzinfo))
    reservation = _remember((*where, None), lambda: reservation_cost(terms, start, end))
    charging = _remember((*where, power_kw),
                         lambda: charging_cost(terms, start, end, Decimal(str(power_kw))))
    return None if reservation is None or charging is None else reservation + charging


def _remember(key: tuple[Any, ...], compute: Any) -> Decimal | None:
    if key not in _COSTS:
        _bounded(_COSTS)
        try:
            _COSTS[key] = compute()
        except DomainError:
            _COSTS[key] = None  # the engine refused this tariff for this window
    return _COSTS[key]


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
