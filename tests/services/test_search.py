"""Search: the indexed search gives exactly what a naive full scan gives, on both databases.

The reference below reads every row and applies the documented rules in plain Python; it
shares nothing with the service except the distance formula. Randomized catalogues put
locations in clusters, on band borders, on top of each other, next to a pole and across the
antimeridian; queries probe radius edges (a radius equal to a location's distance) and
points on band borders.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.migrate import alembic_config, upgrade
from chargebook.db.models import Booking, Connector, Evse, Location, Tariff
from chargebook.domain.geo import EARTH_RADIUS_KM, cap_box, haversine_km
from chargebook.domain.geocells import bands_between, lat_band
from chargebook.domain.lifecycle import LIVE_STATES, BookingStatus
from chargebook.services.catalogue import (
    OUT_OF_SERVICE,
    ensure_party,
    seed_catalogue,
    store_location,
)
from chargebook.services.clients import create_client
from chargebook.services.pricing import quote
from chargebook.services.search import SearchQuery, SearchResult, default_window, search_locations
from tests.factories import unique_party_id

EXAMPLES = Path(__file__).parents[1] / "data" / "ocpi-examples" / "2.2.1"
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
STATUSES = ["AVAILABLE"] * 6 + [
    "CHARGING",
    "BLOCKED",
    "INOPERATIVE",
    "OUTOFORDER",
    "PLANNED",
    "REMOVED",
]
STANDARDS = ["IEC_62196_T2", "IEC_62196_T2_COMBO", "CHADEMO"]
POWERS_W = [3700, 11000, 22000, 50000, 150000, 300000]
CENTRES = [
    (52.52, 13.405),
    (48.1351, 11.582),
    (0.0, 0.0),
    (89.995, 40.0),
    (-89.99, -120.0),
    (10.0, 179.998),
    (-5.0, -179.997),
    (60.005, 24.995),
]


# --- randomized catalogues -------------------------------------------------------------------


def _random_connector(rng: random.Random, n: int) -> dict[str, Any]:
    watts = rng.choice(POWERS_W)
    return {
        "id": str(n),
        "standard": rng.choice(STANDARDS),
        "format": "CABLE",
        "power_type": "DC",
        "max_voltage": 400,
        "max_amperage": 32,
        "max_electric_power": watts,
        "last_updated": "2030-01-01T00:00:00Z",
    }


def _random_evse(rng: random.Random, uid: str) -> dict[str, Any]:
    return {
        "uid": uid,
        "evse_id": uid,
        "status": rng.choice(STATUSES),
        "capabilities": ["RESERVABLE"] if rng.random() < 0.75 else [],
        # Some EVSEs have no connector at all: search never lists them.
        "connectors": [
            _random_connector(rng, n) for n in range(1, rng.choice([0, 1, 1, 1, 2, 3]) + 1)
        ],
        "last_updated": "2030-01-01T00:00:00Z",
    }


def _point(rng: random.Random, seen: list[tuple[float, float]]) -> tuple[float, float]:
    roll = rng.random()
    if seen and roll < 0.05:
        return rng.choice(seen)  # the very same point as another location: ties
    lat0, lng0 = rng.choice(CENTRES)
    if roll < 0.15:
        lat = round(lat0 + rng.randint(-3, 3) / 100, 2)  # exactly on a band border
    else:
        lat = lat0 + rng.gauss(0, 0.03)
    lat = max(-90.0, min(90.0, lat))  # valid WGS 84 only (OCPI's pattern would allow 99.9)
    lng = lng0 + rng.gauss(0, 0.05)
    lng = (lng + 180) % 360 - 180
    return round(lat, 6), round(lng, 6)


def catalogue(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    seen: list[tuple[float, float]] = []
    out = []
    for n in range(count):
        lat, lng = _point(rng, seen)
        seen.append((lat, lng))
        out.append(
            {
                "country_code": "DE",
                "party_id": "RND",
                "id": f"L{seed}-{n:04d}",
                "publish": rng.random() < 0.93,
                "name": f"loc {n}",
                "address": "Weg 1",
                "city": "X",
                "postal_code": "10000",
                "country": "DEU",
                "coordinates": {"latitude": f"{lat:.6f}", "longitude": f"{lng:.6f}"},
                "time_zone": "Europe/Berlin",
                "last_updated": "2030-01-01T00:00:00Z",
                "evses": [
                    _random_evse(rng, f"L{seed}-{n:04d}-E{e}") for e in range(rng.randint(1, 4))
                ],
            }
        )
    return out


async def add_bookings(db: Database, seed: int, share: float = 0.4) -> None:
    rng = random.Random(seed)
    client, _ = await create_client(db, "search-bookings")
    async with db.write() as session:
        evses = (await session.execute(select(Evse.pk, Evse.uid))).all()
        for n, (pk, uid) in enumerate(evses):
            if rng.random() > share:
                continue
            for k in range(rng.randint(1, 2)):
                start = T0 + timedelta(minutes=15 * rng.randint(0, 24))
                session.add(
                    Booking(
                        id=f"bk-{seed}-{n}-{k}",
                        client_id=client.id,
                        request_hash="x",
                        evse_pk=pk,
                        location_id="-",
                        evse_uid=uid,
                        reservation_start=start,
                        reservation_end=start + timedelta(minutes=rng.choice([30, 60, 120])),
                        token_strategy="pipelet",
                        token_uid="04A2B3C4",
                        status=rng.choice(list(BookingStatus)).value,
                        status_updated_at=T0,
                        created_at=T0,
                    )
                )


# --- the naive reference ---------------------------------------------------------------------


@dataclass
class Snapshot:
    locations: list[tuple[int, str, float, float, bool]]
    evses: dict[int, list[tuple[int, str, str, bool]]]
    connectors: dict[int, list[tuple[int, str, str, float]]]
    bookings: dict[int, list[tuple[str, datetime, datetime]]]


async def snapshot(db: Database) -> Snapshot:
    async with db.read() as s:
        locs = [
            tuple(r)
            for r in await s.execute(
                select(
                    Location.pk,
                    Location.id,
                    Location.latitude,
                    Location.longitude,
                    Location.publish,
                )
            )
        ]
        evses: dict[int, list[Any]] = {}
        for pk, loc, uid, status, reservable in await s.execute(
            select(Evse.pk, Evse.location_pk, Evse.uid, Evse.status, Evse.reservable).order_by(
                Evse.pk
            )
        ):
            evses.setdefault(loc, []).append((pk, uid, status, reservable))
        conns: dict[int, list[Any]] = {}
        for pk, evse, cid, std, power in await s.execute(
            select(
                Connector.pk,
                Connector.evse_pk,
                Connector.id,
                Connector.standard,
                Connector.power_kw,
            ).order_by(Connector.pk)
        ):
            conns.setdefault(evse, []).append((pk, cid, std, power))
        books: dict[int, list[Any]] = {}
        for evse, status, start, end in await s.execute(
            select(
                Booking.evse_pk, Booking.status, Booking.reservation_start, Booking.reservation_end
            )
        ):
            books.setdefault(evse, []).append((status, start, end))
    return Snapshot(locs, evses, conns, books)  # type: ignore[arg-type]


Listed = list[tuple[str, list[str]]]


def naive(snap: Snapshot, q: SearchQuery) -> tuple[list[tuple[str, float, Listed]], int]:
    live = {s.value for s in LIVE_STATES}
    matches: list[tuple[float, int, str, Listed]] = []
    for pk, loc_id, lat, lng, publish in snap.locations:
        distance = haversine_km(q.lat, q.lng, lat, lng)
        if not publish or distance > q.radius_km:
            continue
        listed: Listed = []
        for evse_pk, uid, status, reservable in snap.evses.get(pk, []):
            if q.start_time is not None and q.end_time is not None:
                # Within the CPO's reserve lead time (60 minutes here) the request goes out
                # at once, so only an EVSE that is AVAILABLE now is offered.
                if (
                    not reservable
                    or status in OUT_OF_SERVICE
                    or (status != "AVAILABLE" and q.start_time - timedelta(minutes=60) <= T0)
                    or any(
                        s in live and start < q.end_time and end > q.start_time
                        for s, start, end in snap.bookings.get(evse_pk, [])
                    )
                ):
                    continue
            elif status == "REMOVED":
                continue
            connectors = [
                cid
                for _, cid, std, power in snap.connectors.get(evse_pk, [])
                if (q.connector_type is None or std == q.connector_type)
                and (q.power_min_kw is None or power >= q.power_min_kw)
            ]
            if connectors:
                listed.append((uid, connectors))
        if listed:
            matches.append((distance, pk, loc_id, listed))
    matches.sort(key=lambda m: (m[0], m[1]))
    return [(loc_id, d, listed) for d, _, loc_id, listed in matches[: q.limit]], len(matches)


def observed(result: SearchResult) -> list[tuple[str, float, Listed]]:
    return [
        (
            h.location_id,
            h.distance_km,
            [(e.uid, [c.connector_id for c in e.connectors]) for e in h.evses],
        )
        for h in result.hits
    ]


def random_query(rng: random.Random, snap: Snapshot) -> SearchQuery:
    lat0, lng0 = rng.choice(CENTRES)
    lat = lat0 + rng.gauss(0, 0.04)
    if rng.random() < 0.2:
        lat = round(lat, 2)  # on a band border
    lat = max(-90.0, min(90.0, lat))
    lng = (lng0 + rng.gauss(0, 0.06) + 180) % 360 - 180
    # 400 km: a cap too tall for one seek per band (read as one band range instead).
    radius = rng.choice([0.1, 0.5, 1.0, 2.0, 5.0, 20.0, 200.0, 400.0])
    if rng.random() < 0.25:
        # A radius exactly at some location's distance: that location is in.
        near = [
            d
            for _, _, la, ln, _ in snap.locations
            if 0 < (d := haversine_km(lat, lng, la, ln)) <= 200
        ]
        radius = rng.choice(near) if near else radius
    window = rng.random() < 0.4
    start = T0 + timedelta(minutes=15 * rng.randint(0, 24))
    return SearchQuery(
        lat=lat,
        lng=lng,
        radius_km=radius,
        connector_type=rng.choice([None, None, None, *STANDARDS]),
        power_min_kw=rng.choice([None, None, 0.0, 22.0, 50.0, 150.0, 300.0]),
        start_time=start if window else None,
        end_time=start + timedelta(minutes=rng.choice([30, 60, 240])) if window else None,
        limit=rng.choice([1, 3, 5, 20, 100]),
    )


async def assert_same_as_naive(db: Database, seed: int, queries: int) -> None:
    snap = await snapshot(db)
    rng = random.Random(seed)
    for n in range(queries):
        q = random_query(rng, snap)
        expected, expected_total = naive(snap, q)
        result = await search_locations(db, q, now=T0)
        assert observed(result) == expected, (n, q)
        assert len(result.hits) <= result.total <= expected_total, (n, q)
        if result.total_exact:
            assert result.total == expected_total, (n, q)
        else:
            assert len(result.hits) == q.limit, (n, q)


async def test_same_results_as_a_naive_scan_on_random_catalogues(fresh_db: Database) -> None:
    locations = catalogue(seed=1, count=350)
    await seed_catalogue(fresh_db, "DE", "RND", "Random CPO", locations)
    await add_bookings(fresh_db, seed=1)
    await assert_same_as_naive(fresh_db, seed=11, queries=250)
    # Writes keep the index right: statuses change, EVSEs leave, locations are unpublished.
    rng = random.Random(2)
    changed = rng.sample(locations, 100)
    for loc in changed:
        for evse in loc["evses"]:
            evse["status"] = rng.choice(STATUSES)
        if rng.random() < 0.3:
            loc["evses"] = loc["evses"][1:]
        if rng.random() < 0.2:
            loc["publish"] = not loc["publish"]
    await seed_catalogue(fresh_db, "DE", "RND", "Random CPO", changed)
    await assert_same_as_naive(fresh_db, seed=12, queries=120)


async def test_total_is_exact_when_the_radius_was_searched(fresh_db: Database) -> None:
    await seed_catalogue(fresh_db, "DE", "RND", "Random CPO", catalogue(seed=3, count=150))
    q = SearchQuery(lat=52.52, lng=13.405, radius_km=200, limit=100)
    result = await search_locations(fresh_db, q)
    expected, total = naive(await snapshot(fresh_db), q)
    assert result.total_exact and result.total == total and observed(result) == expected
    # The nearest few are certain long before the radius is: total is then a lower bound.
    few = await search_locations(
        fresh_db, SearchQuery(lat=52.52, lng=13.405, radius_km=200, limit=2)
    )
    assert not few.total_exact and 2 <= few.total < total


async def test_migration_backfills_the_index_columns(fresh_database_url: str) -> None:
    db = Database(fresh_database_url)
    try:
        await seed_catalogue(db, "DE", "RND", "Random CPO", catalogue(seed=4, count=120))
        columns = select(
            Location.pk, Location.lat_band, Location.search_power_kw, Location.bookable_power_kw
        )
        async with db.read() as s:
            before = sorted((await s.execute(columns)).all())
        await db.dispose()
        command.downgrade(alembic_config(fresh_database_url), "0002")
        upgrade(fresh_database_url)
        async with db.read() as s:
            after = sorted((await s.execute(columns)).all())
        assert after == before
        assert any(row[2] is None for row in before) and any(row[3] is not None for row in before)
    finally:
        await db.dispose()


# --- filters, window and price, on the shared database ----------------------------------------


def _site(lat: float, lng: float, evses: list[dict[str, Any]], party: str) -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": party,
        "id": f"{party}-{lat:.4f}",
        "publish": True,
        "name": "site",
        "address": "Weg 1",
        "city": "Y",
        "postal_code": "1",
        "country": "DEU",
        "coordinates": {"latitude": f"{lat:.6f}", "longitude": f"{lng:.6f}"},
        "time_zone": "Europe/Berlin",
        "evses": evses,
        "last_updated": "2030-01-01T00:00:00Z",
    }


def _evse(
    uid: str,
    watts: int,
    standard: str = "IEC_62196_T2",
    status: str = "AVAILABLE",
    tariffs: list[str] | None = None,
    reservable: bool = True,
) -> dict[str, Any]:
    return {
        "uid": uid,
        "status": status,
        "capabilities": ["RESERVABLE"] if reservable else [],
        "connectors": [
            {
                "id": "1",
                "standard": standard,
                "format": "CABLE",
                "power_type": "DC",
                "max_electric_power": watts,
                "tariff_ids": tariffs or [],
                "last_updated": "2030-01-01T00:00:00Z",
            }
        ],
        "last_updated": "2030-01-01T00:00:00Z",
    }


def _spot() -> tuple[float, float, str]:
    """A place of this test's own on the shared database (an empty ocean), and a party."""
    rng = random.Random()
    return round(-30 - rng.random() * 20, 4), round(-100 + rng.random() * 60, 4), unique_party_id()


