"""Helpers for the Bookings tests: fast booking rules, a 2.3.0 connection, BookingRequests,
and finding the Booking pushes the recording eMSP received."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chargebook.ocpi.v230 import Booking, format_datetime
from tests.cpo_sim.conftest import Connection, body
from tests.cpo_sim.emsp import PARTY, Call


def at(seconds: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds))


def booking_token(uid: str = "TOKEN0001") -> dict[str, Any]:
    return {
        "country_code": PARTY[0],
        "party_id": PARTY[1],
        "uid": uid,
        "type": "APP_USER",
        "contract_id": f"NLEMPC{uid[-6:]}",
    }


def first_booking_location(c: Connection) -> dict[str, Any]:
    page = body(c.get("bookings/booking_locations", limit=1))
    return dict(page["data"][0])


def request_for(
    bl: dict[str, Any],
    request_id: str,
    *,
    start_in: float = 3600,
    minutes: float = 30,
    **extra: Any,
) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(seconds=start_in)
    return {
        "country_code": PARTY[0],
        "party_id": PARTY[1],
        "request_id": request_id,
        "location_id": bl["location_id"],
        "booking_location_id": bl["id"],
        "tokens": [booking_token()],
        "period": {
            "start_date_time": format_datetime(start),
            "end_date_time": format_datetime(start + timedelta(minutes=minutes)),
        },
        "authorization_reference": f"AUTH-{request_id}",
        **extra,
    }


def book(c: Connection, payload: dict[str, Any]) -> dict[str, Any]:
    answer = body(c.post("bookings", payload))
    assert answer["status_code"] == 1000, answer
    Booking.model_validate(answer["data"])
    return dict(answer["data"])


def booking_pushes(calls: list[Call], booking_id: str) -> list[Call]:
    return [
        c
        for c in calls
        if c.path.endswith(f"/DE/SIM/{booking_id}") and c.path.startswith("/emsp/2.3.0/booking/")
    ]


def pushed(c: Connection, booking_id: str, count: int = 1) -> list[Call]:
    """The Booking pushes for ``booking_id`` once there are at least ``count``."""
    return list(
        c.emsp.wait_for(
            lambda calls: (
                (found := booking_pushes(calls, booking_id)) and len(found) >= count and found
            )
        )
    )
