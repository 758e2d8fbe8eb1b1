"""`GET /search`: bookable chargers near a point, nearest first (docs/search.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import StringConstraints

from chargebook.api.deps import CurrentClient, Db
from chargebook.api.openapi import errors
from chargebook.api.search_schemas import CONNECTOR_TYPE_HELP, SearchResponse
from chargebook.api.wire import JSON, Iso8601, iso_z, money_number
from chargebook.domain.errors import InvalidRequest
from chargebook.ocpi.v230.locations import ConnectorType
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


def _range(low: float, high: float, example: float) -> dict[str, Any]:
    """Bounds for the document only: the handler checks them itself, to answer in EV Suite's
    words (`Invalid latitude: must be between -90 and 90`)."""
    return {"minimum": low, "maximum": high, "examples": [example]}


OpenConnectorType = ConnectorType | Annotated[str, StringConstraints(max_length=40)]


@router.get(
    "/search",
    response_model=SearchResponse,
    responses=errors(400, notes={400: "A parameter out of range or an invalid time window; the "
                                      "message names it: `Invalid latitude: must be between -90 and 90`."}),
    summary="Search bookable chargers near a point, nearest first, each with a price estimate",
)
async def search(
    client: CurrentClient,
    db: Db,
    lat: Annotated[float, Query(description="Latitude, -90..90", json_schema_extra=_range(-90, 90, 52.52))],
    lng: Annotated[float, Query(description="Longitude, -180..180", json_schema_extra=_range(-180, 180, 13.405))],
    radius: Annotated[float, Query(description="km, 0.1..200", json_schema_extra=_range(0.1, MAX_RADIUS_KM, 10))] = 50.0,
    connector_type: Annotated[
        OpenConnectorType | None,
        Query(description=f"Only connectors of this type. {CONNECTOR_TYPE_HELP}", examples=["IEC_62196_T2_COMBO"]),
    ] = None,
    power_min: Annotated[float | None, Query(
        description="Only connectors of at least this power, kW, 0..1000",
        json_schema_extra=_range(0, MAX_POWER_KW, 50))] = None,
    start_time: Annotated[Annotated[datetime, Iso8601] | None, Query(
        description="ISO 8601 (UTC when the offset is left out); with end_time: only EVSEs free "
                    "for the whole window are listed", examples=["2026-11-24T20:22:00Z"])] = None,
    end_time: Annotated[Annotated[datetime, Iso8601] | None, Query(
        description="ISO 8601; after start_time and at most 24 h after it",
        examples=["2026-11-24T21:22:00Z"])] = None,
    limit: Annotated[int, Query(description="Locations returned, 1..100",
                                json_schema_extra=_range(1, MAX_LIMIT, 20))] = 20,
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
            connector_type=str(connector_type) if connector_type else None,
            power_min_kw=power_min,
            start_time=start,
            end_time=end,
            limit=limit,
            contract_client_id=None if client.all_cpos else client.id,
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


def _pricing(price: Quote | None, tariff_id: str | None) -> dict[str, Any]:
    assert price is not None
    estimate = money_number(price.client_price)
    # A booking is quoted this same estimate; booking_price stays for clients that read it.
    return {"estimated_price": estimate, "currency": price.currency, "booking_price": estimate,
            "tariff_id": tariff_id}


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
        "pricing": _pricing(e.price, e.tariff_id),
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
        "cpo_country_code": h.cpo_country_code,
        "supports_reservation": h.supports_reservation,
        "evses": [_evse(e) for e in h.evses],
        "pricing": _pricing(h.price, h.tariff_id),
    }
