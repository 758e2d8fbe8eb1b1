"""A CPO's PATCH of one Location, EVSE or Connector, written as a targeted update.

OCPI 2.2.1 mod_locations.asciidoc § Receiver Interface, PATCH method: the CPO sends only the
fields that changed, with ``last_updated``; a change to an EVSE or Connector also changes the
parent Location's ``last_updated``. Most of what a CPO pushes is an EVSE status change, so that
path touches three rows' worth of work and nothing else:

1. ``SELECT … FOR UPDATE`` of that one Location row (its OCPI object and key): concurrent
   PATCHes of the same Location take turns, other Locations of the same CPO don't wait;
2. ``UPDATE`` of the EVSE row (status, ``last_updated``, the columns search and booking read,
   its OCPI object) — and of the Connector row for a Connector PATCH;
3. ``UPDATE`` of the Location row (its OCPI object, ``last_updated`` and search's index columns,
   recomputed from the EVSEs in the object, as ``store_location`` computes them).

Steps 2 and 3 of a status PATCH are one statement on PostgreSQL (``db/queries.py:
execute_together``). The ordering guard is the row lock: a PATCH whose ``last_updated`` is older than the object we
hold changes nothing and returns False. The statements are built once at import.
A Location-level PATCH, or an EVSE PATCH that replaces its connectors, is rare and goes
through ``store_location`` under the same row lock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import Connector, Evse, Location, Party
from chargebook.db.queries import execute_together
from chargebook.domain.errors import InvalidRequest, NotFound
from chargebook.ocpi.v221.locations import EVSE
from chargebook.ocpi.v221.locations import Connector as OcpiConnector
from chargebook.ocpi.v221.locations import Location as OcpiLocation
from chargebook.ocpi.v221.types import ci_equal, parse_datetime
from chargebook.ocpi.validation import check
from chargebook.services.catalogue import (
    connector_power_kw,
    evse_columns,
    location_search_columns,
    parse_ts,
    store_location,
)
from chargebook.services.clock import utcnow

_LOCATIONS, _EVSES, _CONNECTORS = (cast(Table, m.__table__) for m in (Location, Evse, Connector))

_LOCK_LOCATION = (
    select(_LOCATIONS.c.pk, _LOCATIONS.c.data)
    .where(_LOCATIONS.c.party_pk == bindparam("b_party"), _LOCATIONS.c.id == bindparam("b_id"))
    .with_for_update()
)
# SET columns come from the parameters' other keys (the same keys on every call).
_UPDATE_LOCATION = _LOCATIONS.update().where(_LOCATIONS.c.pk == bindparam("b_pk"))
_UPDATE_EVSE = _EVSES.update().where(
    _EVSES.c.location_pk == bindparam("b_location_pk"), _EVSES.c.uid == bindparam("b_uid")
).returning(_EVSES.c.pk)
_EVSE_SET = ("evse_id", "status", "reservable", "max_power_kw", "data", "last_updated")
_LOCATION_SET = ("data", "last_updated", "search_power_kw", "bookable_power_kw")
# A status PATCH's two writes, every value a named bind, sent together (db/queries.py).
_SET_EVSE = _EVSES.update().where(
    _EVSES.c.location_pk == bindparam("e_location_pk"), _EVSES.c.uid == bindparam("e_uid")
).values({name: bindparam(f"e_{name}", type_=_EVSES.c[name].type) for name in _EVSE_SET})
_SET_LOCATION = _LOCATIONS.update().where(_LOCATIONS.c.pk == bindparam("l_pk")).values(
    {name: bindparam(f"l_{name}", type_=_LOCATIONS.c[name].type) for name in _LOCATION_SET})
_UPDATE_CONNECTOR = _CONNECTORS.update().where(
    _CONNECTORS.c.evse_pk == bindparam("b_evse_pk"), _CONNECTORS.c.id == bindparam("b_id")
)


def patch_stamp(body: dict[str, Any]) -> datetime:
    """OCPI 2.2.1 § PATCH: the request MUST contain ``last_updated``."""
    if "last_updated" not in body or body["last_updated"] is None:
        raise InvalidRequest("last_updated is required")
    return parse_datetime(body["last_updated"])


def _find(items: list[dict[str, Any]] | None, key: str, value: str) -> dict[str, Any] | None:
    return next((i for i in items or [] if ci_equal(str(i.get(key)), value)), None)  # CiStrings


def _bump(obj: dict[str, Any], stamp: datetime, raw: Any) -> None:
    # 2.2.1: a change to an EVSE or Connector also updates the parent's last_updated.
    current = obj.get("last_updated")
    if current is None or parse_datetime(current) < stamp:
        obj["last_updated"] = raw


def _is_older(obj: dict[str, Any], stamp: datetime) -> bool:
    current = obj.get("last_updated")
    return current is not None and parse_datetime(current) > stamp


async def patch_location_object(
    db: Database, party: Party, location_id: str, evse_uid: str | None, connector_id: str | None,
    body: dict[str, Any],
) -> bool:
    """Apply a PATCH; False when it is older than what we hold (then nothing changes)."""
    stamp = patch_stamp(body)
    async with db.write() as session:
        conn = await session.connection()
        row = (await conn.execute(_LOCK_LOCATION, {"b_party": party.id, "b_id": location_id})).first()
        if row is None:
            raise NotFound(f"Unknown location {location_id}")
        pk, data = row.pk, row.data
        if evse_uid is None:
            return await _patch_whole(session, party, data, body, stamp)
        evse = _find(data.get("evses"), "uid", evse_uid)
        if evse is None:
            raise NotFound(f"Unknown EVSE {evse_uid}")
        if not ci_equal(str(body.get("uid", evse_uid)), evse_uid):
            raise InvalidRequest("uid in the body differs from the URL")
        if connector_id is None and "connectors" in body:
            return await _patch_whole(session, party, data, body, stamp, evse)
        connector = None
        if connector_id is not None:
            connector = _find(evse.get("connectors"), "id", connector_id)
            if connector is None:
                raise NotFound(f"Unknown connector {connector_id}")
            if not ci_equal(str(body.get("id", connector_id)), connector_id):
                raise InvalidRequest("id in the body differs from the URL")
        target = connector if connector is not None else evse
        if _is_older(target, stamp):
            return False
        target.update(body)
        if connector is not None:
            check(OcpiConnector, connector, "Connector after PATCH")
            _bump(evse, stamp, body["last_updated"])
        check(EVSE, evse, "EVSE after PATCH")
        _bump(data, stamp, body["last_updated"])
        await _write_rows(session, pk, data, evse, connector)
    return True


async def _patch_whole(
    session: AsyncSession, party: Party, data: dict[str, Any], body: dict[str, Any],
    stamp: datetime, evse: dict[str, Any] | None = None,
) -> bool:
    """The rare PATCHes that reshape a Location: applied to its object, stored whole."""
    target = data if evse is None else evse
    if _is_older(target, stamp):
        return False
    target.update(body)
    _bump(data, stamp, body["last_updated"])
    check(OcpiLocation, data, "Location after PATCH")
    await store_location(session, party, data)
    return True


async def _write_rows(
    session: AsyncSession, location_pk: int, data: dict[str, Any], evse: dict[str, Any],
    connector: dict[str, Any] | None,
) -> None:
    now = utcnow()
    search_kw, bookable_kw = location_search_columns(data)
    location = {"data": data, "last_updated": parse_ts(data.get("last_updated"), now),
                "search_power_kw": search_kw, "bookable_power_kw": bookable_kw}
    if connector is None:  # a status change: both rows in one round trip where possible
        await execute_together(session, _SET_EVSE, _SET_LOCATION, {
            "e_location_pk": location_pk, "e_uid": evse["uid"],
            **{f"e_{k}": v for k, v in evse_columns(evse, now).items()},
            "l_pk": location_pk, **{f"l_{k}": v for k, v in location.items()},
        })
        return
    conn = await session.connection()
    evse_pk = (await conn.execute(
        _UPDATE_EVSE, {"b_location_pk": location_pk, "b_uid": evse["uid"], **evse_columns(evse, now)}
    )).scalar_one()
    await conn.execute(_UPDATE_CONNECTOR, {
        "b_evse_pk": evse_pk, "b_id": connector["id"],
        "standard": connector["standard"], "format": connector["format"],
        "power_type": connector["power_type"], "power_kw": connector_power_kw(connector),
        "tariff_ids": list(connector.get("tariff_ids") or []),
    })
    await conn.execute(_UPDATE_LOCATION, {"b_pk": location_pk, **location})
