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
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import Booking, BookingTransition, Client, Token
from chargebook.domain import lifecycle
from chargebook.domain.errors import NotCancellable, NotFound
from chargebook.domain.lifecycle import LIVE_STATES, BookingEvent, BookingStatus
from chargebook.domain.tokens import TokenKind
from chargebook.services import webhook_events
from chargebook.services.billing import record_charge, settle
# The create use case, where its callers have always found it (explicit re-exports):
from chargebook.services.booking_create import BookingPolicy as BookingPolicy
from chargebook.services.booking_create import BookingRequest as BookingRequest
from chargebook.services.booking_create import create_booking as create_booking
from chargebook.services.booking_requests import record_cancel
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


async def transition_booking(
    session: AsyncSession,
    booking: Booking,
    event: BookingEvent,
    *,
    actor: str,
    now: datetime,
    message: str | None = None,
) -> BookingTransition:
    """Apply one lifecycle event to a locked booking row and record it."""
    step = lifecycle.apply(BookingStatus(booking.status), event, now)
    booking.status = step.to_status.value
    booking.status_reason = step.reason.value if step.reason else booking.status_reason
    booking.status_message = message if message is not None else booking.status_message
    booking.status_updated_at = now
    if step.to_status not in LIVE_STATES:
        await _settle_ended(session, booking, step.to_status, event, now)
    record = BookingTransition(
        booking_id=booking.id,
        from_status=step.from_status.value,
        to_status=step.to_status.value,
        event=event.value,
        reason=step.reason.value if step.reason else None,
        actor=actor,
        message=message,
        at=now,
    )
    session.add(record)
    await webhook_events.booking_transitioned(session, booking, now)
    return record


async def _settle_ended(
    session: AsyncSession, booking: Booking, status: BookingStatus, event: BookingEvent, now: datetime
) -> None:
    """A booking just ended: its final price (COMPLETED is priced from its CDR), the client's
    ledger, and its ad-hoc token, which lives and dies with it."""
    if status != BookingStatus.COMPLETED:
        client = await session.get(Client, booking.client_id)
        if client is not None:
            settle(booking, client.reservation_fee, client.commission_percent)
    await record_charge(session, booking, now, f"{status.value.lower()}: {event.value.lower()}")
    if booking.token_pk:
        token = await session.get(Token, booking.token_pk)
        if token is not None and token.kind == TokenKind.AD_HOC and token.valid:
            token.valid = False
            token.last_updated = now


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
        from chargebook.services.commands import enqueue_cancel  # commands builds on this module

        await enqueue_cancel(session, booking, now)
        await record_cancel(session, booking, now)  # OCPI 2.3.0 Bookings: a cancellation request
        token = await session.get(Token, booking.token_pk) if booking.token_pk else None
        await session.flush()
    return BookingView(booking=booking, token=token)