async def test_filters_and_window(db: Database) -> None:
    lat, lng, party = _spot()
    await seed_catalogue(
        db,
        "DE",
        party,
        "Filter CPO",
        [
            _site(lat, lng, [_evse("A1", 22000), _evse("A2", 150000, "IEC_62196_T2_COMBO")], party),
            _site(lat + 0.01, lng, [_evse("B1", 50000, "CHADEMO", status="OUTOFORDER")], party),
            _site(lat + 0.02, lng, [_evse("C1", 11000, reservable=False)], party),
        ],
    )

    async def ids(**kw: Any) -> list[tuple[str, list[str]]]:
        result = await search_locations(db, SearchQuery(lat=lat, lng=lng, radius_km=5, **kw))
        return [(h.location_id, [e.uid for e in h.evses]) for h in result.hits]

    a, b, c = (f"{party}-{lat + d:.4f}" for d in (0, 0.01, 0.02))
    assert await ids() == [(a, ["A1", "A2"]), (b, ["B1"]), (c, ["C1"])]
    assert await ids(power_min_kw=50) == [(a, ["A2"]), (b, ["B1"])]
    assert await ids(connector_type="CHADEMO") == [(b, ["B1"])]
    assert await ids(connector_type="IEC_62196_T2", power_min_kw=20) == [(a, ["A1"])]
    start = T0 + timedelta(hours=1)
    window = {"start_time": start, "end_time": start + timedelta(hours=1)}
    assert await ids(**window) == [(a, ["A1", "A2"])]  # out of order, not reservable: gone
    # A live booking hides its EVSE for overlapping windows only; a cancelled one does not.
    client, _ = await create_client(db, "filters")
    async with db.write() as session:
        a1 = await session.scalar(
            select(Evse.pk)
            .join(Location)
            .where(Location.id == f"{party}-{lat:.4f}", Evse.uid == "A1")
        )
        for n, (status, offset) in enumerate([("CONFIRMED", 30), ("CANCELLED", 0)]):
            session.add(
                Booking(
                    id=f"bk-{party}-{n}",
                    client_id=client.id,
                    request_hash="x",
                    evse_pk=a1,
                    location_id="-",
                    evse_uid="A1",
                    reservation_start=start + timedelta(minutes=offset),
                    reservation_end=start + timedelta(minutes=offset + 60),
                    token_strategy="pipelet",
                    token_uid="04A2B3C4",
                    status=status,
                    status_updated_at=T0,
                    created_at=T0,
                )
            )
    assert await ids(**window) == [(a, ["A2"])]
    later = {
        "start_time": start + timedelta(minutes=90),
        "end_time": start + timedelta(minutes=120),
    }
    assert await ids(**later) == [(a, ["A1", "A2"])]  # back to back with the booking: free


