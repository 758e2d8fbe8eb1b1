"""What CPOs in the field send to our OCPI endpoints: every unset optional field as null,
CDRs without ``cdr_location.evse_uid``, and no X-Request-ID, X-Correlation-ID or
OCPI-from/-to headers. All are accepted; what we store carries no nulls."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from chargebook.cpo_sim.quirks import with_explicit_nulls
from chargebook.db.models import ChargeDetailRecord, Location, Tariff
from chargebook.ocpi import v221
from chargebook.ocpi.v221.types import dump_json, load_json
from tests.conftest import LiveServer
from tests.factories import api, make_client, with_db
from tests.ocpi_api.conftest import Cpo
from tests.ocpi_api.test_receivers import location
from tests.ocpi_api.test_sessions_cdrs import _cdr, _confirmed_booking, _session

EXAMPLES = Path(__file__).parents[1] / "data" / "ocpi-examples" / "2.2.1"
ROUTING = ("X-Request-ID", "X-Correlation-ID", "OCPI-from-country-code", "OCPI-from-party-id",
           "OCPI-to-country-code", "OCPI-to-party-id")


def nulled(model: type[Any], body: dict[str, Any]) -> bytes:
    """``body`` as a field CPO writes it: every unset optional field null."""
    return dump_json(with_explicit_nulls(model.model_validate(load_json(json.dumps(body)))))


def bare(cpo: Cpo) -> None:
    """Nothing but the Authorization header goes out (httpx adds none of the OCPI ones)."""
    for header in ROUTING:
        assert header not in cpo.http.headers


def nulls_in(value: Any) -> int:
    if isinstance(value, dict):
        return sum(nulls_in(v) for v in value.values()) + sum(v is None for v in value.values())
    if isinstance(value, list):
        return sum(nulls_in(v) for v in value)
    return 0


def put(cpo: Cpo, path: str, content: bytes) -> dict[str, Any]:
    r = cpo.http.put(cpo.url(path), content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text
    assert r.headers["X-Request-ID"] and r.headers["X-Correlation-ID"]  # made for the CPO
    return r.json()  # type: ignore[no-any-return]


def test_a_location_full_of_nulls_is_stored_without_them(cpo: Cpo, live: LiveServer, database_url: str) -> None:
    bare(cpo)
    body = location(cpo, "NUL1")
    for evse in body["evses"]:
        evse.pop("floor_level", None)
    wire = nulled(v221.Location, body)
    assert b'"floor_level":null' in wire and b'"status_schedule":null' in wire and b'"images":null' in wire
    put(cpo, f"/locations/DE/{cpo.party_id}/NUL1", wire)
    served = cpo.http.get(cpo.url(f"/locations/DE/{cpo.party_id}/NUL1")).json()["data"]
    assert nulls_in(served) == 0 and served["evses"][0]["uid"] == body["evses"][0]["uid"]

    async def stored(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return await session.scalar(select(Location).where(Location.id == "NUL1"))

    row = with_db(database_url, stored)
    assert row.publish is True and nulls_in(row.data) == 0
    _, key = make_client(database_url)
    with api(live.client_base, key) as client:
        lat, lng = float(body["coordinates"]["latitude"]), float(body["coordinates"]["longitude"])
        found = client.get("/search", params={"lat": lat, "lng": lng, "radius": 1}).json()["results"]
    assert any(x["location_id"] == "NUL1" for x in found)


def test_a_tariff_with_restrictions_full_of_nulls(cpo: Cpo, database_url: str) -> None:
    tariff = json.loads((EXAMPLES / "tariff_13_simple_3hour_5parking.json").read_text())
    tariff.update(country_code="DE", party_id=cpo.party_id, last_updated="2026-01-01T00:00:00Z")
    wire = nulled(v221.Tariff, tariff)
    assert b'"restrictions":{"start_time":null' in wire
    put(cpo, f"/tariffs/DE/{cpo.party_id}/{tariff['id']}", wire)

    async def stored(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return await session.scalar(select(Tariff.data).where(Tariff.id == tariff["id"]))

    data = with_db(database_url, stored)
    assert nulls_in(data) == 0 and data["elements"][0]["restrictions"] == {}


def test_a_cdr_without_evse_uid_and_full_of_nulls_completes_its_booking(
    cpo: Cpo, live: LiveServer, database_url: str
) -> None:
    bare(cpo)
    ctx = _confirmed_booking(cpo, live, database_url, "NUL2")
    booking, client, evse = ctx["booking"], ctx["client"], ctx["evse"]
    start = datetime.fromisoformat(booking["reservation_start"]) + timedelta(minutes=2)
    session = _session(cpo, "NUL2", evse, "SN1", "ACTIVE", start)
    put(cpo, f"/sessions/DE/{cpo.party_id}/SN1", nulled(v221.Session, session))
    assert client.get(f"/bookings/{booking['id']}").json()["status"] == "ATTENDING"
    cdr = _cdr(cpo, "NUL2", evse, "CDR-N1", "SN1", start)
    del cdr["cdr_location"]["evse_uid"]
    wire = nulled(v221.CDR, cdr)
    assert b'"evse_uid":null' in wire  # left out, then written as null
    r = cpo.http.post(cpo.url("/cdrs"), content=wire, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text
    done = client.get(f"/bookings/{booking['id']}").json()
    assert done["status"] == "COMPLETED"

    async def stored(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return (await session.execute(select(ChargeDetailRecord.booking_id, ChargeDetailRecord.data)
                                          .where(ChargeDetailRecord.id == "CDR-N1"))).one()

    booking_id, data = with_db(database_url, stored)
    assert booking_id == booking["id"] and nulls_in(data) == 0


def test_versions_and_token_lists_without_any_ids(cpo: Cpo) -> None:
    bare(cpo)
    for path in ("/ocpi/versions", "/ocpi/2.2.1", "/ocpi/2.2.1/tokens"):
        r = cpo.http.get(path)
        assert r.status_code == 200 and r.json()["status_code"] == 1000, (path, r.text)
        assert r.headers["X-Request-ID"] == r.headers["X-Correlation-ID"]
