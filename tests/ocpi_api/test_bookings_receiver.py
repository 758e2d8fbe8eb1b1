"""Our OCPI 2.3.0 endpoints over HTTP: version details with the Bookings Receiver, and the
CPO's BookingLocation, Calendar and Booking pushes (both segment orders of ocpi/ocpi#577)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from chargebook.db.models import BookingLocation, BookingTimeslot, ChargeDetailRecord
from tests.conftest import LiveServer
from tests.factories import with_db
from tests.ocpi_api.conftest import Cpo

BASE = "/ocpi/2.3.0"


def booking_location(cpo: Cpo, bl_id: str = "BL1", *, evse_uid: str = "EVSE-1") -> dict[str, Any]:
    return {
        "country_code": "DE", "party_id": cpo.party_id, "id": bl_id, "location_id": "LOC-B",
        "booking_option": {"evse_uid": evse_uid, "connector_types": ["IEC_62196_T2"]},
        "policy": {"reservation_required": False},
        "booking_terms": {"supported_access_methods": ["TOKEN"], "change_until_minutes": 30,
                          "cancel_until_minutes": 60, "max_booking_duration": 240},
        "calendars": [{
            "id": "CAL1", "begin_from": "2030-01-01T00:00:00Z", "end_before": "2030-01-02T00:00:00Z",
            "timeslot_increment": 15,
            "available_timeslots": [
                {"start_date_time": "2030-01-01T08:00:00Z", "end_date_time": "2030-01-01T12:00:00Z",
                 "max_power": 22000},
                {"start_date_time": "2030-01-01T14:00:00Z", "end_date_time": "2030-01-01T18:00:00Z"},
            ],
            "last_updated": "2029-12-01T00:00:00Z",
        }],
        "last_updated": "2029-12-01T00:00:00Z",
    }


def _slots(url: str, party_id: str, bl_id: str) -> list[tuple[str, str]]:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            rows = await session.execute(
                select(BookingTimeslot.start_at, BookingTimeslot.end_at)
                .join(BookingLocation, BookingLocation.pk == BookingTimeslot.booking_location_pk)
                .where(BookingLocation.id == bl_id, BookingLocation.location_id == "LOC-B")
                .order_by(BookingTimeslot.start_at))
            return [(a.isoformat(), b.isoformat()) for a, b in rows]

    return with_db(url, run)


def test_version_details_publish_the_bookings_receiver(live: LiveServer, cpo: Cpo) -> None:
    details = cpo.http.get(BASE).json()["data"]
    assert details["version"] == "2.3.0"
    modules = {(e["identifier"], e["role"]): e["url"] for e in details["endpoints"]}
    assert modules[("Booking", "RECEIVER")] == f"{live.base}{BASE}/bookings"
    assert modules[("sessions", "RECEIVER")] == f"{live.base}{BASE}/sessions"
    assert ("Booking", "RECEIVER") not in {(e["identifier"], e["role"])
                                          for e in cpo.http.get("/ocpi/2.2.1").json()["data"]["endpoints"]}


def test_booking_location_push_patch_and_both_paths(cpo: Cpo, database_url: str) -> None:
    spec_path = f"{BASE}/bookings/DE/{cpo.party_id}/booking_locations/BL1"
    example_path = f"{BASE}/bookings/bookinglocations/DE/{cpo.party_id}/BL1"
    r = cpo.http.put(spec_path, json=booking_location(cpo))
    assert r.status_code == 200 and r.json()["status_code"] == 1000, r.text
    assert cpo.http.get(example_path).json()["data"]["id"] == "BL1"
    assert _slots(database_url, cpo.party_id, "BL1") == [
        ("2030-01-01T08:00:00+00:00", "2030-01-01T12:00:00+00:00"),
        ("2030-01-01T14:00:00+00:00", "2030-01-01T18:00:00+00:00")]
    # A Calendar PATCH (the examples' path order) replaces its slots and bumps the parent.
    patch = {"available_timeslots": [{"start_date_time": "2030-01-01T09:00:00Z",
                                      "end_date_time": "2030-01-01T10:00:00Z"}],
             "last_updated": "2029-12-02T00:00:00Z"}
    r = cpo.http.patch(f"{example_path}/CAL1", json=patch)
    assert r.json()["status_code"] == 1000, r.text
    assert cpo.http.get(f"{spec_path}/CAL1").json()["data"]["available_timeslots"][0]["start_date_time"] == \
        "2030-01-01T09:00:00Z"
    assert cpo.http.get(spec_path).json()["data"]["last_updated"] == "2029-12-02T00:00:00Z"
    assert _slots(database_url, cpo.party_id, "BL1") == [("2030-01-01T09:00:00+00:00", "2030-01-01T10:00:00+00:00")]
    # An older PATCH is ignored; one without last_updated is 2001; terms merge.
    r = cpo.http.patch(spec_path, json={"policy": {"reservation_required": True}, "last_updated": "2029-01-01T00:00:00Z"})
    assert "ignored" in r.json()["status_message"]
    r = cpo.http.patch(spec_path, json={"policy": {"reservation_required": True}})
    assert r.status_code == 400 and r.json()["status_code"] == 2001
    r = cpo.http.patch(spec_path, json={"booking_terms": {"cancel_until_minutes": 5},
                                        "last_updated": "2029-12-03T00:00:00Z"})
    terms = cpo.http.get(spec_path).json()["data"]["booking_terms"]
    assert terms["cancel_until_minutes"] == 5 and terms["max_booking_duration"] == 240


def test_booking_location_refusals(cpo: Cpo) -> None:
    path = f"{BASE}/bookings/DE/{cpo.party_id}/booking_locations/BL2"
    body = booking_location(cpo, "BL2")
    del body["calendars"][0]["available_timeslots"]
    r = cpo.http.put(path, json=body)
    assert r.status_code == 400 and "available_timeslots" in r.json()["status_message"]
    r = cpo.http.put(f"{BASE}/bookings/DE/XXX/booking_locations/BL2", json=booking_location(cpo, "BL2"))
    assert r.json()["status_code"] == 2001  # not its party
    r = cpo.http.put(path, json=booking_location(cpo, "OTHER"))
    assert r.json()["status_code"] == 2001  # id differs from the URL
    assert cpo.http.get(f"{path}/CAL1").status_code == 404
    # A booking nobody asked for is unknown.
    r = cpo.http.patch(f"{BASE}/bookings/DE/{cpo.party_id}/NOPE",
                       json={"reservation_status": "RESERVED", "last_updated": "2030-01-01T00:00:00Z"})
    assert r.status_code == 404 and r.json()["status_code"] == 2003


def test_a_2_3_0_cdr_with_taxes_is_stored_exactly(cpo: Cpo, database_url: str) -> None:
    cdr = {
        "country_code": "DE", "party_id": cpo.party_id, "id": f"CDR-{cpo.party_id}", "start_date_time":
        "2030-01-01T08:00:00Z", "end_date_time": "2030-01-01T09:00:00Z", "currency": "EUR",
        "cdr_token": {"country_code": "DE", "party_id": "CBK", "uid": "AB12", "type": "RFID", "contract_id": "C1"},
        "auth_method": "WHITELIST",
        "cdr_location": {"id": "LOC-B", "address": "A 1", "city": "Berlin", "country": "DEU",
                         "coordinates": {"latitude": "52.50000", "longitude": "13.40000"}, "evse_uid": "EVSE-1",
                         "evse_id": "DE*X*E1", "connector_id": "1", "connector_standard": "IEC_62196_T2",
                         "connector_format": "SOCKET", "connector_power_type": "AC_3_PHASE"},
        "charging_periods": [{"start_date_time": "2030-01-01T08:00:00Z",
                              "dimensions": [{"type": "ENERGY", "volume": 10}]}],
        "total_cost": {"before_taxes": 4.50, "taxes": [{"name": "VAT", "percentage": 19, "amount": 0.86}]},
        "total_energy": 10, "total_time": 1, "booking_id": "CPO-B-1", "last_updated": "2030-01-01T09:00:00Z",
    }
    r = cpo.http.post(f"{BASE}/cdrs", json=cdr)
    assert r.json()["status_code"] == 1000, r.text
    assert r.headers["Location"].endswith(f"{BASE}/cdrs/DE/{cpo.party_id}/CDR-{cpo.party_id}")

    async def run(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            row = await session.scalar(select(ChargeDetailRecord).where(ChargeDetailRecord.id == cdr["id"]))
            return row.total_cost_excl_vat, row.total_cost_incl_vat, row.flag

    assert with_db(database_url, run) == (Decimal("4.50"), Decimal("5.36"), "unmatched")
