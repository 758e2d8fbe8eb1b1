"""OCPI 2.3.0 and the Bookings module 1.1: versions, handshake, booking locations and
calendars, BookingRequests and the Booking pushes to a recording eMSP."""

from __future__ import annotations

from datetime import timedelta

import httpx

from chargebook.cpo_sim import SimulatorServer
from chargebook.ocpi.v230 import Booking, BookingLocation, Calendar
from tests.cpo_sim.bookings_kit import book, first_booking_location, pushed, request_for
from tests.cpo_sim.conftest import Connection, auth, body
from tests.cpo_sim.emsp import RecordingEmsp

# --- versions and the handshake ------------------------------------------------------------


def test_default_simulator_offers_only_2_2_1(sim: SimulatorServer) -> None:
    versions = body(httpx.get(sim.versions_url, headers=auth(sim.token_a)))["data"]
    assert versions == [{"version": "2.2.1", "url": f"{sim.url}/ocpi/cpo/2.2.1"}]
    missing = httpx.get(f"{sim.url}/ocpi/cpo/2.3.0", headers=auth(sim.token_a))
    assert missing.status_code == 404


def test_versions_list_each_offered_version_with_its_details(booking_cpo: SimulatorServer) -> None:
    headers = auth(booking_cpo.token_a)
    versions = body(httpx.get(booking_cpo.versions_url, headers=headers))["data"]
    base = f"{booking_cpo.url}/ocpi/cpo"
    assert versions == [
        {"version": "2.2.1", "url": f"{base}/2.2.1"},
        {"version": "2.3.0", "url": f"{base}/2.3.0"},
    ]
    old = body(httpx.get(f"{base}/2.2.1", headers=headers))["data"]
    new = body(httpx.get(f"{base}/2.3.0", headers=headers))["data"]
    old_ids = {(e["identifier"], e["role"]) for e in old["endpoints"]}
    new_ids = {(e["identifier"], e["role"]) for e in new["endpoints"]}
    assert new_ids - old_ids == {("Booking", "SENDER")}
    assert not any(e["identifier"] == "Booking" for e in old["endpoints"])
    booking = next(e for e in new["endpoints"] if e["identifier"] == "Booking")
    assert booking["url"] == f"{base}/2.3.0/bookings"
    assert all(e["url"].startswith(f"{base}/2.3.0/") for e in new["endpoints"])


def test_emsp_registers_on_2_3_0_and_gets_2_3_0_pushes(booked: Connection) -> None:
    emsp = booked.emsp
    assert booked.sim.sim.store.peer is not None
    assert booked.sim.sim.store.peer.version == "2.3.0"
    # The simulator read the eMSP's 2.3.0 details (not 2.2.1) and pushes there.
    assert [c.path for c in emsp.calls if c.method == "GET"][:2] == [
        "/emsp/versions",
        "/emsp/2.3.0",
    ]
    tariff = emsp.wait_for(
        lambda cs: [c for c in cs if c.method == "PUT" and "/tariffs/" in c.path]
    )
    assert tariff[0].path.startswith("/emsp/2.3.0/tariffs/DE/SIM/")
    assert tariff[0].body["tax_included"] == "NO"
    # The credentials answer is a 2.3.0 Credentials object; 2.2.1 paths still answer.
    assert booked.get("locations", limit=1).status_code == 200
    assert body(booked.get("tariffs"))["data"][0]["tax_included"] == "NO"


def test_simulator_registers_with_a_2_3_0_emsp_on_the_highest_mutual_version(
    booking_cpo: SimulatorServer, emsp230: RecordingEmsp
) -> None:
    peer = booking_cpo.register_with(emsp230.versions_url, emsp230.token_a)
    assert peer.version == "2.3.0"
    post = emsp230.find("POST", "/credentials")[0]
    assert post.path == "/emsp/2.3.0/credentials"
    assert emsp230.sim_fetch_status == [200]  # it read our versions with our token B


def test_a_2_2_1_only_emsp_gets_2_2_1_from_a_2_3_0_simulator(
    booking_cpo: SimulatorServer, emsp: RecordingEmsp
) -> None:
    peer = booking_cpo.register_with(emsp.versions_url, emsp.token_a)
    assert peer.version == "2.2.1"
    tariff = emsp.wait_for(
        lambda cs: [c for c in cs if c.method == "PUT" and "/tariffs/" in c.path]
    )
    assert "tax_included" not in tariff[0].body and "vat" in str(tariff[0].body)


# --- booking locations and calendars -------------------------------------------------------


