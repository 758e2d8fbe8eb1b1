"""REQUESTED bookings whose RESERVE_NOW is due: each gets its command row and moves to
PENDING (``services/commands.py: enqueue_reservation``), in a transaction of its own.

Due: the booking is at an OCPI-connected (``registered``) CPO, not sent through the OCPI
2.3.0 Bookings module (those have their own requests), its window has not started, and it
starts within the CPO's ``reserve_lead_minutes``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select

from chargebook.db.engine import Database
from chargebook.db.models import Booking, Evse, Location, OcpiBooking, Party
from chargebook.domain.lifecycle import BookingStatus
from chargebook.services.commands import enqueue_reservation
from chargebook.services.tokens import Issuer
from chargebook.worker.per_row import handle_each

BATCH = 50
#: Candidates read per pass: the lead time differs per CPO, so the nearest are filtered here.
CANDIDATES = BATCH * 4

_CANDIDATES = (
    select(Booking.id, Booking.reservation_start, Party.reserve_lead_minutes)
    .join(Evse, Booking.evse_pk == Evse.pk)
    .join(Location, Evse.location_pk == Location.pk)
    .join(Party, Location.party_pk == Party.id)
    .where(
        Booking.status == BookingStatus.REQUESTED,
        Party.status == "registered",
        ~exists().where(OcpiBooking.booking_id == Booking.id),
    )
    .order_by(Booking.reservation_start)
)


async def enqueue_due_reservations(
    db: Database, now: datetime, base_url: str, issuer: Issuer
) -> int:
    """One pass; returns how many bookings moved to PENDING."""
    async with db.read() as session:
        rows = (
            await session.execute(
                _CANDIDATES.where(Booking.reservation_start > now).limit(CANDIDATES)
            )
        ).all()
    due = [
        booking_id for booking_id, start, lead in rows if start - timedelta(minutes=lead) <= now
    ][:BATCH]
    return await handle_each(
        "enqueue_reservations",
        due,
        lambda booking_id: enqueue_reservation(db, booking_id, now, base_url, issuer),
    )
