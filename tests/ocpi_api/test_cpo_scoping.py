"""Every lookup by an OCPI id is scoped to the CPO it came from, and CiString ids match in any
case: two CPOs with the same location id, EVSE uid and session id never touch each other's
bookings; a CPO that re-cases ids (ours included) is still understood."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from chargebook.db.models import Booking, ChargeDetailRecord, Location
from chargebook.ocpi.transport import authorization_header
from tests.conftest import LiveServer
from tests.factories import api, make_client, window, with_db
from tests.ocpi_api.conftest import Cpo, make_cpo
from tests.ocpi_api.test_receivers import location
from tests.ocpi_api.test_sessions_cdrs import _cdr, _iso, _session

TOKEN = "04A2B3C4D5E6F7"


@pytest.fixture
def two_cpos(live: LiveServer, database_url: str) -> Iterator[tuple[Cpo, Cpo]]:
    cpos = []
    for _ in range(2):
        party_id, token = make_cpo(database_url)
        http = httpx.Client(base_url=live.base, headers={"Authorization": authorization_header(token)})
        cpos.append(Cpo(party_id, token, http))
    yield cpos[0], cpos[1]
    for cpo in cpos:
        cpo.http.close()


@pytest.fixture
def client(live: LiveServer, database_url: str) -> Iterator[httpx.Client]:
    _, key = make_client(database_url, reservation_fee=Decimal("1.5"), commission_percent=Decimal(10))
    with api(live.client_base, key) as http:
        yield http


def _push_same_site(a: Cpo, b: Cpo) -> tuple[str, str]:
    """Both CPOs push a location with the same id and EVSE uids; returns (location id, EVSE uid)."""
    loc_id = f"LOC-{secrets.token_hex(3).upper()}"
    for cpo in (a, b):
        body = location(cpo, loc_id) | {"name": f"site of {cpo.party_id}"}
        r = cpo.http.put(cpo.url(f"/locations/DE/{cpo.party_id}/{loc_id}"), json=body)
        assert r.json()["status_code"] == 1000, r.text
    evse = a.http.get(a.url(f"/locations/DE/{a.party_id}/{loc_id}")).json()["data"]["evses"][0]["uid"]
    return loc_id, evse


def _book(client: httpx.Client, cpo: Cpo, loc_id: str, evse: str, database_url: str, **extra: Any) -> dict[str, Any]:
    start, end = window(20, 60)
    body = {"location_id": loc_id, "evse_uid": evse, "reservation_start": start, "reservation_end": end,
            "cpo_party_id": cpo.party_id, "cpo_country_code": "DE"}
    body |= extra or {"token_strategy": "pipelet", "token_uid": TOKEN}
    r = client.post("/bookings", json=body)
    assert r.status_code == 202, r.text
    booking: dict[str, Any] = r.json()

    async def confirm(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            await session.execute(update(Booking).where(Booking.id == booking["id"]).values(status="CONFIRMED"))

    with_db(database_url, confirm)
    return booking


def _status(client: httpx.Client, booking: dict[str, Any]) -> str:
    return str(client.get(f"/bookings/{booking['id']}").json()["status"])


def _cdr_flag(database_url: str, cdr_id: str) -> str | None:
    async def flag(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return await session.scalar(select(ChargeDetailRecord.flag).where(ChargeDetailRecord.id == cdr_id))

    return with_db(database_url, flag)  # type: ignore[no-any-return]


def _start(booking: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(booking["reservation_start"]) + timedelta(minutes=2)


def test_sessions_and_cdrs_of_another_cpo_with_the_same_ids_leave_a_booking_alone(
    two_cpos: tuple[Cpo, Cpo], client: httpx.Client, database_url: str
) -> None:
    a, b = two_cpos
    loc_id, evse = _push_same_site(a, b)
    booking = _book(client, a, loc_id, evse, database_url)
    start, session_id = _start(booking), f"S-{secrets.token_hex(3).upper()}"
    # B reports a session and a CDR at "the same" EVSE with the same token and session id.
    r = b.http.put(b.url(f"/sessions/DE/{b.party_id}/{session_id}"),
                   json=_session(b, loc_id, evse, session_id, "ACTIVE", start))
    assert r.json()["status_code"] == 1000, r.text
    assert _status(client, booking) == "CONFIRMED"
    b_cdr = f"CDR-B-{secrets.token_hex(3)}"
    assert b.http.post(b.url("/cdrs"), json=_cdr(b, loc_id, evse, b_cdr, session_id, start)).status_code == 200
    assert _status(client, booking) == "CONFIRMED"
    assert _cdr_flag(database_url, b_cdr) == "unmatched"
    # A's own session with that id is its own, and so is what each reads back.
    r = a.http.put(a.url(f"/sessions/DE/{a.party_id}/{session_id}"),
                   json=_session(a, loc_id, evse, session_id, "ACTIVE", start))
    assert r.json()["status_code"] == 1000, r.text
    assert _status(client, booking) == "ATTENDING"
    got = b.http.get(b.url(f"/sessions/DE/{b.party_id}/{session_id}")).json()["data"]
    assert got["party_id"] == b.party_id
    got = b.http.get(b.url(f"/locations/DE/{b.party_id}/{loc_id}")).json()["data"]
    assert got["name"] == f"site of {b.party_id}"
    # A's CDR names neither EVSE nor reservation: its session (re-cased) leads to the booking.
    cdr = _cdr(a, loc_id, evse, f"CDR-A-{secrets.token_hex(3)}", session_id.lower(), start)
    del cdr["cdr_location"]["evse_uid"]
    cdr["cdr_token"]["uid"] = "SOMEONE-ELSE"
    assert a.http.post(a.url("/cdrs"), json=cdr).json()["status_code"] == 1000
    assert _status(client, booking) == "COMPLETED"


def test_a_cdr_without_evse_uid_is_matched_by_our_reservation_id_in_any_case(
    two_cpos: tuple[Cpo, Cpo], client: httpx.Client, database_url: str
) -> None:
    a, b = two_cpos
    loc_id, evse = _push_same_site(a, b)
    booking = _book(client, a, loc_id, evse, database_url)
    # B echoes A's reservation id: not B's booking, so nothing happens.
    cdr = _cdr(b, loc_id, evse, f"CDR-B-{secrets.token_hex(3)}", None, _start(booking))
    cdr |= {"authorization_reference": booking["id"].upper()}
    assert b.http.post(b.url("/cdrs"), json=cdr).json()["status_code"] == 1000
    assert _status(client, booking) == "CONFIRMED"
    cdr = _cdr(a, loc_id.lower(), evse, f"CDR-A-{secrets.token_hex(3)}", None, _start(booking))
    del cdr["cdr_location"]["evse_uid"]
    cdr["cdr_token"]["uid"] = "SOMEONE-ELSE"
    cdr["authorization_reference"] = booking["id"].upper()
    assert a.http.post(a.url("/cdrs"), json=cdr).json()["status_code"] == 1000
    assert _status(client, booking) == "COMPLETED"


def test_an_ad_hoc_token_is_allowed_only_at_its_bookings_cpo(
    two_cpos: tuple[Cpo, Cpo], client: httpx.Client, database_url: str
) -> None:
    a, b = two_cpos
    loc_id, evse = _push_same_site(a, b)
    booking = _book(client, a, loc_id, evse, database_url, token_strategy="ad_hoc")
    uid = booking["token"]["uid"]
    refs = {"location_id": loc_id, "evse_uids": [evse]}
    at_b = b.http.post(b.url(f"/tokens/{uid}/authorize"), json=refs).json()["data"]
    assert at_b["allowed"] == "NOT_ALLOWED"
    re_cased = {"location_id": loc_id.lower(), "evse_uids": [evse.lower()]}
    at_a = a.http.post(a.url(f"/tokens/{uid.lower()}/authorize"), json=re_cased).json()["data"]
    assert at_a["allowed"] == "ALLOWED"
    assert at_a["authorization_reference"] == booking["id"]
    assert _status(client, booking) == "ATTENDING"


def test_a_cpo_that_re_cases_its_ids_updates_the_same_objects(
    two_cpos: tuple[Cpo, Cpo], database_url: str
) -> None:
    a, _ = two_cpos
    loc_id = f"Loc-{secrets.token_hex(3).upper()}"
    body = location(a, loc_id)
    assert a.http.put(a.url(f"/locations/DE/{a.party_id}/{loc_id}"), json=body).json()["status_code"] == 1000
    evse = body["evses"][0]["uid"]
    # The same location again, every id re-cased, under de/<party> in lower case.
    again = location(a, loc_id.lower()) | {"country_code": "de", "party_id": a.party_id.lower()}
    for item in again["evses"]:
        item["uid"] = item["uid"].lower()
    r = a.http.put(a.url(f"/locations/de/{a.party_id.lower()}/{loc_id.lower()}"), json=again)
    assert r.json()["status_code"] == 1000, r.text
    patch = {"status": "CHARGING", "last_updated": _iso(datetime.now().astimezone())}
    r = a.http.patch(a.url(f"/locations/DE/{a.party_id}/{loc_id.upper()}/{evse.lower()}"), json=patch)
    assert r.json()["status_code"] == 1000, r.text
    got = a.http.get(a.url(f"/locations/DE/{a.party_id}/{loc_id}/{evse.upper()}")).json()
    assert got["status_code"] == 1000 and got["data"]["status"] == "CHARGING"

    async def count(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return list(await session.scalars(select(Location.id).where(Location.id == loc_id)))

    assert with_db(database_url, count) == [loc_id]  # one row, kept as first written
    full = a.http.get(a.url(f"/locations/DE/{a.party_id}/{loc_id}")).json()["data"]
    assert len(full["evses"]) == len(body["evses"])
