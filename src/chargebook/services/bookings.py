"""Booking use cases: read, list, cancel; create lives in ``booking_create.py`` (re-exported).

No two live bookings of one EVSE overlap. ``create_booking`` holds that in one locked
transaction: lock the EVSE row (``FOR UPDATE`` on PostgreSQL; SQLite's write transactions are
``BEGIN IMMEDIATE`` and so already exclusive), check for an overlapping live booking, insert.
Every concurrent creator for that EVSE queues on the lock, and each sees the winners before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import Booking, BookingTransition, Token
from chargebook.domain import lifecycle
from chargebook.domain.errors import NotCancellable, NotFound
from chargebook.domain.lifecycle import BookingEvent, BookingStatus

# The create use case, where its callers have always found it (explicit re-exports):
from chargebook.services.booking_create import BookingPolicy as BookingPolicy
from chargebook.services.booking_create import BookingRequest as BookingRequest
from chargebook.services.booking_create import create_booking as create_booking
from chargebook.services.booking_state import transition_booking
from chargebook.services.clock import utcnow
from chargebook.services.wire import BookingView


async def get_booking(db: Database, client_id: str, booking_id: str) -> BookingView:
    async with db.read() as session:
        booking = await session.get(Booking, booking_id)
        if booking is None or booking.client_id != client_id:
            raise NotFound(f"Booking not found: {booking_id}")
        token = await session.get(Token, booking.token_pk) if booking.token_pk else None
        history = await session.scalars(
            select(BookingTransition)
            .where(BookingTransition.booking_id == booking_id)
            .order_by(BookingTransition.pk)
        )
        return BookingView(booking=booking, token=token, history=list(history.all()))


@dataclass(frozen=True, slots=True)
class BookingFilter:
    statuses: tuple[BookingStatus, ...] = ()
    from_date: datetime | None = None
    to_date: datetime | None = None
    limit: int = 100
    after: tuple[datetime, str] | None = None  # the cursor: (created_at, id) of the last row seen
    external_id: str | None = None  # every booking with this reference, live or ended


async def list_bookings(db: Database, client_id: str, flt: BookingFilter) -> list[BookingView]:
    """Newest first by created_at, then id; keyset-paged so deep pages stay cheap."""
    query = select(Booking).where(Booking.client_id == client_id)
    if flt.external_id is not None:
        query = query.where(Booking.external_id == flt.external_id)
    if flt.statuses:
        query = query.where(Booking.status.in_([s.value for s in flt.statuses]))
    if flt.from_date is not None:
        query = query.where(Booking.created_at >= flt.from_date)
    if flt.to_date is not None:
        query = query.where(Booking.created_at <= flt.to_date)
    if flt.after is not None:
        created, last_id = flt.after
        query = query.where(
            (Booking.created_at < created) | ((Booking.created_at == created) & (Booking.id < last_id))
        )
    query = query.order_by(Booking.created_at.desc(), Booking.id.desc()).limit(flt.limit)
    async with db.read() as session:
        bookings = list((await session.scalars(query)).all())
        token_ids = {b.token_pk for b in bookings if b.token_pk}
        tokens = {}
        if token_ids:
            tokens = {t.id: t for t in await session.scalars(select(Token).where(Token.id.in_(token_ids)))}
    return [BookingView(booking=b, token=tokens.get(b.token_pk or "")) for b in bookings]


async def cancel_booking(
    db: Database, client_id: str, booking_id: str, reason: str | None
) -> BookingView:
    async with db.write() as session:
        booking = await session.get(Booking, booking_id, with_for_update=True)
        if booking is None or booking.client_id != client_id:
            raise NotFound(f"Booking not found: {booking_id}")
        if booking.status == BookingStatus.CANCELLED:
            # Cancelling twice is a safe retry: the booking comes back unchanged.
            token = await session.get(Token, booking.token_pk) if booking.token_pk else None
            return BookingView(booking=booking, token=token)
        if not lifecycle.can_apply(BookingStatus(booking.status), BookingEvent.CLIENT_CANCELLED):
            raise NotCancellable()
        now = utcnow()
        await transition_booking(
            session, booking, BookingEvent.CLIENT_CANCELLED, actor="client", now=now, message=reason
        )
        # transition_booking withdrew or cancelled what the CPO may hold (a RESERVE_NOW, or a
        # Bookings-module request) in this same transaction.
        token = await session.get(Token, booking.token_pk) if booking.token_pk else None
        await session.flush()
    return BookingView(booking=booking, token=token)
