"""Bookings whose time has passed: EXPIRED (never confirmed) and NO_SHOW (confirmed, unattended)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import Booking
from chargebook.db.queries import claim
from chargebook.domain.lifecycle import BookingEvent, BookingStatus
from chargebook.services.booking_state import transition_booking

BATCH = 200


async def expire_due_bookings(db: Database, now: datetime, grace: timedelta) -> int:
    """One pass; returns how many bookings moved."""
    moved = 0
    due = [
        (BookingEvent.WINDOW_STARTED_UNCONFIRMED,
         (Booking.status.in_([BookingStatus.REQUESTED, BookingStatus.PENDING]),
          Booking.reservation_start <= now)),
        (BookingEvent.WINDOW_ENDED_UNATTENDED,
         (Booking.status == BookingStatus.CONFIRMED, Booking.reservation_end <= now - grace)),
    ]
    for event, where in due:
        async with db.write() as session:
            rows = await claim(session, select(Booking).where(*where).order_by(Booking.reservation_start), BATCH)
            for booking in rows:
                await transition_booking(session, booking, event, actor="worker", now=now)
                moved += 1
    return moved
