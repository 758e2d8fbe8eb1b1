"""Bookings 1.1 flows against the simulator: rejections, faults, changes, cancellations by
either side, fulfilment by a session, no-show, and the admin API."""

from __future__ import annotations

from typing import Any

from chargebook.ocpi.v230 import CDR, Booking, Session, parse_datetime
from tests.cpo_sim.bookings_kit import (
    book,
    booking_pushes,
    first_booking_location,
    pushed,
    request_for,
)
from tests.cpo_sim.conftest import Connection, body, eventually


def last_push(c: Connection, booking_id: str, count: int = 1) -> Booking:
    return Booking.model_validate(pushed(c, booking_id, count)[-1].body)


def statuses(booking: Booking) -> list[str]:
    return [r.request_status.value for r in booking.booking_requests]


def admin_booking(c: Connection, booking_id: str) -> dict[str, Any]:
    return dict(c.admin("GET", f"bookings/{booking_id}"))


def test_taken_slot_outside_calendar_and_rules_are_rejected(booked: Connection) -> None:
    bl = first_booking_location(booked)
    first = book(booked, request_for(bl, "REQ-A", start_in=7200, minutes=60))
    clash = book(booked, request_for(bl, "REQ-B", start_in=7200 + 1800, minutes=60))
    beyond = book(booked, request_for(bl, "REQ-C", start_in=8 * 86400))
    too_long = book(booked, request_for(bl, "REQ-D", start_in=86400, minutes=300))
    past = book(booked, request_for(bl, "REQ-P", start_in=-2 * 3600))
    evse_uid = bl["booking_option"]["evse_uid"]
    booked.admin("POST", "config", json={"bookings": {"reject_evse_uids": [evse_uid]}})
    ruled = book(booked, request_for(bl, "REQ-E", start_in=2 * 86400))
    assert last_push(booked, first["id"]).reservation_status.value == "RESERVED"
    for answer in (clash, beyond, too_long, past, ruled):
        assert answer["reservation_status"] == "PENDING"
        pushed_booking = last_push(booked, answer["id"])
        assert pushed_booking.reservation_status.value == "REJECTED"
        assert statuses(pushed_booking) == ["DECLINED"]
    reasons = [
        admin_booking(booked, a["id"])["requests"][0]["reason"]
        for a in (clash, beyond, too_long, past)
    ]
    assert reasons == [
        "the slot is taken",
        "the period ends beyond the calendar",
        "longer than the maximum of 240 minutes",
        "the period is in the past",
    ]


def test_failed_and_never_answered_requests(booked: Connection) -> None:
    bl = first_booking_location(booked)
    booked.admin("POST", "config", json={"bookings": {"never_answer_share": 1.0}})
    silent = book(booked, request_for(bl, "REQ-SILENT", start_in=7200))
    booked.admin("POST", "config", json={"bookings": {"never_answer_share": 0, "fail_share": 1}})
    failed = book(booked, request_for(bl, "REQ-FAIL", start_in=3 * 3600))
    failed_push = last_push(booked, failed["id"])
    assert failed_push.reservation_status.value == "FAILED"
    assert statuses(failed_push) == ["FAILED"]
    eventually(lambda: booked.admin("GET", "events", params={"kind": "booking_unanswered"}))
    assert booking_pushes(booked.emsp.calls, silent["id"]) == []
    state = admin_booking(booked, silent["id"])
    assert state["reservation_status"] == "PENDING" and state["pushes"] == 0
    assert state["requests"][0]["request_status"] == "PENDING"
    polled = body(booked.get(f"bookings/{silent['id']}"))["data"]
    assert polled["reservation_status"] == "PENDING"


