"""`GET /search`: bookable chargers near a point, nearest first."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query

from chargebook.api.deps import CurrentClient, Db
from chargebook.api.schemas import ERRORS
from chargebook.api.wire import iso_z
from chargebook.domain.errors import InvalidRequest
from chargebook.services.pricing import quote
from chargebook.services.search import SearchQuery, search_locations

router = APIRouter(tags=["search"])

MAX_RADIUS_KM = 200.0


def _check_range(name: str, label: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise InvalidRequest(f"Invalid {label}: must be between {low:g} and {high:g}")


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@router.get("/search", responses=ERRORS, summary="Search chargers near a point, nearest first")
async def search(
    client: CurrentClient,
    db: Db,
    lat: Annotated[float, Query(description="Latitude, -90..90")],
    lng: Annotated[float, Query(description="Longitude, -180..180")],
    radius: Annotated[float, Query(description="km, default 50, max 200")] = 50.0,
    connector_type: Annotated[str | None, Query(max_length=40)] = None,
    power_min: Annotated[float | None, Query(description="kW")] = None,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    _check_range("lat", "latitude", lat, -90, 90)
    _check_range("lng", "longitude", lng, -180, 180)
    _check_range("radius", "radius", radius, 0.1, MAX_RADIUS_KM)
    if power_min is not None:
        _check_range("power_min", "power_min", power_min, 0, 1000)
    start, end = _aware(start_time), _aware(end_time)
    if (start is None) != (end is None):
        raise InvalidRequest("start_time and end_time go together")
    if start is not None and end is not None and end <= start:
        raise InvalidRequest("end_time must be after start_time")
    result = await search_locations(
        db,
        SearchQuery(lat=lat, lng=lng, radius_km=radius, connector_type=connector_type,
                    power_min_kw=power_min, start_time=start, end_time=end, limit=limit),
    )
    # Until a CPO's tariffs are known, the estimate is what the platform itself charges.
    estimate = float(quote(Decimal("0"), client.reservation_fee, client.commission_percent).client_price)
    return {
        "total": result.total,
        "results": [
            {
                "location_id": h.location.id,
                "name": h.location.name,
                "address": h.location.address,
                "city": h.location.city,
                "postal_code": h.location.postal_code,
                "coordinates": {"latitude": h.location.latitude, "longitude": h.location.longitude},
                "distance_km": round(h.distance_km, 2),
                "cpo_name": h.party.name,
                "cpo_party_id": h.party.party_id,
                "supports_reservation": any(e.reservable for e, _ in h.evses),
                "evses": [
                    {
                        "evse_uid": e.uid,
                        "evse_id": e.evse_id,
                        "status": e.status,
                        "reservable": e.reservable,
                        "connectors": [
                            {"connector_id": c.id, "connector_type": c.standard, "power_kw": c.power_kw}
                            for c in connectors
                        ],
                    }
                    for e, connectors in h.evses
                ],
                "pricing": {"estimated_price": estimate, "currency": "EUR"},
            }
            for h in result.hits
        ],
        "cpo_results": {
            party_id: {**stats, "data_updated_at": iso_z(stats["data_updated_at"])}
            for party_id, stats in result.per_cpo.items()
        },
    }