async def test_estimated_price_uses_the_connectors_tariff(db: Database) -> None:
    lat, lng, party = _spot()
    tariff = json.loads((EXAMPLES / "tariff_15_reservation_5_euro_per_hour.json").read_text())
    tariff.update(party_id=party, last_updated="2030-01-01T00:00:00Z")
    await seed_catalogue(
        db,
        "DE",
        party,
        "Tariff CPO",
        [
            _site(
                lat,
                lng,
                [_evse("P1", 22000, tariffs=["20"]), _evse("P2", 22000, tariffs=["missing"])],
                party,
            ),
        ],
    )
    async with db.write() as session:
        row = await ensure_party(session, "DE", party, "Tariff CPO")
        session.add(Tariff(party_pk=row.id, id="20", currency="EUR", data=tariff, last_updated=T0))
    start = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
    q = SearchQuery(
        lat=lat, lng=lng, radius_km=1, start_time=start, end_time=start + timedelta(hours=1)
    )
    result = await search_locations(
        db, q, reservation_fee=Decimal("2.50"), commission_percent=Decimal("10")
    )
    (hit,) = result.hits
    # Reservation: 1 h at 5.00 + 20 % VAT = 6.00. Charging 1 h at 22 kW: 0.50 + 20 % = 0.60
    # flat, 22 kWh at 0.25 + 10 % = 6.05. CPO cost 12.65; + fee 2.50 + 10 % commission 1.27.
    p1, p2 = hit.evses
    assert (
        p1.tariff_id == "20" and p1.price is not None and p1.price.client_price == Decimal("16.42")
    )
    assert p1.price.cpo_cost == Decimal("12.65")
    # Unknown tariff: what the platform charges on its own (fee + commission on 0).
    assert p2.tariff_id is None and p2.price == quote(Decimal(0), Decimal("2.50"), Decimal("10"))
    # The location shows the cheapest EVSE that has a known tariff.
    assert hit.tariff_id == "20" and hit.price == p1.price
    # Without a window the estimate is for the default hour (and still uses the tariff).
    plain = await search_locations(db, SearchQuery(lat=lat, lng=lng, radius_km=1), now=T0)
    assert plain.window == default_window(T0) and plain.hits[0].tariff_id == "20"