def test_change_is_accepted_with_the_new_period(booked: Connection) -> None:
    bl = first_booking_location(booked)
    created = book(booked, request_for(bl, "REQ-CH", start_in=4 * 3600))
    assert last_push(booked, created["id"]).reservation_status.value == "RESERVED"
    change = request_for(bl, "REQ-CH", start_in=5 * 3600, minutes=45)
    change["tokens"][0]["uid"] = "TOKEN0002"
    answer = book(booked, change)
    assert answer["id"] == created["id"]
    assert answer["reservation_status"] == "RESERVED"
    assert [r["request_status"] for r in answer["booking_requests"]] == ["ACCEPTED", "PENDING"]
    changed = last_push(booked, created["id"], 2)
    assert changed.reservation_status.value == "RESERVED"
    assert statuses(changed) == ["ACCEPTED", "ACCEPTED"]
    assert changed.period.start_date_time == parse_datetime(change["period"]["start_date_time"])
    assert [t.uid for t in changed.booking_tokens or []] == ["TOKEN0002"]
    # The old slot is free again, the new one is taken.
    old = book(booked, request_for(bl, "REQ-OLD", start_in=4 * 3600))
    assert last_push(booked, old["id"]).reservation_status.value == "RESERVED"
    assert admin_booking(booked, created["id"])["requests_received"] == 2


def test_change_is_declined_after_change_until(booked: Connection) -> None:
    bl = first_booking_location(booked)
    created = book(booked, request_for(bl, "REQ-LATE", start_in=600))  # change_until: 60 min
    last_push(booked, created["id"])
    book(booked, request_for(bl, "REQ-LATE", start_in=1200))
    declined = last_push(booked, created["id"], 2)
    assert declined.reservation_status.value == "RESERVED"
    assert statuses(declined) == ["ACCEPTED", "DECLINED"]
    assert declined.period == Booking.model_validate(created).period  # unchanged
    reason = admin_booking(booked, created["id"])["requests"][1]["reason"]
    assert reason == "changes close 60 minutes before the start"


def test_emsp_cancels(booked: Connection) -> None:
    bl = first_booking_location(booked)
    created = book(booked, request_for(bl, "REQ-X", start_in=7200))
    last_push(booked, created["id"])
    cancel = request_for(
        bl,
        "REQ-X",
        start_in=7200,
        canceled={"cancellation_reason": "TRAFFIC", "who_canceled": "EMSP"},
    )
    book(booked, cancel)
    canceled = last_push(booked, created["id"], 2)
    assert canceled.reservation_status.value == "CANCELED"
    assert canceled.canceled is not None and canceled.canceled.who_canceled.value == "EMSP"
    assert canceled.canceled.cancellation_reason.value == "TRAFFIC"
    assert statuses(canceled) == ["ACCEPTED", "ACCEPTED"]
    # Cancelling again is declined; an unknown request_id is a 404.
    book(booked, cancel)
    again = last_push(booked, created["id"], 3)
    assert statuses(again) == ["ACCEPTED", "ACCEPTED", "DECLINED"]
    unknown = booked.post("bookings", {**cancel, "request_id": "REQ-NONE"})
    assert unknown.status_code == 404 and body(unknown)["status_code"] == 2001


def test_cpo_cancels_and_patch_pushes(booked: Connection) -> None:
    booked.admin("POST", "config", json={"bookings": {"push_method": "PATCH"}})
    bl = first_booking_location(booked)
    created = book(booked, request_for(bl, "REQ-CPO", start_in=7200))
    assert pushed(booked, created["id"])[0].method == "PUT"
    view = booked.admin("POST", f"bookings/{created['id']}/cancel", json={"reason": "POWER_OUTAGE"})
    assert view["reservation_status"] == "CANCELED"
    patch = pushed(booked, created["id"], 2)[-1]
    assert patch.method == "PATCH"
    assert patch.body["reservation_status"] == "CANCELED"
    assert patch.body["canceled"] == {"cancellation_reason": "POWER_OUTAGE", "who_canceled": "CPO"}
    assert "last_updated" in patch.body
    # An EVSE that breaks cancels its bookings (BROKEN_CHARGER).
    other = book(booked, request_for(bl, "REQ-BROKEN", start_in=3 * 3600))
    pushed(booked, other["id"])
    evse = bl["booking_option"]["evse_uid"]
    booked.admin("POST", f"evses/{bl['location_id']}/{evse}/status", json={"status": "OUTOFORDER"})
    broken = pushed(booked, other["id"], 2)[-1].body
    assert broken["canceled"] == {"cancellation_reason": "BROKEN_CHARGER", "who_canceled": "CPO"}
    assert booked.admin("POST", "bookings/NOPE/cancel", json={})["error"] == "no booking NOPE"