def test_booking_locations_are_paginated_with_calendars(booked: Connection) -> None:
    first = booked.get("bookings/booking_locations", limit=2)
    assert first.status_code == 200
    page = body(first)
    total = int(first.headers["X-Total-Count"])
    reservable = booked.evses(capability="RESERVABLE")
    assert total == len(reservable) > 2
    assert first.headers["X-Limit"] == "2"
    assert "offset=2" in first.headers["Link"] and 'rel="next"' in first.headers["Link"]
    seen = [BookingLocation.model_validate(bl) for bl in page["data"]]
    following = body(booked.get("bookings/booking_locations", offset=2, limit=100))["data"]
    seen += [BookingLocation.model_validate(bl) for bl in following]
    assert len(seen) == total
    assert {bl.booking_option.evse_uid for bl in seen if bl.booking_option} == {
        e["evse_uid"] for e in reservable
    }
    bl = seen[0]
    assert bl.booking_terms is not None and bl.booking_terms.noshow_timeout == 15
    assert bl.booking_terms.max_booking_duration == 240
    assert bl.tariff_ids in (["AC-STD"], ["DC-STD"])
    [calendar] = bl.calendars or []
    assert calendar.timeslot_increment == 15
    assert calendar.end_before - calendar.begin_from == timedelta(days=7)
    assert [(s.start_date_time, s.end_date_time) for s in calendar.available_timeslots] == [
        (calendar.begin_from, calendar.end_before)
    ]
    # One BookingLocation and one Calendar on their own.
    one = body(booked.get(f"bookings/booking_locations/{bl.id}"))["data"]
    assert one["id"] == bl.id
    cal = body(booked.get(f"bookings/booking_locations/{bl.id}/{calendar.id}"))["data"]
    Calendar.model_validate(cal)
    unknown = booked.get("bookings/booking_locations/BL-NOPE")
    assert unknown.status_code == 404 and body(unknown)["status_code"] == 2003


def test_a_booked_slot_disappears_from_the_calendar(booked: Connection) -> None:
    bl = first_booking_location(booked)
    answer = book(booked, request_for(bl, "REQ-CAL", start_in=7200, minutes=60))
    cal = body(booked.get(f"bookings/booking_locations/{bl['id']}/C1"))["data"]
    slots = [(s["start_date_time"], s["end_date_time"]) for s in cal["available_timeslots"]]
    period = answer["period"]
    assert len(slots) == 2
    assert slots[0][1] == period["start_date_time"] and slots[1][0] == period["end_date_time"]
    # timeslot_from/to: only booking locations with a free timeslot in that window.
    start, end = period["start_date_time"], period["end_date_time"]
    inside = body(booked.get("bookings/booking_locations", timeslot_from=start, timeslot_to=end))[
        "data"
    ]
    assert bl["id"] not in {b["id"] for b in inside} and inside


# --- requests and pushes -------------------------------------------------------------------


def test_request_is_pending_then_reserved_is_pushed(booked: Connection) -> None:
    bl = first_booking_location(booked)
    answer = book(booked, request_for(bl, "REQ-1"))
    assert answer["reservation_status"] == "PENDING"
    assert answer["request_id"] == "REQ-1" and answer["country_code"] == "DE"
    assert answer["booking_option"]["evse_uid"] == bl["booking_option"]["evse_uid"]
    assert [r["request_status"] for r in answer["booking_requests"]] == ["PENDING"]
    [push] = pushed(booked, answer["id"])
    assert push.method == "PUT"
    assert push.path == f"/emsp/2.3.0/booking/DE/SIM/{answer['id']}"
    assert push.headers["ocpi-from-party-id"] == "SIM" and push.headers["ocpi-to-party-id"] == "EMP"
    booking = Booking.model_validate(push.body)
    assert booking.reservation_status.value == "RESERVED"
    assert [r.request_status.value for r in booking.booking_requests] == ["ACCEPTED"]
    assert booking.authorization_reference == "AUTH-REQ-1"
    # The state is readable: the list and the single booking.
    listed = body(booked.get("bookings"))["data"]
    assert [b["reservation_status"] for b in listed] == ["RESERVED"]
    one = body(booked.get(f"bookings/{answer['id']}"))["data"]
    assert one["reservation_status"] == "RESERVED"


def test_bookings_are_2_3_0_only(booked: Connection) -> None:
    old = httpx.get(f"{booked.sim.url}/ocpi/cpo/2.2.1/bookings", headers=auth(booked.token))
    assert old.status_code == 404
