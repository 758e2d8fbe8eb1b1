"""Bookings whose time has passed: EXPIRED (the window started before the CPO confirmed) and
NO_SHOW (confirmed, but no session by the end of the window plus a grace). The worker finds
them (``worker/expire_bookings.py``); each ends here in a transaction of its own."""

from __future__ import annotations

from datetime import datetime, timedelta

from chargebook.db.engine import Database
from chargebook.db.models import Booking
from chargebook.domain.lifecycle import BookingEvent, BookingStatus
from chargebook.services.booking_state import transition_booking


def due_event(booking: Booking, now: datetime, grace: timedelta) -> BookingEvent | None:
    """The time event due for this booking now, if any."""
    status = BookingStatus(booking.status)
    if (
        status in (BookingStatus.REQUESTED, BookingStatus.PENDING)
        and booking.reservation_start <= now
    ):
        return BookingEvent.WINDOW_STARTED_UNCONFIRMED
    if status is BookingStatus.CONFIRMED and booking.reservation_end <= now - grace:
        return BookingEvent.WINDOW_ENDED_UNATTENDED
    return None


async def expire_booking(db: Database, booking_id: str, now: datetime, grace: timedelta) -> bool:
    """Re-read and lock the booking; end it if its time event is (still) due."""
    async with db.write() as session:
        booking = await session.get(
            Booking, booking_id, with_for_update=True, populate_existing=True
        )
        event = due_event(booking, now, grace) if booking is not None else None
        if booking is None or event is None:
            return False  # it moved on meanwhile (confirmed, cancelled, attended)
        await transition_booking(session, booking, event, actor="worker", now=now)
    return True
