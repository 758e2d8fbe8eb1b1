"""Commands to CPOs (we are the Sender): RESERVE_NOW and CANCEL_RESERVATION for bookings.

OCPI 2.2.1 mod_commands.asciidoc. A command is a row first (decided in the transaction that
needs it), sent by the worker after commit, and its outcome recorded in a new transaction:

* the synchronous CommandResponse: ACCEPTED keeps the booking PENDING until the result, with
  ``timeout_at`` from the CPO's ``timeout``; anything else ends it (CPO_REJECTED);
* the asynchronous CommandResult at our ``response_url``: ACCEPTED confirms, the refusals
  cancel with the CPO's reason, and a later CANCELED_RESERVATION cancels a confirmed booking;
* no result by ``timeout_at`` → CPO_TIMEOUT; transport failures are retried with backoff
  until the retry budget is spent → CPO_UNREACHABLE. A booking is never left in PENDING.

When is RESERVE_NOW sent? OCPI 2.2.1 reserves "from now until expiry_date", so sending it for a
booking days ahead would block the charger for days. It is sent ``reserve_lead_minutes``
(per CPO, default 60) before the window starts; until then the booking stays REQUESTED,
which is the honest state: the CPO has not been asked yet.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook import correlation
from chargebook.db.engine import Database
from chargebook.db.models import Booking, ChargingSession, Command, Evse, Location, OcpiBooking, Party, Token
from chargebook.db.queries import claim
from chargebook.domain.errors import InvalidRequest, NotFound
from chargebook.domain.lifecycle import BookingEvent, BookingStatus, can_apply
from chargebook.domain.outbox import RetryPolicy
from chargebook.ocpi.client import OcpiClient, PeerError, PeerRejected
from chargebook.ocpi.client import Party as OcpiParty
from chargebook.ocpi.v221.types import format_datetime
from chargebook.services.booking_state import transition_booking
from chargebook.services.clock import utcnow
from chargebook.services.ids import new_id
from chargebook.services.token_objects import pipelet_token, token_object
from chargebook.services.tokens import Issuer

BATCH = 50
log = structlog.get_logger("chargebook.commands")

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




async def enqueue_due_reservations(db: Database, now: datetime, base_url: str, issuer: Issuer) -> int:
    """REQUESTED bookings at OCPI-connected CPOs whose send time has come → RESERVE_NOW rows,
    bookings → PENDING (the intent is recorded before anything is sent)."""
    async with db.write() as session:
        rows = (await session.execute(
            select(Booking, Party, Location.id)
            .join(Evse, Booking.evse_pk == Evse.pk)
            .join(Location, Evse.location_pk == Location.pk)
            .join(Party, Location.party_pk == Party.id)
            .where(Booking.status == BookingStatus.REQUESTED, Party.status == "registered",
                   Booking.reservation_start > now,
                   # bookings made through the OCPI 2.3.0 Bookings module have their own requests
                   ~exists().where(OcpiBooking.booking_id == Booking.id))
            .order_by(Booking.reservation_start)
            .limit(BATCH * 4)
        )).all()
        count = 0
        for booking, party, location_id in rows:
            if booking.reservation_start - timedelta(minutes=party.reserve_lead_minutes) > now:
                continue
            # Re-read under the lock: the row above came from a plain read and another worker
            # may have sent it since (without populate_existing the stale status would stay).
            # A row another worker holds right now is its to send: skip it.
            locked = await session.get(Booking, booking.id, with_for_update={"skip_locked": True},
                                       populate_existing=True)
            if locked is None or locked.status != BookingStatus.REQUESTED:
                continue
            token = await _token_body(session, locked, issuer, now)
            command_id = new_id("cmd")
            session.add(Command(
                id=command_id, party_pk=party.id, booking_id=locked.id, type="RESERVE_NOW", state="due",
                body={
                    "response_url": f"{base_url.rstrip('/')}/ocpi/2.2.1/commands/RESERVE_NOW/{command_id}",
                    "token": token,
                    "expiry_date": format_datetime(locked.reservation_end),
                    "reservation_id": locked.id,
                    "location_id": location_id,
                    "evse_uid": locked.evse_uid,
                    "authorization_reference": locked.id,
                },
                due_at=now, created_at=now, updated_at=now,
                correlation_id=locked.request_id,  # the booking's create call, carried to the CPO
            ))
            await transition_booking(session, locked, BookingEvent.SENT_TO_CPO, actor="worker", now=now)
            count += 1
            if count >= BATCH:
                break
    return count


async def _token_body(session: AsyncSession, booking: Booking, issuer: Issuer, now: datetime) -> dict[str, Any]:
    if booking.token_pk:
        token = await session.get(Token, booking.token_pk)
        if token is not None:
            return token_object(token, issuer.country_code, issuer.party_id)
    return pipelet_token(booking.token_uid, issuer.country_code, issuer.party_id, issuer.name, now)


async def enqueue_cancel(session: AsyncSession, booking: Booking, now: datetime, base_url: str | None = None) -> None:
    """Called in the transaction that cancels a booking: withdraw or cancel its reservation."""
    reserve = await session.scalar(
        select(Command).where(Command.booking_id == booking.id, Command.type == "RESERVE_NOW").with_for_update()
    )
    if reserve is None:
        return
    if reserve.state == "due" and reserve.attempts == 0:
        reserve.state, reserve.updated_at = "withdrawn", now  # never sent: nothing to cancel
        return
    command_id = new_id("cmd")
    base = base_url or reserve.body["response_url"].split("/ocpi/")[0]
    session.add(Command(
        id=command_id, party_pk=reserve.party_pk, booking_id=booking.id, type="CANCEL_RESERVATION",
        state="due", body={"response_url": f"{base}/ocpi/2.2.1/commands/CANCEL_RESERVATION/{command_id}",
                           "reservation_id": booking.id},
        due_at=now, created_at=now, updated_at=now, correlation_id=correlation.current(),
    ))


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
        command_id = new_id("cmd")
        response_url = f"{base_url.rstrip('/')}/ocpi/2.2.1/commands/{command_type}/{command_id}"
        if command_type == "START_SESSION":
            if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.ATTENDING):
                raise InvalidRequest(f"cannot start charging in state {booking.status}")
            if not booking.reservation_start - timedelta(minutes=15) <= now < booking.reservation_end:
                raise InvalidRequest("charging can start only during the booking's window")
            body = {"response_url": response_url, "token": await _token_body(session, booking, issuer, now),
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
            body = {"response_url": response_url, "session_id": charging.id}
        cmd = Command(id=command_id, party_pk=party_pk, booking_id=booking.id, type=command_type,
                      state="due", body=body, due_at=now, created_at=now, updated_at=now,
                      correlation_id=correlation.current())
        session.add(cmd)
    return cmd


async def booking_commands(db: Database, booking_id: str) -> list[Command]:
    async with db.read() as session:
        return list(await session.scalars(
            select(Command).where(Command.booking_id == booking_id).order_by(Command.created_at)))


CONCURRENT_SENDS = 10


async def send_due_commands(
    db: Database, now: datetime, retry: RetryPolicy = RetryPolicy(), issuer: Issuer = Issuer(),
    worker_id: str | None = None,
) -> int:
    """Claim due commands, send them concurrently, record each outcome in its own transaction.

    A claimed command is leased (``due_at`` moves past the send timeout), so no other worker
    picks it up while it is in flight; if this worker dies mid-send the lease runs out and the
    command is sent again (RESERVE_NOW with the same reservation_id replaces the reservation,
    CANCEL_RESERVATION is idempotent), and a slow CPO never holds up the others. Such a resend
    is logged (``command lease expired``) and counted in ``attempts``; it happens only when the
    CPO's answer never reached us, since a CommandResult marks the command answered.
    Each command goes out with its stored ``correlation_id`` as OCPI X-Correlation-ID.

    Commands are claimed ``CONCURRENT_SENDS`` at a time and every claimed one is sent at once:
    a lease only holds if its send starts when it is taken. (Claiming a whole batch and
    queueing its sends let slow answers outlast the leases of the queued ones, which another
    worker then sent a second time.)
    """
    sent = 0
    for _ in range(BATCH // CONCURRENT_SENDS):
        claimed = await _send_round(db, now, retry, issuer, worker_id)
        sent += claimed
        if claimed < CONCURRENT_SENDS:
            break
    return sent


async def _send_round(db: Database, now: datetime, retry: RetryPolicy, issuer: Issuer, worker_id: str | None) -> int:
    lease = retry.lease
    async with db.write() as session:
        claimed = await claim(session, select(Command).where(
            Command.state.in_(["due", "sending"]), Command.due_at <= now).order_by(Command.due_at),
            CONCURRENT_SENDS)
        leased_until = max(now, utcnow()) + lease  # a later round of a long pass starts later
        work = []
        for cmd in claimed:
            if cmd.state == "sending":  # its sender died (or stalled) before recording an outcome
                with correlation.bound(cmd.correlation_id):
                    log.warning("command lease expired; sending again", command_id=cmd.id, type=cmd.type,
                                booking_id=cmd.booking_id, attempts=cmd.attempts, claimed_by=cmd.claimed_by)
            cmd.state, cmd.attempts, cmd.claimed_by = "sending", cmd.attempts + 1, worker_id
            cmd.due_at, cmd.updated_at = leased_until, now
            party = await session.get(Party, cmd.party_pk)
            url = (party.endpoints or {}).get("commands:RECEIVER") if party else None
            to = OcpiParty(party.country_code, party.party_id) if party else None
            work.append((cmd.id, cmd.type, cmd.body, cmd.attempts, url, party.token_for_them if party else None, to,
                         cmd.correlation_id, cmd.booking_id))

    async def send(command_id: str, ctype: str, body: dict[str, Any], attempts: int, url: str | None,
                   token: str | None, to: OcpiParty | None, correlation_id: str | None,
                   booking_id: str | None) -> None:
        outcome: tuple[str, Any]
        if url is None or token is None:
            outcome = ("unreachable", "the CPO offers no commands endpoint")
        else:
            try:
                async with OcpiClient(token=token, timeout=retry.send_timeout_seconds, to_party=to,
                                      from_party=OcpiParty(issuer.country_code, issuer.party_id),
                                      correlation_id=correlation_id) as client:
                    reply = await client.request("POST", f"{url.rstrip('/')}/{ctype}", body=body)
                outcome = ("response", reply.data if isinstance(reply.data, dict) else {})
            except PeerRejected as exc:
                outcome = ("rejected", str(exc))
            except PeerError as exc:
                outcome = ("unreachable", str(exc))
        log.info("command sent", command_id=command_id, type=ctype, booking_id=booking_id, attempt=attempts,
                 outcome=outcome[0], result=outcome[1].get("result") if isinstance(outcome[1], dict) else None)
        await _record_send(db, command_id, outcome, attempts < retry.attempts, retry.backoff(attempts))

    async def send_correlated(item: tuple[Any, ...]) -> None:
        with correlation.bound(item[7]):  # each send runs in its own task: its own log context
            await send(*item)

    await asyncio.gather(*(send_correlated(item) for item in work))
    return len(work)


async def _record_send(
    db: Database, command_id: str, outcome: tuple[str, Any], may_retry: bool, backoff: timedelta
) -> None:
    now = utcnow()
    kind, detail = outcome
    async with db.write() as session:
        cmd = await session.get(Command, command_id, with_for_update=True)
        if cmd is None or cmd.state != "sending":
            return
        booking = await session.get(Booking, cmd.booking_id, with_for_update=True) if cmd.booking_id else None
        if kind == "unreachable" and may_retry:
            cmd.state, cmd.message, cmd.updated_at, cmd.due_at = "due", str(detail)[:500], now, now + backoff
            return
        if kind == "response" and detail.get("result") == "ACCEPTED":
            timeout = int(detail.get("timeout") or 0) or 60
            cmd.state, cmd.response, cmd.timeout_at, cmd.updated_at = "sent", "ACCEPTED", now + timedelta(seconds=timeout), now
            return
        cmd.state, cmd.updated_at = "failed", now
        if kind == "response":
            cmd.response = str(detail.get("result"))[:24]
            event, message = BookingEvent.CPO_REJECTED, f"CommandResponse {cmd.response}"
        elif kind == "rejected":
            event, message = BookingEvent.CPO_REJECTED, str(detail)
        else:
            event, message = BookingEvent.CPO_UNREACHABLE, str(detail)
        cmd.message = message[:500]
        if booking is not None and cmd.type == "RESERVE_NOW" and can_apply(BookingStatus(booking.status), event):
            await transition_booking(session, booking, event, actor="cpo", now=now, message=message[:500])


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
        if cmd.state in ("sent", "sending", "due"):
            cmd.state = "answered"
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


async def expire_unanswered(db: Database, now: datetime) -> int:
    """Commands the CPO accepted but never answered within its timeout."""
    moved = 0
    async with db.write() as session:
        for cmd in await claim(session, select(Command).where(Command.state == "sent", Command.timeout_at <= now), BATCH):
            cmd.state, cmd.result, cmd.updated_at = "failed", "TIMEOUT", now
            booking = await session.get(Booking, cmd.booking_id, with_for_update=True) if cmd.booking_id else None
            if cmd.type == "RESERVE_NOW" and booking is not None and can_apply(BookingStatus(booking.status), BookingEvent.CPO_TIMEOUT):
                await transition_booking(session, booking, BookingEvent.CPO_TIMEOUT, actor="worker", now=now,
                                         message="no CommandResult within the CPO's timeout")
                moved += 1
    return moved
