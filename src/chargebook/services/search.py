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
``connector_type`` and ``power_min``; with a window it must also be reservable, in service,
free of live bookings overlapping the window and, when its request to the CPO goes out at once
(the window starts within the CPO's reserve lead time), ``AVAILABLE`` now: search offers only
what a booking can get. A location matches when it is published, belongs to a CPO in the
client's contract (services/contracts.py) and lists an EVSE.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import Select, Text, bindparam, exists, literal, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from chargebook.db.engine import Database
from chargebook.db.models import Booking, Connector, Evse, Location, Party, Tariff
from chargebook.domain.geo import cap_box, haversine_km
from chargebook.domain.geocells import bands_between, first_radius, next_radius
from chargebook.domain.lifecycle import LIVE_STATES
from chargebook.domain.tariff import Tariff as TariffTerms
from chargebook.ocpi.v221.types import ci_key
from chargebook.services.booking_calendars import books_evse, calendar_allows
from chargebook.services.catalogue import OUT_OF_SERVICE
from chargebook.services.clock import utcnow
from chargebook.services.contracts import contract_allows
from chargebook.services.estimates import ConnectorTerms, Estimate, estimate_evse
from chargebook.services.pricing import Quote, TariffVersion, parsed_tariff, shared_quote

CURRENCY = "EUR"
#: Without a window, prices are for one hour from the next quarter hour that is at least
#: 15 minutes ahead (the earliest a booking may start).
DEFAULT_LEAD = timedelta(minutes=15)
DEFAULT_WINDOW = timedelta(hours=1)

_L, _E, _C, _B, _P, _T = (m.__table__ for m in (Location, Evse, Connector, Booking, Party, Tariff))


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
    #: The client whose contract lists its CPOs; None: a client contracted for every CPO.
    contract_client_id: str | None = None
    #: With a window: how many minutes ahead it starts (the CPO's reserve lead time decides
    #: whether its request goes out at once). Set by :func:`search_locations`.
    minutes_ahead: float = 0.0

    @property
    def has_window(self) -> bool:
        return self.start_time is not None and self.end_time is not None

    @property
    def restricted(self) -> bool:
        return self.contract_client_id is not None

    @property
    def index_is_exact(self) -> bool:
        """True when the candidates statement decides every filter (see module doc)."""
        return (not self.has_window or self.connector_type is not None) and not self.restricted


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
    price: Quote | None = None  # the one estimate (services/estimates.py): what a booking quotes
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
    cpo_country_code: str
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
    # A CPO with the OCPI 2.3.0 Bookings module says when the EVSE is free (its calendars).
    by_calendar = calendar_allows(_L.c.party_pk, _L.c.id, _E.c.uid, bindparam("start", type_=_B.c.reservation_start.type),
                                  bindparam("end", type_=_B.c.reservation_end.type))
    # A RESERVE_NOW sent at once (the window starts within the CPO's reserve lead time) holds
    # the EVSE from now: the CPO refuses it unless the EVSE is AVAILABLE now (the same rule as
    # booking_create.check_in_use). A calendar-booked EVSE is decided by its calendar instead.
    lead = (
        select(_P.c.reserve_lead_minutes).where(_P.c.id == _L.c.party_pk)
        .correlate_except(_P).scalar_subquery()
    )
    bookable_now = or_(
        _E.c.status == "AVAILABLE",
        lead < bindparam("minutes_ahead"),
        books_evse(_L.c.party_pk, _L.c.id, _E.c.uid),
    )
    return [_E.c.reservable.is_(True), _E.c.status.not_in(sorted(OUT_OF_SERVICE)), ~booked, by_calendar,
            bookable_now]


#: Beyond this many bands (a cap over ~570 km tall; the API's radius stops at 200 km) the
#: bands are read as one range instead of one seek each.
MAX_BAND_LIST = 512


def _in(column: Any, name: str, size: int) -> Any:
    """``column IN (:name0, …)`` with a fixed number of slots: a statement per list size is
    compiled and prepared once and reused, where an "expanding" list renders its SQL on
    every execution (measured: ~0.2 ms a statement on SQLite)."""
    return column.in_([bindparam(f"{name}{i}") for i in range(size)])


def _in_params(name: str, values: list[Any]) -> dict[str, Any]:
    """Values for :func:`_in`, padded to a power-of-two size by repeating the last one
    (both databases drop repeats), so that a few statement sizes serve every list."""
    size = 1 << max(len(values) - 1, 0).bit_length()
    padded = values + values[-1:] * (size - len(values))
    return {f"{name}{i}": v for i, v in enumerate(padded)}


def _candidates_stmt(window: bool, power: bool, ctype: bool, contract: bool, bands: int) -> Select[Any]:
    in_bands = (
        _in(_L.c.lat_band, "band", bands)
        if bands
        else _L.c.lat_band.between(bindparam("band_lo"), bindparam("band_hi"))
    )
    stmt = select(_L.c.pk, _L.c.latitude, _L.c.longitude).where(
        in_bands,
        _L.c.longitude.between(bindparam("west"), bindparam("east")),
        _L.c.latitude.between(bindparam("south"), bindparam("north")),
    )
    power_col = _L.c.bookable_power_kw if window else _L.c.search_power_kw
    stmt = stmt.where(power_col >= bindparam("power_min") if power else power_col.is_not(None))
    if ctype:  # the index knows nothing of connector types: ask the EVSEs
        listed = (
            select(literal(1))
            .select_from(_E.join(_C, _C.c.evse_pk == _E.c.pk))
            .where(
                _E.c.location_pk == _L.c.pk,
                *_evse_filters(window),
                *_connector_filters(power, ctype),
            )
        )
        stmt = stmt.where(listed.exists())
    return stmt


def _details_stmt(window: bool, power: bool, ctype: bool, contract: bool, pks: int) -> Select[Any]:
    return (
        select(
            _L.c.pk,
            _L.c.id,
            _L.c.name,
            _L.c.address,
            _L.c.city,
            _L.c.postal_code,
            _L.c.latitude,
            _L.c.longitude,
            _L.c.time_zone,
            _L.c.last_updated,
            _L.c.party_pk,
            _P.c.name,
            _P.c.party_id,
            _P.c.country_code,
            _P.c.last_sync_at,
            _E.c.pk,
            _E.c.uid,
            _E.c.evse_id,
            _E.c.status,
            _E.c.reservable,
            _C.c.id,
            _C.c.standard,
            _C.c.power_kw,
            type_coerce(_C.c.tariff_ids, Text),  # see _ids
        )
        .select_from(
            _L.join(_P, _P.c.id == _L.c.party_pk)
            .join(_E, _E.c.location_pk == _L.c.pk)
            .join(_C, _C.c.evse_pk == _E.c.pk)
        )
        .where(_in(_L.c.pk, "pk", pks), *_evse_filters(window), *_connector_filters(power, ctype),
               *([contract_allows(_L.c.party_pk)] if contract else []))
        .order_by(_E.c.pk, _C.c.pk)
    )


def _tariffs_stmt(parties: int, ids: int) -> Select[Any]:
    return select(
        _T.c.pk, _T.c.party_pk, _T.c.id, _T.c.last_updated, _T.c.currency, _T.c.data
    ).where(_in(_T.c.party_pk, "party", parties), _in(_T.c.id, "tariff", ids))


#: The most locations one details statement checks against bookings.
MAX_BATCH = 256
_STATEMENTS: dict[tuple[Any, ...], Select[Any]] = {}
_BUILDERS: dict[str, Callable[..., Select[Any]]] = {
    "candidates": _candidates_stmt,
    "details": _details_stmt,
    "tariffs": _tariffs_stmt,
}


def _stmt(kind: str, q: SearchQuery | None, *sizes: int) -> Select[Any]:
    """The statement of this kind for the query's filters and these list sizes, built once."""
    flags = (
        ()
        if q is None
        else (q.has_window, q.power_min_kw is not None, q.connector_type is not None, q.restricted)
    )
    key = (kind, *flags, *sizes)
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = _BUILDERS[kind](*flags, *sizes)
    return stmt


def _filter_params(q: SearchQuery) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if q.power_min_kw is not None:
        params["power_min"] = q.power_min_kw
    if q.connector_type is not None:
        params["connector_type"] = q.connector_type
    if q.has_window:
        params["start"], params["end"] = q.start_time, q.end_time
        params["minutes_ahead"] = q.minutes_ahead
    if q.restricted:
        params["client_id"] = q.contract_client_id
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
    now = now or utcnow()
    if q.start_time is not None and q.end_time is not None:
        window = (q.start_time, q.end_time)
        q = replace(q, minutes_ahead=(q.start_time - now).total_seconds() / 60)
    else:
        window = default_window(now)
    async with db.engine.connect() as conn:
        hits, total, exact = await nearest_matches(conn, q)
        tariffs = await _load_tariffs(conn, hits)
    for hit in hits:
        _price(hit, tariffs, window, reservation_fee, commission_percent)
    return SearchResult(total, exact, hits, _per_cpo(hits), window)


def default_window(now: datetime) -> tuple[datetime, datetime]:
    earliest = now + DEFAULT_LEAD
    start = earliest.replace(second=0, microsecond=0)
    start += timedelta(minutes=-start.minute % 15)
    if start < earliest:
        start += timedelta(minutes=15)
    return start, start + DEFAULT_WINDOW


async def nearest_matches(
    conn: AsyncConnection, q: SearchQuery
) -> tuple[list[LocationHit], int, bool]:
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
    bands = bands_between(box.min_lat, box.max_lat)
    params: dict[str, Any] = {**_filter_params(q), "south": box.min_lat, "north": box.max_lat}
    if len(bands) > MAX_BAND_LIST:
        params.update(band_lo=bands[0], band_hi=bands[-1])
        slots = 0
    else:
        slots = len(band_params := _in_params("band", bands))
        params.update(band_params)
    stmt = _stmt("candidates", q, slots)
    found: dict[int, float] = {}
    for west, east in box.lng_ranges:  # two ranges across the antimeridian
        for pk, lat, lng in await conn.execute(stmt, {**params, "west": west, "east": east}):
            distance = haversine_km(q.lat, q.lng, lat, lng)
            if distance <= q.radius_km:
                found[pk] = distance
    return found


async def _confirm(
    conn: AsyncConnection,
    q: SearchQuery,
    inside: list[tuple[float, int]],
    checked: dict[int, LocationHit | None],
    exact_index: bool,
) -> list[LocationHit]:
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
        if exact_index:
            size = need
        else:
            # Ask for as many as should yield ``need`` at the share that held up so far (most
            # do: bookings are sparse), a little more, and never a statement per location.
            held = (sum(1 for h in checked.values() if h is not None) + 1) / (len(checked) + 1)
            size = min(MAX_BATCH, math.ceil(need * 1.25 / held) + 2)
        batch = [pk for _, pk in inside[i : i + size] if pk not in checked]
        loaded = await _load_details(conn, q, batch)
        for pk in batch:
            checked[pk] = loaded.get(pk)


async def _load_details(
    conn: AsyncConnection, q: SearchQuery, pks: list[int]
) -> dict[int, LocationHit]:
    hits: dict[int, LocationHit] = {}
    evses: dict[int, EvseHit] = {}
    slots = _in_params("pk", pks)
    for row in await conn.execute(_stmt("details", q, len(slots)), {**slots, **_filter_params(q)}):
        # Columns in _details_stmt's order: the location's and party's first, as LocationHit.
        hit = hits.get(row[0])
        if hit is None:
            hit = hits[row[0]] = LocationHit(*row[:15])
        evse = evses.get(row[15])
        if evse is None:
            evse = evses[row[15]] = EvseHit(row[16], row[17], row[18], bool(row[19]))
            hit.evses.append(evse)
        evse.connectors.append(ConnectorHit(row[20], row[21], row[22], _ids(row[23])))
    return hits


def _ids(raw: str | list[str] | None) -> tuple[str, ...]:
    # The text of the JSON column where the driver hands it over (SQLite), parsed here much
    # faster than by the column type; asyncpg decodes json columns itself.
    if isinstance(raw, str):
        raw = orjson.loads(raw)
    return tuple(raw or ())


# --- prices ----------------------------------------------------------------------------------

Known = dict[tuple[str, str], tuple[TariffVersion, TariffTerms]]  # (party pk, tariff id) ->


async def _load_tariffs(conn: AsyncConnection, hits: Sequence[LocationHit]) -> Known:
    """The tariffs the hits' connectors name, in our currency, parsed once per version."""
    ids = {t for h in hits for e in h.evses for c in e.connectors for t in c.tariff_ids}
    if not ids:
        return {}
    parties = _in_params("party", sorted({h.party_pk for h in hits}))
    tariffs = _in_params("tariff", sorted(ids))
    rows = await conn.execute(
        _stmt("tariffs", None, len(parties), len(tariffs)), {**parties, **tariffs}
    )
    known: Known = {}
    for pk, party_pk, tariff_id, updated, currency, data in rows:
        terms = parsed_tariff((pk, updated), data) if currency == CURRENCY else None
        if terms is not None and terms.currency == CURRENCY:
            known[(party_pk, ci_key(tariff_id))] = ((pk, updated), terms)  # CiStrings
    return known


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _price(
    hit: LocationHit,
    known: Known,
    window: tuple[datetime, datetime],
    fee: Decimal,
    commission_percent: Decimal,
) -> None:
    """Each EVSE: the one estimate (``services/estimates.py``), as a booking of it would be
    quoted; the location: its cheapest EVSE with a known tariff, else the platform's fee."""
    zone = _zone(hit.time_zone)
    local = (window[0].astimezone(zone), window[1].astimezone(zone))

    def known_here(tariff_id: str) -> tuple[TariffVersion, TariffTerms] | None:
        return known.get((hit.party_pk, ci_key(tariff_id)))

    cheapest: Estimate | None = None
    for evse in hit.evses:
        terms = [ConnectorTerms(c.connector_id, c.power_kw, c.tariff_ids) for c in evse.connectors]
        estimate = estimate_evse(terms, known_here, window, local, fee, commission_percent)
        evse.price, evse.tariff_id = estimate.quote, estimate.tariff_id
        if estimate.tariff_id is not None and (
            cheapest is None or estimate.client_price < cheapest.client_price
        ):
            cheapest = estimate
    if cheapest is None:
        hit.price, hit.tariff_id = shared_quote(Decimal(0), fee, commission_percent, CURRENCY), None
    else:
        hit.price, hit.tariff_id = cheapest.quote, cheapest.tariff_id


def _per_cpo(hits: Sequence[LocationHit]) -> dict[str, dict[str, Any]]:
    """Per CPO: how many of the results it gave and how fresh its data is."""
    per: dict[str, dict[str, Any]] = {}
    for hit in hits:
        stats = per.setdefault(
            hit.cpo_party_id,
            {
                "cpo_name": hit.cpo_name,
                "results": 0,
                "data_updated_at": hit.last_updated,
                "last_sync_at": hit.cpo_last_sync_at,
            },
        )
        stats["results"] += 1
        stats["data_updated_at"] = max(stats["data_updated_at"], hit.last_updated)
    return per
