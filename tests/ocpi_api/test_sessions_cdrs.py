"""Sessions and CDRs complete bookings; every CDR is kept, odd ones flagged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from chargebook.db.models import Booking, ChargeDetailRecord
from tests.conftest import LiveServer
from tests.factories import api, make_client, window, with_db
from tests.ocpi_api.conftest import Cpo
from tests.ocpi_api.test_receivers import location

EXAMPLES = Path(__file__).parents[1] / "data" / "ocpi-examples" / "2.2.1"
OPEN_CLIENTS: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients():  # type: ignore[no-untyped-def]
    yield
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _confirmed_booking(cpo: Cpo, live: LiveServer, database_url: str, loc_id: str) -> dict:  # type: ignore[type-arg]
    cpo.http.put(cpo.url(f"/locations/DE/{cpo.party_id}/{loc_id}"), json=location(cpo, loc_id))
    evse = cpo.http.get(cpo.url(f"/locations/DE/{cpo.party_id}/{loc_id}")).json()["data"]["evses"][0]["uid"]
    _, key = make_client(database_url, reservation_fee=Decimal("1.50"), commission_percent=Decimal("10"))
    client = api(live.client_base, key)
    OPEN_CLIENTS.append(client)
    start, end = window(20, 60)
    booking = client.post("/bookings", json={"location_id": loc_id, "evse_uid": evse, "reservation_start": start,
                                             "reservation_end": end, "token_strategy": "pipelet",
                                             "token_uid": "04A2B3C4D5E6F7"}).json()

    async def confirm(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            await session.execute(update(Booking).where(Booking.id == booking["id"]).values(status="CONFIRMED"))

    with_db(database_url, confirm)
    return {"booking": booking, "client": client, "evse": evse}


def _session(cpo: Cpo, loc_id: str, evse: str, session_id: str, status: str, start: datetime) -> dict:  # type: ignore[type-arg]
    return {
        "country_code": "DE", "party_id": cpo.party_id, "id": session_id, "start_date_time": _iso(start),
        "kwh": 0, "cdr_token": {"country_code": "DE", "party_id": "CBK", "uid": "04A2B3C4D5E6F7", "type": "RFID",
                                "contract_id": "DE-CBK-P04A2B3C4"},
        "auth_method": "WHITELIST", "location_id": loc_id, "evse_uid": evse, "connector_id": "1",
        "currency": "EUR", "status": status, "last_updated": _iso(start),
    }


def _cdr(cpo: Cpo, loc_id: str, evse: str, cdr_id: str, session_id: str | None, start: datetime) -> dict:  # type: ignore[type-arg]
    body = json.loads((EXAMPLES / "cdr_example.json").read_text())
    body.update(country_code="DE", party_id=cpo.party_id, id=cdr_id, session_id=session_id,
                start_date_time=_iso(start), end_date_time=_iso(start + timedelta(hours=1)))
    body["cdr_token"].update(uid="04A2B3C4D5E6F7", country_code="DE", party_id="CBK")
    body["cdr_location"].update(id=loc_id, evse_uid=evse)
    return body


def test_session_then_cdr_completes_with_the_cdr_price(cpo: Cpo, live: LiveServer, database_url: str) -> None:
    ctx = _confirmed_booking(cpo, live, database_url, "SCD1")
    booking, client, evse = ctx["booking"], ctx["client"], ctx["evse"]
    start = datetime.fromisoformat(booking["reservation_start"].replace("Z", "+00:00")) + timedelta(minutes=2)
    r = cpo.http.put(cpo.url(f"/sessions/DE/{cpo.party_id}/S1"), json=_session(cpo, "SCD1", evse, "S1", "ACTIVE", start))
    assert r.json()["status_code"] == 1000, r.text
    assert client.get(f"/bookings/{booking['id']}").json()["status"] == "ATTENDING"
    r = cpo.http.patch(cpo.url(f"/sessions/DE/{cpo.party_id}/S1"),
                       json={"status": "COMPLETED", "kwh": 15, "last_updated": _iso(start + timedelta(hours=1))})
    assert r.json()["status_code"] == 1000
    cdr = _cdr(cpo, "SCD1", evse, "CDR-1", "S1", start)
    r = cpo.http.post(cpo.url("/cdrs"), json=cdr)
    assert r.json()["status_code"] == 1000 and r.headers["Location"].endswith("/CDR-1")
    assert cpo.http.get(r.headers["Location"].split(str(live.base))[-1]).json()["data"]["id"] == "CDR-1"
    done = client.get(f"/bookings/{booking['id']}").json()
    assert done["status"] == "COMPLETED" and done["status_reason"] == "SESSION_COMPLETED"
    cpo_cost = Decimal(str(cdr["total_cost"]["incl_vat"]))
    commission = (cpo_cost * Decimal("0.10")).quantize(Decimal("0.01"))
    assert Decimal(str(done["client_price"])) == cpo_cost + Decimal("1.50") + commission
    assert done["price_breakdown"]["estimated"] is False
    assert [h["to_status"] for h in done["status_history"]] == ["REQUESTED", "ATTENDING", "COMPLETED"]
    # The same CDR again is stored and flagged, and changes nothing.
    assert cpo.http.post(cpo.url("/cdrs"), json=cdr).json()["status_code"] == 1000
    assert client.get(f"/bookings/{booking['id']}").json()["client_price"] == done["client_price"]

    async def flags(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return list(await session.scalars(select(ChargeDetailRecord.flag).where(ChargeDetailRecord.id == "CDR-1")))

    stored = with_db(database_url, flags)
    assert len(stored) == 2 and stored.count("duplicate") == 1


def test_cdr_without_session_completes_and_unknown_cdr_is_kept(cpo: Cpo, live: LiveServer, database_url: str) -> None:
    ctx = _confirmed_booking(cpo, live, database_url, "SCD2")
    booking, client, evse = ctx["booking"], ctx["client"], ctx["evse"]
    start = datetime.fromisoformat(booking["reservation_start"].replace("Z", "+00:00"))
    r = cpo.http.post(cpo.url("/cdrs"), json=_cdr(cpo, "SCD2", evse, "CDR-2", None, start))
    assert r.json()["status_code"] == 1000
    assert client.get(f"/bookings/{booking['id']}").json()["status"] == "COMPLETED"
    stray = _cdr(cpo, "SCD2", evse, "CDR-3", None, datetime.now(UTC) - timedelta(days=3))
    assert cpo.http.post(cpo.url("/cdrs"), json=stray).json()["status_code"] == 1000

    async def flag(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return await session.scalar(select(ChargeDetailRecord.flag).where(ChargeDetailRecord.id == "CDR-3"))

    assert with_db(database_url, flag) == "unmatched"
    broken = _cdr(cpo, "SCD2", evse, "CDR-4", None, start)
    del broken["total_cost"]
    r = cpo.http.post(cpo.url("/cdrs"), json=broken)
    assert r.status_code == 400 and r.json()["status_code"] == 2001


def test_pipelet_uid_is_authorized_only_by_its_booking(cpo: Cpo, live: LiveServer, database_url: str) -> None:
    ctx = _confirmed_booking(cpo, live, database_url, "SCD3")
    booking, client, evse = ctx["booking"], ctx["client"], ctx["evse"]
    refs = {"location_id": "SCD3", "evse_uids": [evse]}

    def move(start_in: timedelta) -> None:
        async def run(db):  # type: ignore[no-untyped-def]
            start = datetime.now(UTC) + start_in
            async with db.write() as session:
                await session.execute(update(Booking).where(Booking.id == booking["id"]).values(
                    reservation_start=start, reservation_end=start + timedelta(hours=1)))

        with_db(database_url, run)

    # Hours before its window (beyond the early-arrival grace): not authorized.
    move(timedelta(hours=3))
    r = cpo.http.post(cpo.url("/tokens/04A2B3C4D5E6F7/authorize"), json=refs)
    assert r.status_code == 404 and r.json()["status_code"] == 2004
    move(timedelta(minutes=-1))
    r = cpo.http.post(cpo.url("/tokens/04A2B3C4D5E6F7/authorize"), json=refs)
    assert r.json()["data"]["allowed"] == "ALLOWED", r.text
    assert r.json()["data"]["authorization_reference"] == booking["id"]
    assert client.get(f"/bookings/{booking['id']}").json()["status"] == "ATTENDING"
    other = cpo.http.post(cpo.url("/tokens/04A2B3C4D5E6F7/authorize"), json={"location_id": "ELSEWHERE"})
    assert other.status_code == 404
