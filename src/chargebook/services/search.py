"""Search: bookable chargers near a point, nearest first.

A bounding box on the indexed (latitude, longitude) columns narrows the candidates, then the
great-circle distance decides. Time-window availability excludes EVSEs with an overlapping
live booking and EVSEs out of service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select

from chargebook.db.engine import Database
from chargebook.db.models import Booking, Connector, Evse, Location, Party
from chargebook.domain.geo import bounding_box, haversine_km
from chargebook.domain.lifecycle import LIVE_STATES
from chargebook.services.catalogue import OUT_OF_SERVICE


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


@dataclass(slots=True)
class SearchHit:
    location: Location
    party: Party
    distance_km: float
    evses: list[tuple[Evse, list[Connector]]] = field(default_factory=list)


@dataclass(slots=True)
class SearchResult:
    total: int
    hits: list[SearchHit]
    per_cpo: dict[str, dict[str, Any]]


async def search_locations(db: Database, q: SearchQuery) -> SearchResult:
    min_lat, max_lat, min_lng, max_lng = bounding_box(q.lat, q.lng, q.radius_km)
    stmt = (
        select(Location, Party, Evse, Connector)
        .join(Party, Location.party_pk == Party.id)
        .join(Evse, Evse.location_pk == Location.pk)
        .join(Connector, Connector.evse_pk == Evse.pk)
        .where(
            Location.latitude.between(min_lat, max_lat),
            Location.longitude.between(min_lng, max_lng),
            Location.publish.is_(True),
            Evse.status != "REMOVED",
        )
    )
    if q.connector_type:
        stmt = stmt.where(Connector.standard == q.connector_type)
    if q.power_min_kw is not None:
        stmt = stmt.where(Connector.power_kw >= q.power_min_kw)
    if q.start_time is not None and q.end_time is not None:
        stmt = stmt.where(
            Evse.status.not_in(OUT_OF_SERVICE),
            Evse.reservable.is_(True),
            ~exists().where(
                and_(
                    Booking.evse_pk == Evse.pk,
                    Booking.status.in_(LIVE_STATES),
                    Booking.reservation_start < q.end_time,
                    Booking.reservation_end > q.start_time,
                )
            ),
        )
    async with db.read() as session:
        rows = (await session.execute(stmt)).all()
    hits: dict[int, SearchHit] = {}
    evse_index: dict[int, tuple[Evse, list[Connector]]] = {}
    for location, party, evse, connector in rows:
        hit = hits.get(location.pk)
        if hit is None:
            distance = haversine_km(q.lat, q.lng, location.latitude, location.longitude)
            if distance > q.radius_km:
                continue
            hit = hits[location.pk] = SearchHit(location, party, distance)
        entry = evse_index.get(evse.pk)
        if entry is None:
            entry = evse_index[evse.pk] = (evse, [])
            hit.evses.append(entry)
        entry[1].append(connector)
    ordered = sorted(hits.values(), key=lambda h: h.distance_km)
    per_cpo: dict[str, dict[str, Any]] = {}
    for hit in ordered:
        stats = per_cpo.setdefault(
            hit.party.party_id,
            {"cpo_name": hit.party.name, "results": 0, "data_updated_at": hit.location.last_updated},
        )
        stats["results"] += 1
        stats["data_updated_at"] = max(stats["data_updated_at"], hit.location.last_updated)
    return SearchResult(total=len(ordered), hits=ordered[: q.limit], per_cpo=per_cpo)
