"""A CPO's EVSE/Connector PATCH as a targeted update: the ordering guard, unknown objects,
PATCHes racing each other, and search's index columns equal to a whole store's."""

from __future__ import annotations

import asyncio
import copy
import random
from typing import Any

import pytest
from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import Connector, Evse, Location, Party
from chargebook.domain.errors import InvalidRequest, NotFound
from chargebook.services.catalogue import ensure_party, store_location
from chargebook.services.location_patches import patch_location_object
from tests.factories import unique_party_id

T0 = "2030-01-01T00:00:00Z"


def _evse(uid: str, watts: int, status: str = "AVAILABLE") -> dict[str, Any]:
    return {
        "uid": uid, "status": status, "capabilities": ["RESERVABLE"], "last_updated": T0,
        "connectors": [{"id": "1", "standard": "IEC_62196_T2_COMBO", "format": "CABLE",
                        "power_type": "DC", "max_voltage": 400, "max_amperage": 400,
                        "max_electric_power": watts, "tariff_ids": [],
                        "last_updated": T0}],
    }


async def _site(db: Database) -> tuple[Party, dict[str, Any]]:
    party_id = unique_party_id()
    lat, lng = round(-30 - random.random() * 20, 4), round(-100 + random.random() * 60, 4)
    data = {
        "country_code": "DE", "party_id": party_id, "id": "LOC1", "publish": True,
        "address": "Weg 1", "city": "Y", "postal_code": "1", "country": "DEU",
        "coordinates": {"latitude": f"{lat:.6f}", "longitude": f"{lng:.6f}"},
        "time_zone": "Europe/Berlin", "last_updated": T0,
        "evses": [_evse("E1", 22000), _evse("E2", 150000)],
    }
    async with db.write() as session:
        party = await ensure_party(session, "DE", party_id, "Patch CPO")
        await store_location(session, party, copy.deepcopy(data))
    return party, data


async def _rows(db: Database, party: Party) -> tuple[Any, dict[str, str]]:
    async with db.read() as s:
        loc = (await s.execute(select(
            Location.pk, Location.data, Location.last_updated, Location.search_power_kw,
            Location.bookable_power_kw,
        ).where(Location.party_pk == party.id))).one()
        statuses = dict((await s.execute(
            select(Evse.uid, Evse.status).where(Evse.location_pk == loc.pk))).all())
    return loc, statuses


async def test_status_patch_updates_the_evse_and_the_index_as_a_whole_store_would(db: Database) -> None:
    party, _ = await _site(db)
    body = {"status": "OUTOFORDER", "last_updated": "2030-01-01T01:00:00Z"}
    assert await patch_location_object(db, party, "LOC1", "E2", None, body)
    loc, statuses = await _rows(db, party)
    assert statuses == {"E1": "AVAILABLE", "E2": "OUTOFORDER"}
    assert loc.data["evses"][1]["status"] == "OUTOFORDER"
    assert loc.data["last_updated"] == "2030-01-01T01:00:00Z"
    assert loc.last_updated.isoformat() == "2030-01-01T01:00:00+00:00"
    # 150 kW still listed, but only the 22 kW EVSE can be booked now.
    assert (loc.search_power_kw, loc.bookable_power_kw) == (150.0, 22.0)
    # Storing the resulting object whole gives the same index columns.
    async with db.write() as session:
        await store_location(session, party, copy.deepcopy(loc.data))
    again, _ = await _rows(db, party)
    assert (again.search_power_kw, again.bookable_power_kw) == (150.0, 22.0)


async def test_an_older_patch_changes_nothing(db: Database) -> None:
    party, _ = await _site(db)
    newer = {"status": "CHARGING", "last_updated": "2030-01-01T02:00:00Z"}
    older = {"status": "AVAILABLE", "last_updated": "2030-01-01T01:00:00Z"}
    assert await patch_location_object(db, party, "LOC1", "E1", None, newer)
    assert not await patch_location_object(db, party, "LOC1", "E1", None, older)
    loc, statuses = await _rows(db, party)
    assert statuses["E1"] == "CHARGING" and loc.data["evses"][0]["status"] == "CHARGING"
    assert loc.data["last_updated"] == "2030-01-01T02:00:00Z"


async def test_unknown_objects_and_bad_patches_are_refused(db: Database) -> None:
    party, _ = await _site(db)
    stamp = "2030-01-01T01:00:00Z"
    with pytest.raises(NotFound):
        await patch_location_object(db, party, "LOC1", "NOPE", None, {"status": "CHARGING", "last_updated": stamp})
    with pytest.raises(NotFound):
        await patch_location_object(db, party, "NOPE", "E1", None, {"status": "CHARGING", "last_updated": stamp})
    with pytest.raises(NotFound):
        await patch_location_object(db, party, "LOC1", "E1", "9", {"format": "SOCKET", "last_updated": stamp})
    with pytest.raises(InvalidRequest):
        await patch_location_object(db, party, "LOC1", "E1", None, {"status": "CHARGING"})
    with pytest.raises(InvalidRequest):  # not an OCPI status: nothing is written
        await patch_location_object(db, party, "LOC1", "E1", None, {"status": "ON_FIRE", "last_updated": stamp})
    _, statuses = await _rows(db, party)
    assert statuses == {"E1": "AVAILABLE", "E2": "AVAILABLE"}


async def test_racing_patches_end_with_the_newest_status(db: Database) -> None:
    party, _ = await _site(db)
    stamps = [f"2030-01-01T03:{m:02d}:00Z" for m in range(12)]
    sent = [{"status": random.choice(["AVAILABLE", "CHARGING", "BLOCKED"]), "last_updated": s}
            for s in stamps]
    newest = sent[-1]
    shuffled = sent[:]
    random.shuffle(shuffled)
    shuffled.remove(newest)
    shuffled.insert(0, newest)  # the newest arrives first: every other one must be ignored
    applied = await asyncio.gather(
        *(patch_location_object(db, party, "LOC1", "E1", None, b) for b in shuffled)
    )
    assert applied[0] is True
    loc, statuses = await _rows(db, party)
    assert statuses["E1"] == newest["status"] == loc.data["evses"][0]["status"]
    assert loc.data["evses"][0]["last_updated"] == stamps[-1] == loc.data["last_updated"]


async def test_connector_patch_updates_its_row_and_the_evse_power(db: Database) -> None:
    party, _ = await _site(db)
    body = {"max_electric_power": 50000, "last_updated": "2030-01-01T01:00:00Z"}
    assert await patch_location_object(db, party, "LOC1", "E2", "1", body)
    loc, _ = await _rows(db, party)
    evse = loc.data["evses"][1]
    assert evse["connectors"][0]["max_electric_power"] == 50000
    assert evse["last_updated"] == "2030-01-01T01:00:00Z"
    async with db.read() as s:
        power = await s.scalar(select(Evse.max_power_kw).where(Evse.location_pk == loc.pk, Evse.uid == "E2"))
        conn_kw = await s.scalar(select(Connector.power_kw).join(Evse).where(
            Evse.location_pk == loc.pk, Evse.uid == "E2"))
    assert power == conn_kw == 50.0
    assert (loc.search_power_kw, loc.bookable_power_kw) == (50.0, 50.0)
