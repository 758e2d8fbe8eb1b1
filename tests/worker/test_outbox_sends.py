"""The outbox as the worker runs it: a send never outlasts its lease, and a row is sent at most
``RetryPolicy.attempts`` times, however often its lease runs out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from chargebook.db.engine import Database
from chargebook.db.models import Booking, Command, Party
from chargebook.domain.outbox import OutboxState, RetryPolicy
from chargebook.services.bookings import BookingPolicy, BookingRequest, create_booking
from chargebook.services.clients import authenticate, create_client
from chargebook.services.commands import enqueue_reservation
from chargebook.services.tokens import Issuer
from chargebook.worker.send_commands import send_due_commands
from tests.factories import seed_site
from tests.trickle import Trickler


async def _reserve_now_to(db: Database, url: str) -> tuple[str, str]:
    """A booking at a CPO whose commands endpoint is ``url``, its RESERVE_NOW due now."""
    site = await seed_site(db)
    async with db.write() as session:
        await session.execute(
            update(Party)
            .where(Party.party_id == site.party_id)
            .values(
                status="registered", token_for_them="token-c", endpoints={"commands:RECEIVER": url}
            )
        )
    _, key = await create_client(db, "outbox")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
    view = await create_booking(
        db,
        await authenticate(db, key),
        BookingRequest(
            location_id=site.location_id,
            evse_uid=site.evse_uids[0],
            reservation_start=start,
            reservation_end=start + timedelta(hours=1),
        ),
        BookingPolicy(),
    )
    assert await enqueue_reservation(
        db, view.booking.id, datetime.now(UTC), "http://chargebook.test", Issuer()
    )
    async with db.read() as session:
        command_id = await session.scalar(
            select(Command.id).where(Command.booking_id == view.booking.id)
        )
    assert command_id is not None
    return view.booking.id, command_id


async def _command(db: Database, command_id: str) -> Command:
    async with db.read() as session:
        command = await session.get(Command, command_id)
        assert command is not None
        return command


async def test_a_send_that_trickles_ends_at_its_deadline_inside_the_lease(
    fresh_db: Database,
) -> None:
    """httpx's timeouts are per read and every read gets a byte; the send's own deadline
    ends it, and the failed attempt is recorded before the lease would let another worker in."""
    trickler = Trickler().start()
    try:
        _, command_id = await _reserve_now_to(fresh_db, f"{trickler.url}/commands")
        retry = RetryPolicy(attempts=3, base_seconds=30, send_timeout_seconds=1.0)
        claimed_at = datetime.now(UTC)
        assert await send_due_commands(fresh_db, claimed_at, retry, Issuer()) == 1
        command = await _command(fresh_db, command_id)
        assert command.state is OutboxState.DUE and command.attempts == 1
        assert command.message == f"POST {trickler.url}/commands/RESERVE_NOW: no answer within 1 s"
        assert command.updated_at < claimed_at + retry.lease
        requests, still_open = trickler.snapshot()
        assert [r.line.split()[:2] for r in requests] == [["POST", "/commands/RESERVE_NOW"]]
    finally:
        trickler.close()


async def test_a_row_whose_leases_ran_out_is_given_up_without_another_send(
    fresh_db: Database,
) -> None:
    """Its senders died (or stalled) before recording an outcome, ``attempts`` times: the
    budget is spent, so the next claim gives it up instead of sending it again."""
    trickler = Trickler().start()
    try:
        booking_id, command_id = await _reserve_now_to(fresh_db, f"{trickler.url}/commands")
        retry = RetryPolicy(attempts=2, base_seconds=30, send_timeout_seconds=1.0)
        async with fresh_db.write() as session:
            await session.execute(
                update(Command)
                .where(Command.id == command_id)
                .values(
                    state=OutboxState.SENDING,
                    attempts=2,
                    due_at=datetime.now(UTC) - timedelta(seconds=1),
                )
            )
        now = datetime.now(UTC)
        assert await send_due_commands(fresh_db, now, retry, Issuer()) == 1
        assert trickler.snapshot() == ([], 0)  # nothing was sent
        command = await _command(fresh_db, command_id)
        assert (command.state, command.attempts) == (OutboxState.FAILED, 3)
        async with fresh_db.read() as session:
            booking = await session.get(Booking, booking_id)
            assert booking is not None and (booking.status, booking.status_reason) == (
                "CANCELLED",
                "CPO_UNREACHABLE",
            )
            cancel = await session.scalar(
                select(Command).where(
                    Command.booking_id == booking_id, Command.type == "CANCEL_RESERVATION"
                )
            )
        assert cancel is not None and cancel.state is OutboxState.DUE  # the CPO may hold it
        assert (
            await send_due_commands(fresh_db, now, retry, Issuer()) == 0
        )  # the cancel waits its margin
    finally:
        trickler.close()
