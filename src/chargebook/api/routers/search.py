"""`GET /search`: bookable chargers near a point, nearest first (docs/search.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from chargebook.api.deps import CurrentClient, Db
from chargebook.api.schemas import ERRORS
from chargebook.api.wire import JSON, iso_z, money_number
from chargebook.domain.errors import InvalidRequest
from chargebook.services.pricing import Quote
from chargebook.services.search import EvseHit, LocationHit, SearchQuery, search_locations

router = APIRouter(tags=["search"])

MAX_RADIUS_KM = 200.0
MAX_LIMIT = 100
MAX_POWER_KW = 1000.0
#: A search window longer than a day says nothing useful about a booking (CPOs allow a few
#: hours) and would make every price estimate walk a long tariff calendar.
MAX_WINDOW = timedelta(hours=24)


def _check_range(label: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:  # NaN fails too
        raise InvalidRequest(f"Invalid {label}: must be between {low:g} and {high:g}")


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _window(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    start, end = _aware(start), _aware(end)
    if (start is None) != (end is None):
        raise InvalidRequest("Invalid time window: start_time and end_time go together")
    if start is not None and end is not None:
        if end <= start:
            raise InvalidRequest("Invalid time window: end_time must be after start_time")
        if end - start > MAX_WINDOW:
            raise InvalidRequest("Invalid time window: at most 24 hours")
    return start, end


@router.get("/search", responses=ERRORS, summary="Search chargers near a point, nearest first")
async def search(
    client: CurrentClient,
    db: Db,
    lat: Annotated[float, Query(description="Latitude, -90..90")],
    lng: Annotated[float, Query(description="Longitude, -180..180")],
    radius: Annotated[float, Query(description="km, 0.1..200")] = 50.0,
    connector_type: Annotated[
        str | None, Query(max_length=40, description="OCPI ConnectorType")
    ] = None,
    power_min: Annotated[float | None, Query(description="kW, 0..1000")] = None,
    start_time: Annotated[datetime | None, Query(description="ISO 8601; with end_time")] = None,
    end_time: Annotated[
        datetime | None, Query(description="ISO 8601; at most 24 h after start_time")
    ] = None,
    limit: Annotated[int, Query(description="locations returned, 1..100")] = 20,
) -> JSON:
    _check_range("latitude", lat, -90, 90)
    _check_range("longitude", lng, -180, 180)
    _check_range("radius", radius, 0.1, MAX_RADIUS_KM)
    _check_range("limit", limit, 1, MAX_LIMIT)
    if power_min is not None:
        _check_range("power_min", power_min, 0, MAX_POWER_KW)
    start, end = _window(start_time, end_time)
    result = await search_locations(
        db,
        SearchQuery(
            lat=lat,
            lng=lng,
            radius_km=radius,
            connector_type=connector_type or None,
            power_min_kw=power_min,
            start_time=start,
            end_time=end,
            limit=limit,
        ),
        reservation_fee=client.reservation_fee,
        commission_percent=client.commission_percent,
    )
    return JSON(
        {
            "total": result.total,
            "total_exact": result.total_exact,
            "results": [_location(h) for h in result.hits],
            "cpo_results": {
                party_id: {
                    "cpo_name": stats["cpo_name"],
                    "results": stats["results"],
                    "data_updated_at": iso_z(stats["data_updated_at"]),
                    "last_sync_at": iso_z(stats["last_sync_at"]) if stats["last_sync_at"] else None,
                }
                for party_id, stats in result.per_cpo.items()
            },
            "pricing_window": {
                "start_time": iso_z(result.window[0]),
                "end_time": iso_z(result.window[1]),
            },
        }
    )


def _pricing(
    price: Quote | None, booking_price: Quote | None, tariff_id: str | None
) -> dict[str, Any]:
    assert price is not None and booking_price is not None
    return {
        "estimated_price": money_number(price.client_price),
        "currency": price.currency,
        "booking_price": money_number(booking_price.client_price),
        "tariff_id": tariff_id,
    }


def _evse(e: EvseHit) -> dict[str, Any]:
    return {
        "evse_uid": e.uid,
        "evse_id": e.evse_id,
        "status": e.status,
        "reservable": e.reservable,
        "connectors": [
            {"connector_id": c.connector_id, "connector_type": c.standard, "power_kw": c.power_kw}
            for c in e.connectors
        ],
        "pricing": _pricing(e.price, e.booking_price, e.tariff_id),
    }


def _location(h: LocationHit) -> dict[str, Any]:
    return {
        "location_id": h.location_id,
        "name": h.name,
        "address": h.address,
        "city": h.city,
        "postal_code": h.postal_code,
        "coordinates": {"latitude": h.latitude, "longitude": h.longitude},
        "distance_km": round(h.distance_km, 2),
        "cpo_name": h.cpo_name,
        "cpo_party_id": h.cpo_party_id,
        "supports_reservation": h.supports_reservation,
        "evses": [_evse(e) for e in h.evses],
        "pricing": _pricing(h.price, h.booking_price, h.tariff_id),
    }
