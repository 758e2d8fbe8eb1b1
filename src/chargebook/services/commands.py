"""Commands to CPOs (we are the Sender): RESERVE_NOW and CANCEL_RESERVATION for bookings.

OCPI 2.2.1 mod_commands.asciidoc. A command is a row first (decided in the transaction that
needs it, ``command_rows.py``), sent by the outbox after commit (``outbox.py``), and its
outcome recorded in a new transaction (:class:`CommandMailbox`):

* the synchronous CommandResponse: ACCEPTED keeps the booking PENDING until the result, with
  ``timeout_at`` from the CPO's ``timeout`` (the party's when unreadable); another result
  ends it (CPO_REJECTED);
* the asynchronous CommandResult at our ``response_url``: ACCEPTED confirms, the refusals
  cancel with the CPO's reason, and a later CANCELED_RESERVATION cancels a confirmed booking;
* no result by ``timeout_at`` → CPO_TIMEOUT; no answer is retried with backoff until the
  retry budget is spent → CPO_UNREACHABLE; an answer we cannot read likewise → CPO_FAILED.
  A booking is never left in PENDING, and whatever ends it on our side cancels what the CPO
  may hold (``booking_state.transition_booking``).

When is RESERVE_NOW sent? OCPI 2.2.1 reserves "from now until expiry_date", so sending it for a
booking days ahead would block the charger for days. It is sent ``reserve_lead_minutes``
(per CPO, default 60) before the window starts; until then the booking stays REQUESTED,
which is the honest state: the CPO has not been asked yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook import correlation
from chargebook.db.engine import Database
from chargebook.db.models import (
    Booking,
    ChargingSession,
    Command,
    Evse,
    Location,
    OcpiBooking,
    Party,
)
from chargebook.domain.errors import InvalidRequest, NotFound
from chargebook.domain.lifecycle import BookingEvent, BookingStatus, can_apply
from chargebook.domain.outbox import OutboxEvent, OutboxState, RetryPolicy, SendOutcome, next_state
from chargebook.domain.outbox import can_apply as can_settle
from chargebook.ocpi.answers import read_command_response
from chargebook.ocpi.v221.commands import CommandResponseType
from chargebook.services import command_rows
from chargebook.services.booking_state import transition_booking
from chargebook.services.clock import utcnow
from chargebook.services.outbox import Outgoing, Reply, note_unreadable
from chargebook.services.tokens import Issuer

log = structlog.get_logger("chargebook.commands")
#: How long to wait for a CommandResult when neither the CPO's answer nor its party row says.
DEFAULT_COMMAND_TIMEOUT_SECONDS = 60

RESULT_EVENTS = {
    "ACCEPTED": BookingEvent.CPO_ACCEPTED,
    "REJECTED": BookingEvent.CPO_REJECTED,
    "EVSE_OCCUPIED": BookingEvent.CPO_REJECTED,
    "EVSE_INOPERATIVE": BookingEvent.CPO_REJECTED,
    "NOT_SUPPORTED": BookingEvent.CPO_REJECTED,
    "UNKNOWN_RESERVATION": BookingEvent.CPO_REJECTED,
    "FAILED": BookingEvent.CPO_FAILED,
    "TIMEOUT": BookingEvent.CPO_FAILED,
    "CANCELED_RESERVATION": BookingEvent.CPO_CANCELLED,
}


async def enqueue_reservation(
    db: Database, booking_id: str, now: datetime, base_url: str, issuer: Issuer
) -> bool:
    """A REQUESTED booking whose send time has come (``worker/enqueue_reservations.py``
    finds them): record its RESERVE_NOW and move it to PENDING, in one transaction (the
    intent is recorded before anything is sent). False: it has moved on, or another worker
    holds it right now."""
    async with db.write() as session:
        # A row another worker holds right now is its to send: skip it. populate_existing:
        # another worker may have sent it since this session last saw it.
        booking = await session.get(Booking, booking_id, with_for_update={"skip_locked": True},
                                    populate_existing=True)
        if booking is None or booking.status != BookingStatus.REQUESTED:
            return False
        where = (await session.execute(
            select(Party.id, Party.status, Party.reserve_lead_minutes, Location.id)
            .join(Location, Location.party_pk == Party.id)
            .join(Evse, Evse.location_pk == Location.pk)
            .where(Evse.pk == booking.evse_pk))).first()
        if where is None:
            return False
        party_pk, party_status, lead_minutes, location_id = where
        if party_status != "registered" or booking.reservation_start - timedelta(minutes=lead_minutes) > now:
            return False
        # Bookings made through the OCPI 2.3.0 Bookings module have their own requests.
        if await session.get(OcpiBooking, booking.id) is not None:
            return False
        await command_rows.reserve_now(session, booking, party_pk=party_pk, location_id=location_id,
                                       base_url=base_url, issuer=issuer, now=now)
        await transition_booking(session, booking, BookingEvent.SENT_TO_CPO, actor="worker", now=now)
    return True


async def request_session_command(
    db: Database, client_id: str, booking_id: str, command_type: str, base_url: str,
    issuer: Issuer,
) -> Command:
    """A client asks to start or stop charging on its booking (START_SESSION / STOP_SESSION).

    START needs the booking CONFIRMED or ATTENDING and the window open; STOP needs a session
    the CPO reported for this booking. UNLOCK_CONNECTOR is never offered to clients (the spec
    forbids drivers triggering it).
    """
    now = utcnow()
    async with db.write() as session:
        booking = await session.get(Booking, booking_id, with_for_update=True)
        if booking is None or booking.client_id != client_id:
            raise NotFound(f"Booking not found: {booking_id}")
        reserve = await session.scalar(
            select(Command).where(Command.booking_id == booking.id, Command.type == "RESERVE_NOW"))
        party_pk = reserve.party_pk if reserve is not None else None
        if party_pk is None:  # a booking made through the OCPI 2.3.0 Bookings module
            cpo_side = await session.get(OcpiBooking, booking.id)
            party_pk = cpo_side.party_pk if cpo_side is not None and cpo_side.cpo_booking_id else None
        if party_pk is None:
            raise InvalidRequest("this booking has not been sent to its CPO")
        body: dict[str, Any]
        if command_type == "START_SESSION":
            if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.ATTENDING):
                raise InvalidRequest(f"cannot start charging in state {booking.status}")
            if not booking.reservation_start - timedelta(minutes=15) <= now < booking.reservation_end:
                raise InvalidRequest("charging can start only during the booking's window")
            body = {"token": await command_rows.token_body(session, booking, issuer, now),
                    "location_id": booking.location_id, "evse_uid": booking.evse_uid,
                    "authorization_reference": booking.id}
            if booking.connector_id:
                body["connector_id"] = booking.connector_id
        else:
            charging = await session.scalar(
                select(ChargingSession).where(ChargingSession.booking_id == booking.id)
                .order_by(ChargingSession.pk.desc()).limit(1))
            if charging is None or charging.status not in ("ACTIVE", "PENDING"):
                raise InvalidRequest("no active charging session for this booking")
            body = {"session_id": charging.id}
        cmd = command_rows.new_command(party_pk=party_pk, booking_id=booking.id, command_type=command_type,
                                       base_url=base_url, body=body, now=now, correlation_id=correlation.current())
        session.add(cmd)
    return cmd


async def booking_commands(db: Database, booking_id: str) -> list[Command]:
    async with db.read() as session:
        return list(await session.scalars(
            select(Command).where(Command.booking_id == booking_id).order_by(Command.created_at)))


class CommandMailbox:
    """The outbox's commands (``ocpi_commands``): POSTed to ``{commands_url}/{type}``."""

    module = "commands"
    noun = "command"
    table = Command

    def kind(self, row: Command) -> str:
        return row.type

    def url(self, row: Command, party: Party) -> str | None:
        endpoints = party.endpoints if isinstance(party.endpoints, dict) else {}
        base = endpoints.get("commands:RECEIVER")
        return f"{str(base).rstrip('/')}/{row.type}" if base else None

    def outlives_booking(self, row: Command) -> bool:
        return row.type == "CANCEL_RESERVATION"

    def result(self, data: Any) -> str | None:
        return str(data.get("result")) if isinstance(data, dict) else None

    async def record(
        self, session: AsyncSession, row: Command, item: Outgoing, reply: Reply, retry: RetryPolicy,
        now: datetime,
    ) -> None:
        """The CPO's CommandResponse: ACCEPTED waits for the CommandResult (until the CPO's
        ``timeout``, else the party's); another result or an OCPI error ends the booking
        (CPO_REJECTED). No answer, or one we cannot read, is retried until the budget is
        spent, then ends it: CPO_UNREACHABLE, or CPO_FAILED for an unreadable one."""
        outcome, detail = reply.outcome, reply.detail
        answer = read_command_response(reply.data) if outcome is SendOutcome.ANSWERED else None
        if answer is not None and answer.unreadable is not None:
            note_unreadable(self, item, answer.unreadable)
            if answer.result is None:
                outcome, detail = SendOutcome.MALFORMED, f"unreadable CommandResponse: {answer.unreadable.problem}"
        if outcome in (SendOutcome.UNREACHABLE, SendOutcome.MALFORMED) and retry.may_retry(item.attempt):
            row.state = next_state(row.state, OutboxEvent.RETRY)
            row.message, row.updated_at = detail[:500], now
            row.due_at = now + retry.backoff(item.attempt)
            return
        booking = await session.get(Booking, row.booking_id, with_for_update=True) if row.booking_id else None
        if outcome is SendOutcome.ANSWERED and answer is not None and answer.result is CommandResponseType.ACCEPTED:
            timeout = answer.timeout_seconds or await self._party_timeout(session, row.party_pk)
            row.state = next_state(row.state, OutboxEvent.TAKEN)
            row.response, row.timeout_at, row.updated_at = "ACCEPTED", now + timedelta(seconds=timeout), now
            if answer.unreadable is not None:  # usable, but say what was wrong with it
                row.message = f"{answer.unreadable.problem}; waiting {timeout} s (the CPO's default)"
            return
        row.state, row.updated_at = next_state(row.state, OutboxEvent.FAILED), now
        if outcome is SendOutcome.ANSWERED and answer is not None and answer.result is not None:
            row.response = answer.result.value
            event, message = BookingEvent.CPO_REJECTED, f"CommandResponse {row.response}"
            if answer.message:
                message = f"{message}: {answer.message}"
        elif outcome is SendOutcome.REFUSED:
            event, message = BookingEvent.CPO_REJECTED, detail
        elif outcome is SendOutcome.MALFORMED:
            event, message = BookingEvent.CPO_FAILED, detail
        else:
            event, message = BookingEvent.CPO_UNREACHABLE, detail
        row.message = message[:500]
        if booking is not None and row.type == "RESERVE_NOW" and can_apply(BookingStatus(booking.status), event):
            await transition_booking(session, booking, event, actor="cpo", now=now, message=message[:500])

    @staticmethod
    async def _party_timeout(session: AsyncSession, party_pk: str) -> int:
        """How long to wait for a CommandResult when the CPO's answer did not say (usably)."""
        seconds = await session.scalar(select(Party.command_timeout_seconds).where(Party.id == party_pk))
        return int(seconds or DEFAULT_COMMAND_TIMEOUT_SECONDS)

    async def answered_after_withdrawal(self, session: AsyncSession, row: Command, now: datetime) -> None:
        await session.execute(update(Command).where(
            Command.booking_id == row.booking_id, Command.type == "CANCEL_RESERVATION",
            Command.state == OutboxState.DUE, Command.due_at > now).values(due_at=now))


