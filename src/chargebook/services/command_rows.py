"""Command rows: the commands a transaction decides to send, written as outbox rows. Nothing
here changes a booking's status, so the booking state (``booking_state.py``) and every use
case may call it from inside their own units of work.

OCPI 2.2.1 mod_commands.asciidoc § ReserveNow Object, § CancelReservation Object. Our
``response_url`` names the command type and the row's id; the CPO POSTs its CommandResult
there (``commands.py: apply_result``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook import correlation
from chargebook.db.models import Booking, Command, Token
from chargebook.domain.outbox import OutboxEvent, OutboxState, cancel_due, next_state, release
from chargebook.ocpi.v221.types import format_datetime
from chargebook.services.ids import new_id
from chargebook.services.token_objects import pipelet_token, token_object
from chargebook.services.tokens import Issuer


def new_command(
    *,
    party_pk: str,
    booking_id: str | None,
    command_type: str,
    base_url: str,
    body: dict[str, Any],
    now: datetime,
    correlation_id: str | None,
) -> Command:
    """A command due now; ``body`` gets our ``response_url`` for it."""
    command_id = new_id("cmd")
    response_url = f"{base_url.rstrip('/')}/ocpi/2.2.1/commands/{command_type}/{command_id}"
    return Command(
        id=command_id,
        party_pk=party_pk,
        booking_id=booking_id,
        type=command_type,
        state=OutboxState.DUE,
        body={"response_url": response_url, **body},
        attempts=0,
        due_at=now,
        created_at=now,
        updated_at=now,
        correlation_id=correlation_id,
    )


async def token_body(
    session: AsyncSession, booking: Booking, issuer: Issuer, now: datetime
) -> dict[str, Any]:
    """The booking's token as the CPO sees it (a pipelet UID travels as an RFID token of ours)."""
    if booking.token_pk:
        token = await session.get(Token, booking.token_pk)
        if token is not None:
            return token_object(token, issuer.country_code, issuer.party_id)
    return pipelet_token(booking.token_uid, issuer.country_code, issuer.party_id, issuer.name, now)


async def reserve_now(
    session: AsyncSession,
    booking: Booking,
    *,
    party_pk: str,
    location_id: str,
    base_url: str,
    issuer: Issuer,
    now: datetime,
) -> Command:
    """RESERVE_NOW for a booking: our booking id is the reservation id and the authorization
    reference, and the reservation lasts until the window ends."""
    command = new_command(
        party_pk=party_pk,
        booking_id=booking.id,
        command_type="RESERVE_NOW",
        base_url=base_url,
        now=now,
        body={
            "token": await token_body(session, booking, issuer, now),
            "expiry_date": format_datetime(booking.reservation_end),
            "reservation_id": booking.id,
            "location_id": location_id,
            "evse_uid": booking.evse_uid,
            "authorization_reference": booking.id,
        },
        correlation_id=booking.request_id,  # the booking's create call, carried to the CPO
    )
    session.add(command)
    return command


async def release_reservation(session: AsyncSession, booking: Booking, now: datetime) -> None:
    """The booking ended while its CPO may hold its RESERVE_NOW (``domain/outbox.py:
    RELEASING_EVENTS``; called by ``booking_state.transition_booking`` in that transaction):
    a RESERVE_NOW not answered yet is withdrawn, and a CANCEL_RESERVATION goes out wherever
    the CPO may have taken it, never before the CPO is done with the RESERVE_NOW
    (``domain/outbox.py: CancelWhen``; one in flight: once its answer is in, ``outbox.py``)."""
    reserve = await session.scalar(
        select(Command)
        .where(Command.booking_id == booking.id, Command.type == "RESERVE_NOW")
        .order_by(Command.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    if reserve is None:
        return
    decision = release(reserve.state, reserve.attempts, reserve.result == "ACCEPTED")
    due = cancel_due(decision.cancel, now, reserve.due_at) if decision.cancel else now
    if decision.withdraw:
        reserve.state, reserve.updated_at = next_state(reserve.state, OutboxEvent.WITHDRAWN), now
    if decision.cancel is None or await session.scalar(
        select(Command.id)
        .where(Command.booking_id == booking.id, Command.type == "CANCEL_RESERVATION")
        .limit(1)
    ):
        return
    base = reserve.body["response_url"].split("/ocpi/")[0]
    cancel = new_command(
        party_pk=reserve.party_pk,
        booking_id=booking.id,
        command_type="CANCEL_RESERVATION",
        base_url=base,
        body={"reservation_id": booking.id},
        now=now,
        # the call that ended it, else (the worker ended it) the booking's create
        correlation_id=correlation.current() or reserve.correlation_id,
    )
    cancel.due_at = due
    session.add(cancel)
