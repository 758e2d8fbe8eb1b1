"""Bookings the CPO still holds PENDING or RESERVED (OCPI 2.3.0 Bookings module) whose poll
time has come: claimed and leased until the next poll, then one GET per CPO
(``services/ocpi_bookings.py: poll_party``). Pushes get lost; polling repairs that."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import Booking, OcpiBooking
from chargebook.db.queries import claim
from chargebook.services.ocpi_bookings import poll_party
from chargebook.worker.per_row import handle_each

BATCH = 200


async def poll_due_bookings(db: Database, now: datetime, poll_every: timedelta) -> int:
    """One pass; returns how many Bookings were heard."""
    async with db.write() as session:
        due = await claim(
            session,
            select(OcpiBooking).where(OcpiBooking.poll_at <= now).order_by(OcpiBooking.poll_at),
            BATCH,
        )
        by_party: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
        for row in due:
            end = await session.scalar(
                select(Booking.reservation_end).where(Booking.id == row.booking_id)
            )
            if end is None or end <= now:
                row.poll_at = None  # the window is over: sessions and CDRs take it from here
                continue
            row.poll_at = now + poll_every  # leased until the next interval
            by_party[row.party_pk].append(
                (row.booking_id, row.request_id, row.last_updated or row.created_at)
            )
    heard = 0

    async def poll(party_pk: str) -> bool:
        nonlocal heard
        heard += await poll_party(db, party_pk, by_party[party_pk], poll_every)
        return True

    await handle_each("poll_bookings", list(by_party), poll)
    return heard