def test_default_window_is_the_next_quarter_hour_at_least_15_minutes_ahead() -> None:
    at = datetime(2030, 1, 1, 10, 0, 30, tzinfo=UTC)
    assert default_window(at) == (
        datetime(2030, 1, 1, 10, 30, tzinfo=UTC),
        datetime(2030, 1, 1, 11, 30, tzinfo=UTC),
    )
    exact = datetime(2030, 1, 1, 10, 0, tzinfo=UTC)
    assert default_window(exact)[0] == datetime(2030, 1, 1, 10, 15, tzinfo=UTC)


async def test_store_location_keeps_the_index_columns(db: Database) -> None:
    lat, lng, party = _spot()
    site = _site(lat, lng, [_evse("S1", 22000), _evse("S2", 150000, status="OUTOFORDER")], party)
    async with db.write() as session:
        row = await store_location(
            session, await ensure_party(session, "DE", party, "Idx CPO"), site
        )
        assert (row.lat_band, row.search_power_kw, row.bookable_power_kw) == (
            lat_band(lat),
            150.0,
            22.0,
        )
        site["evses"] = site["evses"][1:]  # S1 leaves: REMOVED, no longer counted
        row = await store_location(
            session, await ensure_party(session, "DE", party, "Idx CPO"), site
        )
        assert (row.search_power_kw, row.bookable_power_kw) == (150.0, None)
        site["publish"] = False
        row = await store_location(
            session, await ensure_party(session, "DE", party, "Idx CPO"), site
        )
        assert (row.search_power_kw, row.bookable_power_kw) == (None, None)