COMMANDS = CommandMailbox()


async def apply_result(db: Database, party: Party, command_type: str, command_id: str, body: dict[str, Any]) -> None:
    """A CommandResult POSTed to our response_url."""
    now = utcnow()
    result = str(body.get("result", ""))
    message = _text(body.get("message"))
    async with db.write() as session:
        cmd = await session.get(Command, command_id, with_for_update=True)
        if cmd is None or cmd.party_pk != party.id or cmd.type != command_type:
            raise NotFound(f"Unknown command {command_type}/{command_id}")
        cmd.result, cmd.updated_at = result[:24], now
        if can_settle(cmd.state, OutboxEvent.ANSWERED):  # a late result changes no final state
            cmd.state = next_state(cmd.state, OutboxEvent.ANSWERED)
        if cmd.type != "RESERVE_NOW" or cmd.booking_id is None:
            return
        booking = await session.get(Booking, cmd.booking_id, with_for_update=True)
        event = RESULT_EVENTS.get(result)
        if booking is None or event is None or not can_apply(BookingStatus(booking.status), event):
            return  # e.g. a late ACCEPTED for a booking the client already cancelled
        if event is BookingEvent.CPO_ACCEPTED:
            booking.cpo_reservation_id = booking.id
        await transition_booking(session, booking, event, actor="cpo", now=now,
                                 message=message or (None if event is BookingEvent.CPO_ACCEPTED else result))


def _text(value: Any) -> str | None:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return str(value[0].get("text"))[:500]
    return None


async def expire_command(db: Database, command_id: str, now: datetime) -> bool:
    """A command the CPO accepted but never answered within its timeout
    (``worker/expire_commands.py`` finds them): failed with result TIMEOUT, and its booking
    CANCELLED / CPO_TIMEOUT. False: it was answered (or withdrawn) meanwhile."""
    async with db.write() as session:
        cmd = await session.get(Command, command_id, with_for_update=True, populate_existing=True)
        if cmd is None or cmd.state is not OutboxState.SENT or cmd.timeout_at is None or cmd.timeout_at > now:
            return False
        cmd.state = next_state(cmd.state, OutboxEvent.FAILED)
        cmd.result, cmd.updated_at = "TIMEOUT", now
        booking = await session.get(Booking, cmd.booking_id, with_for_update=True) if cmd.booking_id else None
        if cmd.type == "RESERVE_NOW" and booking is not None and can_apply(
            BookingStatus(booking.status), BookingEvent.CPO_TIMEOUT
        ):
            await transition_booking(session, booking, BookingEvent.CPO_TIMEOUT, actor="worker", now=now,
                                     message="no CommandResult within the CPO's timeout")
    return True
