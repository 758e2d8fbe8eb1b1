"""Locations and Tariffs from CPOs: pushes (PUT/PATCH) and pull-syncs.

OCPI 2.2.1 mod_locations.asciidoc § Receiver Interface and mod_tariffs.asciidoc. A party may
only write its own objects: the URL's country_code/party_id must be the caller's.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import Location, Party, Tariff
from chargebook.domain.errors import InvalidRequest, NotFound
from chargebook.ocpi.editions import models
from chargebook.ocpi.v221.locations import EVSE, Connector
from chargebook.ocpi.v221.locations import Location as OcpiLocation
from chargebook.ocpi.v221.types import ci_equal, parse_datetime, without_nulls
from chargebook.ocpi.validation import check
from chargebook.services.catalogue import store_location
from chargebook.services.catalogue_pull import sync_party as sync_party  # its callers' name
from chargebook.services.clock import utcnow
from chargebook.services.location_patches import patch_location_object
from chargebook.services.party_locks import lock_party, retrying


def check_owner(party: Party, country_code: str, party_id: str, body: dict[str, Any] | None = None) -> None:
    """A CPO writes only its own objects (URL and body must both name it; CiStrings, so
    ``de``/``xtw`` is ``DE``/``XTW``)."""
    if not _is_party(party, country_code, party_id):
        raise InvalidRequest(f"{country_code}/{party_id} is not your party: you are "
                             f"{party.country_code}/{party.party_id}")
    if body is not None:
        cc, pid = body.get("country_code"), body.get("party_id")
        if cc is not None and pid is not None and not _is_party(party, str(cc), str(pid)):
            raise InvalidRequest("country_code/party_id in the body do not match the URL")


def _is_party(party: Party, country_code: str, party_id: str) -> bool:
    return ci_equal(country_code, party.country_code) and ci_equal(party_id, party.party_id)


async def _load(session: AsyncSession, party: Party, location_id: str) -> Location | None:
    return await session.scalar(select(Location).where(Location.party_pk == party.id, Location.id == location_id))


def _find(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any] | None:
    """The item whose CiString ``key`` is ``value``, in any case."""
    return next((i for i in items if _same(i.get(key), value)), None)


def _same(item_id: Any, wanted: str | None) -> bool:
    return item_id is not None and wanted is not None and ci_equal(str(item_id), wanted)


def _bump(data: dict[str, Any], stamp: Any) -> None:
    # 2.2.1: a change to an EVSE or Connector also updates the parent's last_updated.
    if str(stamp) > str(data.get("last_updated", "")):
        data["last_updated"] = stamp


async def put_object(
    db: Database, party: Party, location_id: str, evse_uid: str | None, connector_id: str | None,
    body: dict[str, Any],
) -> None:
    await retrying(lambda: _put_object(db, party, location_id, evse_uid, connector_id, body))


async def patch_object(
    db: Database, party: Party, location_id: str, evse_uid: str | None, connector_id: str | None,
    body: dict[str, Any],
) -> bool:
    """A targeted update under the Location's row lock (services/location_patches.py)."""
    return await retrying(
        lambda: patch_location_object(db, party, location_id, evse_uid, connector_id, body)
    )


async def put_tariff(db: Database, party: Party, tariff_id: str, body: dict[str, Any], version: str = "2.2.1") -> None:
    await retrying(lambda: _put_tariff(db, party, tariff_id, body, version))


async def _put_object(
    db: Database, party: Party, location_id: str, evse_uid: str | None, connector_id: str | None,
    body: dict[str, Any],
) -> None:
    """PUT a Location, an EVSE or a Connector (full replace of that object)."""
    if evse_uid is None and body.get("id") is not None and not _same(body["id"], location_id):
        raise InvalidRequest("id in the body differs from the URL")
    async with db.write() as session:
        await lock_party(session, party)
        if evse_uid is None:
            check(OcpiLocation, body, "Location")
            await store_location(session, party, body)
            return
        location = await _load(session, party, location_id)
        if location is None:
            raise NotFound(f"Unknown location {location_id}")
        data = copy.deepcopy(location.data)
        evses = data.setdefault("evses", [])
        if connector_id is None:
            check(EVSE, body, "EVSE")
            if not _same(body.get("uid"), evse_uid):
                raise InvalidRequest("uid in the body differs from the URL")
            evses[:] = [e for e in evses if not _same(e.get("uid"), evse_uid)] + [body]
            _bump(data, body.get("last_updated"))
        else:
            check(Connector, body, "Connector")
            evse = _find(evses, "uid", evse_uid)
            if evse is None:
                raise NotFound(f"Unknown EVSE {evse_uid}")
            conns = evse.setdefault("connectors", [])
            conns[:] = [c for c in conns if not _same(c.get("id"), connector_id)] + [body]
            _bump(evse, body.get("last_updated"))
            _bump(data, body.get("last_updated"))
        await store_location(session, party, data)


async def get_object(db: Database, party: Party, location_id: str, evse_uid: str | None,
                     connector_id: str | None) -> dict[str, Any]:
    async with db.read() as session:
        location = await _load(session, party, location_id)
    if location is None:
        raise NotFound(f"Unknown location {location_id}")
    obj: dict[str, Any] | None = location.data
    if evse_uid is not None:
        obj = _find(obj.get("evses") or [], "uid", evse_uid) if obj else None
        if obj is not None and connector_id is not None:
            obj = _find(obj.get("connectors") or [], "id", connector_id)
    if obj is None:
        raise NotFound("Unknown object")
    return obj


async def _put_tariff(db: Database, party: Party, tariff_id: str, body: dict[str, Any], version: str) -> None:
    check(models(version).Tariff, body, "Tariff")
    if not _same(body.get("id"), tariff_id):
        raise InvalidRequest("id in the body differs from the URL")
    async with db.write() as session:
        await lock_party(session, party)
        await store_tariff(session, party, body)


async def store_tariff(session: AsyncSession, party: Party, body: dict[str, Any]) -> None:
    body = without_nulls(body)
    row = await session.scalar(select(Tariff).where(Tariff.party_pk == party.id, Tariff.id == body["id"]))
    stamp = parse_datetime(body["last_updated"]) if body.get("last_updated") else utcnow()
    if row is None:
        session.add(Tariff(party_pk=party.id, id=body["id"], currency=body["currency"], data=body, last_updated=stamp))
    else:
        row.currency, row.data, row.last_updated = body["currency"], body, stamp


async def delete_tariff(db: Database, party: Party, tariff_id: str) -> None:
    async with db.write() as session:
        await lock_party(session, party)
        await session.execute(delete(Tariff).where(Tariff.party_pk == party.id, Tariff.id == tariff_id))