# --- the geometry the index relies on ---------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-90, 90),
    lng=st.floats(-180, 180),
    radius=st.floats(0.01, 300),
    bearing=st.floats(0, 2 * math.pi),
    share=st.floats(0, 1),
)
def test_cap_box_holds_every_point_within_the_radius(
    lat: float, lng: float, radius: float, bearing: float, share: float
) -> None:
    # A point at distance share * radius in any direction (the direct geodesic problem).
    d = share * radius / EARTH_RADIUS_KM
    p1, l1 = math.radians(lat), math.radians(lng)
    p2 = math.asin(
        max(
            -1.0,
            min(1.0, math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing)),
        )
    )
    l2 = l1 + math.atan2(
        math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    plat, plng = math.degrees(p2), (math.degrees(l2) + 180) % 360 - 180
    if haversine_km(lat, lng, plat, plng) > radius:
        return  # float noise put it just outside: nothing to hold
    box = cap_box(lat, lng, radius)
    assert box.min_lat <= plat <= box.max_lat
    assert (
        any(w <= plng <= e for w, e in box.lng_ranges)
        or abs(plng) == 180
        and any(w <= -plng <= e for w, e in box.lng_ranges)
    )
    assert lat_band(plat) in bands_between(box.min_lat, box.max_lat)
