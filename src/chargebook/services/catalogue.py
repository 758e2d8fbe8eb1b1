"""The CPOs' catalogue: locations with their EVSEs and connectors, stored in the OCPI shape.

Each location is kept whole (``data``, the OCPI 2.2.1 Location object) and indexed by the
columns search and booking need. ``store_location`` replaces a location with everything in
it; the OCPI Locations module calls it for PUTs and pull-syncs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import Connector, Evse, Location, Party
from chargebook.domain.geocells import EvseSummary, lat_band, search_power_columns
from chargebook.ocpi.v221.types import ci_key, without_nulls
from chargebook.services.clock import utcnow
from chargebook.services.ids import new_id

#: OCPI 2.2.1 mod_locations.asciidoc § Status enum: an EVSE in these cannot be booked.
OUT_OF_SERVICE = frozenset({"INOPERATIVE", "OUTOFORDER", "PLANNED", "REMOVED"})


def parse_ts(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=default.tzinfo)


def connector_power_kw(connector: dict[str, Any]) -> float:
    """OCPI gives max_electric_power in W; older parties omit it, so derive it from V × A."""
    watts = connector.get("max_electric_power")
    if not watts:
        volts = connector.get("max_voltage") or 0
        amps = connector.get("max_amperage") or 0
        phases = 3 if connector.get("power_type") == "AC_3_PHASE" else 1
        watts = volts * amps * phases
    return round(float(watts) / 1000, 1)


async def ensure_party(
    session: AsyncSession,
    country_code: str,
    party_id: str,
    name: str,
    *,
    max_reservation_minutes: int = 240,
) -> Party:
    party = await session.scalar(
        select(Party).where(Party.country_code == country_code, Party.party_id == party_id)
    )
    if party is None:
        party = Party(
            id=new_id("cpo"),
            country_code=country_code,
            party_id=party_id,
            name=name,
            max_reservation_minutes=max_reservation_minutes,
            created_at=utcnow(),
        )
        session.add(party)
        await session.flush()
    return party


async def store_location(session: AsyncSession, party: Party, data: dict[str, Any]) -> Location:
    """Insert or replace one OCPI Location with its EVSEs and connectors (explicit nulls
    dropped: an unset field is stored as absent, so ``publish: null`` is not ``False``)."""
    data = without_nulls(data)
    now = utcnow()
    location = await session.scalar(
        select(Location)
        .where(Location.party_pk == party.id, Location.id == data["id"])
        .with_for_update()  # a targeted PATCH (services/location_patches.py) takes the same lock
    )
    publish = bool(data.get("publish", True))
    fields = location_columns(data, now)
    if location is None:
        location = Location(party_pk=party.id, id=data["id"], **fields)
        session.add(location)
        await session.flush()
    else:
        for key, value in fields.items():
            setattr(location, key, value)
    # EVSE uids are CiStrings: a CPO that re-cases one updates the same EVSE (its row keeps
    # the case it was first stored in; bookings point at the row).
    existing = {
        ci_key(e.uid): e for e in await session.scalars(select(Evse).where(Evse.location_pk == location.pk))
    }
    summaries = [
        await _store_evse(session, location.pk, existing.pop(ci_key(evse_data["uid"]), None), evse_data, now)
        for evse_data in data.get("evses") or []
    ]
    # Bookings point at EVSE rows, so an EVSE that left the catalogue is marked REMOVED
    # (what OCPI itself does) rather than deleted. REMOVED EVSEs add nothing to the index.
    for gone in existing.values():
        gone.status = "REMOVED"
    location.search_power_kw, location.bookable_power_kw = search_power_columns(publish, summaries)
    await session.flush()
    return location


def location_columns(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The columns of a Location row from its OCPI object, without search's power columns."""
    latitude = float(data["coordinates"]["latitude"])
    return {
        "name": data.get("name"),
        "address": data["address"],
        "city": data["city"],
        "postal_code": data.get("postal_code"),
        "country": data["country"],
        "latitude": latitude,
        "longitude": float(data["coordinates"]["longitude"]),
        "time_zone": data.get("time_zone") or "UTC",
        "publish": bool(data.get("publish", True)),
        "data": data,
        "last_updated": parse_ts(data.get("last_updated"), now),
        "lat_band": lat_band(latitude),
    }


def connector_columns(connector: dict[str, Any]) -> dict[str, Any]:
    """The indexed columns of a Connector row, from its OCPI object."""
    return {
        "id": connector["id"],
        "standard": connector["standard"],
        "format": connector["format"],
        "power_type": connector["power_type"],
        "power_kw": connector_power_kw(connector),
        "tariff_ids": list(connector.get("tariff_ids") or []),
    }


def evse_summary(data: dict[str, Any]) -> EvseSummary:
    """What search's index needs of one EVSE (bench/search.py builds the same for its load)."""
    status = data["status"]
    reservable = "RESERVABLE" in (data.get("capabilities") or [])
    return EvseSummary(
        listed=status != "REMOVED",
        bookable=reservable and status not in OUT_OF_SERVICE,
        connector_powers_kw=tuple(connector_power_kw(c) for c in data.get("connectors") or []),
    )


def evse_columns(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The indexed columns of an EVSE row, from its OCPI object."""
    powers = [connector_power_kw(c) for c in data.get("connectors") or []]
    return dict(
        evse_id=data.get("evse_id"),
        status=data["status"],
        reservable="RESERVABLE" in (data.get("capabilities") or []),
        max_power_kw=max(powers, default=0.0),
        data=data,
        last_updated=parse_ts(data.get("last_updated"), now),
    )


def location_search_columns(data: dict[str, Any]) -> tuple[float | None, float | None]:
    """The location's (search_power_kw, bookable_power_kw) from its OCPI object."""
    summaries = [evse_summary(e) for e in data.get("evses") or []]
    return search_power_columns(bool(data.get("publish", True)), summaries)


async def _store_evse(
    session: AsyncSession, location_pk: int, evse: Evse | None, data: dict[str, Any], now: datetime
) -> EvseSummary:
    """Store one EVSE with its connectors; returns what search's index needs of it."""
    connectors = data.get("connectors") or []
    summary = evse_summary(data)
    fields = evse_columns(data, now)
    if evse is None:
        evse = Evse(location_pk=location_pk, uid=data["uid"], **fields)
        session.add(evse)
        await session.flush()
    else:
        for key, value in fields.items():
            setattr(evse, key, value)
        await session.execute(delete(Connector).where(Connector.evse_pk == evse.pk))
    session.add_all(Connector(evse_pk=evse.pk, **connector_columns(c)) for c in connectors)
    return summary


async def seed_catalogue(
    db: Database, country_code: str, party_id: str, name: str, locations: list[dict[str, Any]]
) -> int:
    """Store a CPO's whole catalogue in one transaction (used by the demo and by tests)."""
    async with db.write() as session:
        party = await ensure_party(session, country_code, party_id, name)
        for data in locations:
            await store_location(session, party, data)
    return len(locations)
