"""Bookings the CPO keeps PENDING (OCPI 2.3.0 Bookings module) past the party's answer
timeout: each ends CPO_TIMEOUT, with a cancellation request so that a late reservation holds
nothing (``services/ocpi_bookings.py: expire_unanswered``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import OcpiBooking
from chargebook.services.ocpi_bookings import expire_unanswered
from chargebook.worker.per_row import handle_each

BATCH = 50


async def expire_unanswered_bookings(db: Database, now: datetime) -> int:
    """One pass; returns how many bookings timed out."""
    async with db.read() as session:
        due = list(
            await session.scalars(
                select(OcpiBooking.booking_id)
                .where(
                    OcpiBooking.reservation_status == "PENDING", OcpiBooking.answer_due_at <= now
                )
                .order_by(OcpiBooking.answer_due_at)
                .limit(BATCH)
            )
        )
    return await handle_each(
        "expire_booking_answers", due, lambda booking_id: expire_unanswered(db, booking_id, now)
    )
