"""`GET /search` over HTTP against a real server, on both databases."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from chargebook.db.engine import Database
from chargebook.db.models import Tariff
from chargebook.services.catalogue import ensure_party
from tests.conftest import LiveServer
from tests.factories import Site, api, evse, make_client, make_site, window, with_db

EXAMPLES = Path(__file__).parents[1] / "data" / "ocpi-examples" / "2.2.1"


@pytest.fixture
def http(live: LiveServer, database_url: str) -> Iterator[httpx.Client]:
    _, key = make_client(
        database_url, reservation_fee=Decimal("2.50"), commission_percent=Decimal("10")
    )
    with api(live.client_base, key) as client:
        yield client


@pytest.fixture
def sites(database_url: str) -> list[Site]:
    """Three sites of their own (an empty stretch of ocean), about 0.1, 0.4 and 1 km from
    the first one's coordinates, farthest created first."""
    rng = random.Random()
    lat, lng = round(-30 - rng.random() * 20, 4), round(-100 + rng.random() * 60, 4)
    made = [
        make_site(
            database_url,
            lat=lat + offset,
            lng=lng,
            city=f"Ocean {n}",
            evses=[
                evse(f"E{n}-1"),
                evse(f"E{n}-2", power_w=150000, standard="IEC_62196_T2_COMBO"),
            ],
        )
        for n, offset in ((3, 0.009), (2, 0.004), (1, 0.001))
    ]
    return list(reversed(made))


def _search(http: httpx.Client, site: Site, **params: Any) -> httpx.Response:
    return http.get(
        "/search", params={"lat": site.lat - 0.001, "lng": site.lng, "radius": 2, **params}
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lat": 91, "lng": 0}, "Invalid latitude: must be between -90 and 90"),
        ({"lat": -90.5, "lng": 0}, "Invalid latitude: must be between -90 and 90"),
        ({"lat": "nan", "lng": 0}, "Invalid latitude: must be between -90 and 90"),
        ({"lat": 0, "lng": 180.5}, "Invalid longitude: must be between -180 and 180"),
        ({"lat": 0, "lng": 0, "radius": 0.05}, "Invalid radius: must be between 0.1 and 200"),
        ({"lat": 0, "lng": 0, "radius": 201}, "Invalid radius: must be between 0.1 and 200"),
        ({"lat": 0, "lng": 0, "limit": 0}, "Invalid limit: must be between 1 and 100"),
        ({"lat": 0, "lng": 0, "limit": 101}, "Invalid limit: must be between 1 and 100"),
        ({"lat": 0, "lng": 0, "power_min": -1}, "Invalid power_min: must be between 0 and 1000"),
        (
            {"lat": 0, "lng": 0, "power_min": 1000.5},
            "Invalid power_min: must be between 0 and 1000",
        ),
        (
            {"lat": 0, "lng": 0, "start_time": "2030-01-01T10:00:00Z"},
            "Invalid time window: start_time and end_time go together",
        ),
        (
            {
                "lat": 0,
                "lng": 0,
                "start_time": "2030-01-01T10:00:00Z",
                "end_time": "2030-01-01T10:00:00Z",
            },
            "Invalid time window: end_time must be after start_time",
        ),
        (
            {
                "lat": 0,
                "lng": 0,
                "start_time": "2030-01-01T10:00:00Z",
                "end_time": "2030-01-02T10:01:00Z",
            },
            "Invalid time window: at most 24 hours",
        ),
        ({"lng": 0}, "lat is required"),
    ],
)
def test_invalid_parameters_are_400_in_ev_suite_style(
    http: httpx.Client, params: dict[str, Any], message: str
) -> None:
    r = http.get("/search", params=params)
    assert r.status_code == 400
    assert r.json() == {"error": message}


def test_unparseable_parameters_are_400_naming_the_field(http: httpx.Client) -> None:
    for params, field in (
        ({"lat": "north", "lng": 0}, "lat"),
        ({"lat": 0, "lng": 0, "limit": "ten"}, "limit"),
        ({"lat": 0, "lng": 0, "start_time": "soon", "end_time": "later"}, "start_time"),
    ):
        r = http.get("/search", params=params)
        assert r.status_code == 400 and r.json()["error"].startswith(f"{field}: "), r.text


