"""Windows that pass: unconfirmed bookings expire, confirmed unattended ones are no-shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from chargebook.db.engine import Database
from chargebook.db.models import Booking
from chargebook.services.bookings import BookingPolicy, BookingRequest, create_booking, get_booking
from chargebook.services.clients import authenticate, create_client
from chargebook.worker.expire_bookings import expire_due_bookings
from tests.factories import evse, seed_site


async def test_expiry_and_no_show(fresh_db: Database) -> None:
    db = fresh_db
    site = await seed_site(db, evses=[evse("DE*EXP*1"), evse("DE*EXP*2"), evse("DE*EXP*3")])
    _, key = await create_client(db, "worker")
    client = await authenticate(db, key)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    ids = []
    for uid in site.evse_uids:
        view = await create_booking(db, client, BookingRequest(
            location_id=site.location_id, evse_uid=uid, reservation_start=start,
            reservation_end=start + timedelta(hours=1)), BookingPolicy())
        ids.append(view.booking.id)
    async with db.write() as session:
        await session.execute(update(Booking).where(Booking.id == ids[1]).values(status="PENDING"))
        await session.execute(update(Booking).where(Booking.id == ids[2]).values(status="CONFIRMED"))

    grace = timedelta(minutes=15)
    # Before the window: nothing is due.
    assert await expire_due_bookings(db, start - timedelta(minutes=1), grace) == 0
    # The window began: the two unconfirmed ones expire, the confirmed one waits.
    assert await expire_due_bookings(db, start, grace) == 2
    statuses = [(await get_booking(db, client.id, i)).booking for i in ids]
    assert [(b.status, b.status_reason) for b in statuses] == [
        ("EXPIRED", "NOT_CONFIRMED_IN_TIME"), ("EXPIRED", "NOT_CONFIRMED_IN_TIME"), ("CONFIRMED", None)
    ]
    # The window ended, but the grace has not passed.
    assert await expire_due_bookings(db, start + timedelta(hours=1, minutes=14), grace) == 0
    assert await expire_due_bookings(db, start + timedelta(hours=1, minutes=15), grace) == 1
    view = await get_booking(db, client.id, ids[2])
    assert (view.booking.status, view.booking.status_reason) == ("NO_SHOW", "NOT_ATTENDED")
    assert [(t.from_status, t.to_status, t.actor) for t in view.history][-1] == ("CONFIRMED", "NO_SHOW", "worker")
    # A second pass finds nothing more: the work is level-triggered and idempotent.
    assert await expire_due_bookings(db, start + timedelta(days=1), grace) == 0
