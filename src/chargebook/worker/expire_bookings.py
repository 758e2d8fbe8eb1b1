"""Bookings whose time has passed: EXPIRED (never confirmed) and NO_SHOW (confirmed,
unattended). Each ends in its own transaction (``services/booking_expiry.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import Booking
from chargebook.domain.lifecycle import BookingStatus
from chargebook.services.booking_expiry import expire_booking
from chargebook.worker.per_row import handle_each

BATCH = 200


async def expire_due_bookings(db: Database, now: datetime, grace: timedelta) -> int:
    """One pass; returns how many bookings moved."""
    due = [
        (
            Booking.status.in_([BookingStatus.REQUESTED, BookingStatus.PENDING]),
            Booking.reservation_start <= now,
        ),
        (Booking.status == BookingStatus.CONFIRMED, Booking.reservation_end <= now - grace),
    ]
    async with db.read() as session:
        ids: list[str] = []
        for where in due:
            ids += await session.scalars(
                select(Booking.id).where(*where).order_by(Booking.reservation_start).limit(BATCH)
            )
    return await handle_each(
        "expire_bookings", ids, lambda booking_id: expire_booking(db, booking_id, now, grace)
    )
