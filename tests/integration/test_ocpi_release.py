"""Nothing stays held at a CPO after a booking ends: chargebook, its worker and the CPO
simulator as real servers on 127.0.0.1, with the simulator's faults.

The simulator's ``timeout`` fault answers late but still acts, and ``never_answer`` keeps
the CommandResult back: the charger holds a reservation our worker never heard about. Each
test checks the simulator's own reservations, so what is checked is what the CPO holds, not
what we think it holds. The simulated drivers never come (a reservation in use cannot be
cancelled).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargebook.db.engine import Database
from chargebook.services.bookings import BookingPolicy, BookingRequest, create_booking
from chargebook.services.clients import authenticate
from tests.factories import with_db
from tests.integration.conftest import SEND_TIMEOUT
from tests.integration.test_ocpi_loop import Loop

pytestmark = pytest.mark.integration

#: Our send gives up after SEND_TIMEOUT; the simulator's "timed out" answers come after
#: SIM_LATE, and it has made the reservation by then.
SIM_LATE = SEND_TIMEOUT + 1.0


def until(what: str, check: Callable[[], Any], seconds: float = 45) -> Any:
    """A bounded wait (a guard, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.1)
    return found


def held(loop: Loop, booking_id: str) -> list[dict[str, Any]]:
    """The simulator's live reservations for a booking (our booking id is its reservation_id)."""
    return [
        r
        for r in loop.admin.get("/sim/reservations").json()
        if r["reservation_id"] == booking_id and r["status"] in ("ACTIVE", "IN_USE")
    ]


def reservations(loop: Loop, booking_id: str) -> list[dict[str, Any]]:
    return [
        r for r in loop.admin.get("/sim/reservations").json() if r["reservation_id"] == booking_id
    ]


def commands(loop: Loop, booking_id: str) -> dict[str, dict[str, Any]]:
    return {
        c["type"]: c for c in loop.http.get(f"/bookings/{booking_id}/commands").json()["commands"]
    }


def reserve_nows_seen(loop: Loop, booking_id: str) -> int:
    return sum(
        1
        for c in loop.admin.get("/sim/commands").json()
        if c["command"] == "RESERVE_NOW" and c["request"].get("reservation_id") == booking_id
    )


def silent_reserve_nows(loop: Loop, *, late: bool) -> None:
    """Every RESERVE_NOW is reserved, but its CommandResult never comes; ``late``: and its
    CommandResponse comes after we gave up waiting."""
    loop.admin.post(
        "/sim/config",
        json={
            "faults": {
                "timeout_share": 1.0 if late else 0.0,
                "timeout_seconds": SIM_LATE,
                "paths": ["/commands/RESERVE_NOW"],
                "never_answer_share": 1.0,
            }
        },
    ).raise_for_status()


def cancelled_at_the_cpo(loop: Loop, booking_id: str) -> bool:
    """The charger has our reservation, and our CANCEL_RESERVATION has freed it."""
    statuses = [r["status"] for r in reservations(loop, booking_id)]
    cancels = [
        c
        for c in loop.admin.get("/sim/commands").json()
        if c["command"] == "CANCEL_RESERVATION" and c["request"].get("reservation_id") == booking_id
    ]
    return statuses == ["CANCELED"] and bool(cancels)


def book_soon(loop: Loop, seconds: int) -> str:
    """A booking whose window starts in ``seconds`` (below the API's 15 minutes: the service)."""
    ((location_id, evse_uid),) = loop.bookable(3)[2:3]

    async def make(db: Database) -> str:
        client = await authenticate(db, loop.http.headers["X-API-Key"])
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
        view = await create_booking(
            db,
            client,
            BookingRequest(
                location_id=location_id,
                evse_uid=evse_uid,
                reservation_start=start,
                reservation_end=start + timedelta(hours=1),
            ),
            BookingPolicy(min_lead=timedelta(0)),
        )
        return view.booking.id

    return with_db(loop.url, make)


def test_a_cancel_or_an_expiry_while_a_reserve_now_waits_for_its_retry(
    command_loop: Callable[..., Loop],
) -> None:
    """The first RESERVE_NOW's answer comes too late, so it waits for a retry, but the charger
    took it. Cancelled (booking A) or expired (booking B) meanwhile: the retry is never sent,
    and a CANCEL_RESERVATION frees the charger."""
    loop = command_loop(attempts=3, base_seconds=60)  # the retry would wait a minute
    silent_reserve_nows(loop, late=True)
    ((loc_a, evse_a),) = loop.bookable(1)
    cancelled = loop.book(loc_a, evse_a)["id"]
    expiring = book_soon(loop, seconds=8)
    for booking_id in (cancelled, expiring):
        until("the charger holds the reservation", lambda b=booking_id: held(loop, b))
        until(
            "the RESERVE_NOW waits for its retry",
            lambda b=booking_id: commands(loop, b)["RESERVE_NOW"]["state"] == "due",
        )

    assert loop.http.post(f"/bookings/{cancelled}/cancel").json()["status"] == "CANCELLED"
    assert loop.wait_for(expiring, {"EXPIRED", "CANCELLED", "CONFIRMED"})["status"] == "EXPIRED"
    for booking_id in (cancelled, expiring):
        until("the charger is free again", lambda b=booking_id: cancelled_at_the_cpo(loop, b))
        assert commands(loop, booking_id)["RESERVE_NOW"]["state"] == "withdrawn"  # never sent again
        assert reserve_nows_seen(loop, booking_id) == 1


def test_a_reserve_now_given_up_unanswered_is_cancelled(command_loop: Callable[..., Loop]) -> None:
    """Every RESERVE_NOW's answer comes too late: CPO_UNREACHABLE after the retry budget, and a
    CANCEL_RESERVATION frees what the charger took. A CPO that never sends its CommandResult:
    CPO_TIMEOUT, and the same."""
    loop = command_loop(attempts=2, base_seconds=0.5)
    silent_reserve_nows(loop, late=True)
    (loc_a, evse_a), (loc_b, evse_b) = loop.bookable(2)
    unreachable = loop.wait_for(loop.book(loc_a, evse_a)["id"], {"CANCELLED", "CONFIRMED"})
    assert (unreachable["status"], unreachable["status_reason"]) == ("CANCELLED", "CPO_UNREACHABLE")
    until("the charger is free again", lambda: cancelled_at_the_cpo(loop, unreachable["id"]))
    assert reserve_nows_seen(loop, unreachable["id"]) == 2  # the retry budget, no more

    silent_reserve_nows(loop, late=False)
    silent = loop.wait_for(loop.book(loc_b, evse_b)["id"], {"CANCELLED", "CONFIRMED"})
    assert (silent["status"], silent["status_reason"]) == ("CANCELLED", "CPO_TIMEOUT")
    until("the charger is free again", lambda: cancelled_at_the_cpo(loop, silent["id"]))