def test_response_shape_and_nearest_first(http: httpx.Client, sites: list[Site]) -> None:
    r = _search(http, sites[0])
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"total", "total_exact", "results", "cpo_results", "pricing_window"}
    assert body["total"] == 3 and body["total_exact"] is True
    results = body["results"]
    assert [x["location_id"] for x in results] == [s.location_id for s in sites]
    distances = [x["distance_km"] for x in results]
    assert distances == sorted(distances) and distances[0] == 0.11 and distances[2] == 1.0
    first = results[0]
    assert set(first) >= {
        "location_id",
        "name",
        "address",
        "city",
        "postal_code",
        "coordinates",
        "distance_km",
        "cpo_name",
        "cpo_party_id",
        "supports_reservation",
        "evses",
        "pricing",
    }
    assert first["coordinates"] == {
        "latitude": round(sites[0].lat, 6),
        "longitude": round(sites[0].lng, 6),
    }
    assert first["cpo_party_id"] == sites[0].party_id and first["supports_reservation"] is True
    assert first["city"] == "Ocean 1"
    assert [e["evse_uid"] for e in first["evses"]] == sites[0].evse_uids
    e1, e2 = first["evses"]
    assert e1["status"] == "AVAILABLE" and e1["reservable"] is True
    assert e1["connectors"] == [
        {"connector_id": "1", "connector_type": "IEC_62196_T2", "power_kw": 22.0}
    ]
    assert e2["connectors"] == [
        {"connector_id": "1", "connector_type": "IEC_62196_T2_COMBO", "power_kw": 150.0}
    ]
    # No tariff known: the client's own fee plus commission on a CPO cost of 0.
    assert first["pricing"] == {
        "estimated_price": 2.5,
        "currency": "EUR",
        "booking_price": 2.5,
        "tariff_id": None,
    }
    assert e1["pricing"]["estimated_price"] == 2.5
    cpo = body["cpo_results"][sites[0].party_id]
    assert cpo["results"] == 1 and cpo["cpo_name"] == f"CPO {sites[0].party_id}"
    assert cpo["data_updated_at"] == "2026-01-01T00:00:00Z" and cpo["last_sync_at"] is None
    assert body["pricing_window"]["start_time"].endswith("Z")


def test_limit_radius_and_filters(http: httpx.Client, sites: list[Site]) -> None:
    two = _search(http, sites[0], limit=2).json()
    assert [x["location_id"] for x in two["results"]] == [s.location_id for s in sites[:2]]
    assert 2 <= two["total"] <= 3
    near = _search(http, sites[0], radius=0.5).json()
    assert [x["location_id"] for x in near["results"]] == [s.location_id for s in sites[:2]]
    assert near["total"] == 2 and near["total_exact"] is True
    fast = _search(http, sites[0], power_min=100).json()
    assert [[e["evse_uid"] for e in x["evses"]] for x in fast["results"]] == [
        [s.evse_uids[1]] for s in sites
    ]
    combo = _search(http, sites[0], connector_type="IEC_62196_T2").json()
    assert [[e["evse_uid"] for e in x["evses"]] for x in combo["results"]] == [
        [s.evse_uids[0]] for s in sites
    ]
    none = _search(http, sites[0], connector_type="CHADEMO").json()
    assert (none["total"], none["total_exact"], none["results"], none["cpo_results"]) == (
        0,
        True,
        [],
        {},
    )


def test_a_booked_evse_is_not_offered_for_an_overlapping_window(
    http: httpx.Client, sites: list[Site]
) -> None:
    start, end = window(start_in_minutes=120, minutes=60)
    booked = http.post(
        "/bookings",
        json={
            "location_id": sites[0].location_id,
            "evse_uid": sites[0].evse_uids[0],
            "reservation_start": start,
            "reservation_end": end,
        },
    )
    assert booked.status_code == 202, booked.text
    during = _search(http, sites[0], start_time=start, end_time=end).json()
    assert [e["evse_uid"] for e in during["results"][0]["evses"]] == [sites[0].evse_uids[1]]
    assert during["pricing_window"] == {"start_time": start, "end_time": end}
    after_start, after_end = window(start_in_minutes=180, minutes=30)
    after = _search(http, sites[0], start_time=after_start, end_time=after_end).json()
    assert [e["evse_uid"] for e in after["results"][0]["evses"]] == sites[0].evse_uids


def test_the_estimate_is_what_a_booking_then_quotes(http: httpx.Client, database_url: str) -> None:
    rng = random.Random()
    charger = evse("T-1")
    charger["connectors"][0]["tariff_ids"] = ["20"]
    site = make_site(
        database_url,
        lat=round(-30 - rng.random() * 20, 4),
        lng=round(-100 + rng.random() * 60, 4),
        evses=[charger],
    )
    tariff = json.loads((EXAMPLES / "tariff_15_reservation_5_euro_per_hour.json").read_text())
    tariff.update(party_id=site.party_id)

    async def store(db: Database) -> None:
        async with db.write() as session:
            party = await ensure_party(session, "DE", site.party_id, "unused")
            session.add(
                Tariff(
                    party_pk=party.id,
                    id="20",
                    currency="EUR",
                    data=tariff,
                    last_updated=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )

    with_db(database_url, store)
    start, end = window(start_in_minutes=120, minutes=60)
    found = http.get(
        "/search",
        params={
            "lat": site.lat,
            "lng": site.lng,
            "radius": 1,
            "start_time": start,
            "end_time": end,
        },
    ).json()
    pricing = found["results"][0]["pricing"]
    # 5.00/h reserved + 20 % VAT = 6.00; charging 22 kWh at 0.25 + 10 % and a 0.50 + 20 % flat
    # (6.65); CPO cost 12.65, fee 2.50, 10 % commission 1.27: one estimate, 16.42.
    assert pricing["tariff_id"] == "20" and pricing["estimated_price"] == 16.42
    assert pricing["booking_price"] == pricing["estimated_price"]
    booked = http.post(
        "/bookings",
        json={
            "location_id": site.location_id,
            "evse_uid": "T-1",
            "reservation_start": start,
            "reservation_end": end,
        },
    )
    assert booked.status_code == 202, booked.text
    assert booked.json()["client_price"] == pricing["estimated_price"]
    assert booked.json()["price_breakdown"]["cpo_cost"] == 12.65
