"""The booking state every use case shares: lifecycle changes on a locked booking row, what a
booking's end settles, arrival, and finding a booking by the CPO's id.

Use cases (bookings, commands, sessions, authorization, the Bookings module, the worker's
loops) import this module; it imports none of them, so the use cases never import each other
to reach the bottom.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.models import Booking, BookingTransition, Client, OcpiBooking, Party, Token
from chargebook.domain import lifecycle
from chargebook.domain.lifecycle import LIVE_STATES, BookingEvent, BookingStatus
from chargebook.domain.outbox import RELEASING_EVENTS
from chargebook.domain.tokens import TokenKind
from chargebook.services import webhook_events
from chargebook.services.billing import record_charge, settle
from chargebook.services.booking_requests import record_cancel
from chargebook.services.command_rows import release_reservation


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
    ledger, what the CPO may still hold for it (withdrawn or cancelled), and its ad-hoc token,
    which lives and dies with it."""
    if status != BookingStatus.COMPLETED:
        client = await session.get(Client, booking.client_id)
        if client is not None:
            settle(booking, client.reservation_fee, client.commission_percent)
    await record_charge(session, booking, now, f"{status.value.lower()}: {event.value.lower()}")
    if event in RELEASING_EVENTS:  # the CPO may still hold what we asked for
        await release_reservation(session, booking, now)
        await record_cancel(session, booking, now,
                            reason="NO_CANCELED" if event is BookingEvent.CLIENT_CANCELLED else "UNKNOWN")
    if booking.token_pk:
        token = await session.get(Token, booking.token_pk)
        if token is not None and token.kind == TokenKind.AD_HOC and token.valid:
            token.valid = False
            token.last_updated = now


async def mark_attending(session: AsyncSession, booking: Booking, now: datetime, why: str) -> None:
    if booking.status == BookingStatus.CONFIRMED:
        await transition_booking(session, booking, BookingEvent.SESSION_STARTED, actor="cpo", now=now, message=why)


async def booking_by_cpo_id(session: AsyncSession, party: Party, cpo_booking_id: str) -> Booking | None:
    """Our booking for the CPO's booking id (a 2.3.0 CDR's ``booking_id``), locked."""
    found = await session.scalar(select(OcpiBooking.booking_id).where(
        OcpiBooking.party_pk == party.id, OcpiBooking.cpo_booking_id == cpo_booking_id))
    return await session.get(Booking, found, with_for_update=True) if found else None