def test_driver_fulfils_the_booking_with_a_session(booked: Connection) -> None:
    booked.admin("POST", "config", json={"driver": {"session_kwh": 10}})
    bl = first_booking_location(booked)
    created = book(booked, request_for(bl, "REQ-F", start_in=1, minutes=5))
    fulfilled = last_push(booked, created["id"], 2)
    assert fulfilled.reservation_status.value == "FULFILLED"
    emsp = booked.emsp
    put = next(c for c in emsp.calls if c.method == "PUT" and "/sessions/" in c.path)
    assert put.path.startswith("/emsp/2.3.0/sessions/DE/SIM/")
    session = Session.model_validate(put.body)
    assert session.authorization_reference == "AUTH-REQ-F"
    assert session.cdr_token.uid == "TOKEN0001"
    assert session.evse_uid == bl["booking_option"]["evse_uid"]
    [cdr_call] = emsp.wait_for(
        lambda cs: [c for c in cs if c.method == "POST" and "/cdrs" in c.path]
    )
    cdr = CDR.model_validate(cdr_call.body)
    assert cdr.booking_id == created["id"]
    assert cdr.authorization_reference == "AUTH-REQ-F"
    assert cdr.total_cost.before_taxes > 0 and cdr.total_cost.taxes
    view = admin_booking(booked, created["id"])
    assert view["session_id"] == session.id and view["cdr_id"] == cdr.id


def test_nobody_comes_no_show_with_a_fee(booked: Connection) -> None:
    booked.admin(
        "POST",
        "config",
        json={"driver": {"no_show_share": 1.0}, "bookings": {"noshow_timeout_minutes": 0.01}},
    )
    bl = first_booking_location(booked)
    created = book(booked, request_for(bl, "REQ-NS", start_in=0.5, minutes=5))
    no_show = last_push(booked, created["id"], 2)
    assert no_show.reservation_status.value == "NO_SHOW"
    [cdr_call] = booked.emsp.wait_for(
        lambda cs: [c for c in cs if c.method == "POST" and "/cdrs" in c.path]
    )
    cdr = CDR.model_validate(cdr_call.body)
    assert cdr.booking_id == created["id"]
    assert cdr.total_cost.before_taxes >= 3  # the tariff's no-show fee (FLAT 3.00 / 5.00)
    assert not [c for c in booked.emsp.calls if "/sessions/" in c.path]


def test_admin_forces_a_status_and_counts(booked: Connection) -> None:
    bl = first_booking_location(booked)
    created = book(booked, request_for(bl, "REQ-ADM", start_in=7200))
    last_push(booked, created["id"])
    view = booked.admin("POST", f"bookings/{created['id']}/status", json={"status": "FAILED"})
    assert view["reservation_status"] == "FAILED"
    assert last_push(booked, created["id"], 2).reservation_status.value == "FAILED"
    quiet = booked.admin(
        "POST", "bookings/REQ-ADM/status", json={"status": "RESERVED", "push": False}
    )
    assert quiet["reservation_status"] == "RESERVED" and quiet["pushes"] == 2
    listed = booked.admin("GET", "bookings")
    assert [(b["id"], b["requests_received"]) for b in listed] == [(created["id"], 1)]
    bad = booked.admin("POST", f"bookings/{created['id']}/status", json={"status": "NOPE"})
    assert "status must be one of" in bad["error"]


def test_bad_booking_requests_are_refused(booked: Connection) -> None:
    bl = first_booking_location(booked)
    missing = request_for(bl, "REQ-BAD")
    del missing["period"]
    answer = body(booked.post("bookings", missing))
    assert answer["status_code"] == 2001 and "period" in answer["status_message"]
    unknown = booked.post("bookings", {**request_for(bl, "REQ-U"), "booking_location_id": "BL-X"})
    assert unknown.status_code == 404 and body(unknown)["status_code"] == 2003
    assert booked.admin("GET", "bookings") == []
