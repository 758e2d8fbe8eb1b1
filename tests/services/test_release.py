"""Nothing stays held at a CPO after a booking ends, at the service level on both databases.

Each test puts a booking's RESERVE_NOW (or OCPI 2.3.0 create request) in one outbox state,
ends the booking one way, and reads what became of it: withdrawn, and a cancellation queued
wherever the CPO may have taken it (``domain/outbox.py: release``). The end-to-end versions,
against the CPO simulator's faults, are in ``tests/integration/test_ocpi_release.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from chargebook.db.engine import Database
from chargebook.db.models import Booking, Command, OcpiBooking, OcpiBookingRequest, Party
from chargebook.domain.lifecycle import BookingStatus
from chargebook.domain.outbox import LEASE_MARGIN, OutboxState, RetryPolicy, SendOutcome
from chargebook.services import outbox
from chargebook.services.booking_expiry import expire_booking
from chargebook.services.bookings import (
    BookingPolicy,
    BookingRequest,
    cancel_booking,
    create_booking,
)
from chargebook.services.clients import ClientContext, authenticate, create_client
from chargebook.services.commands import COMMANDS, enqueue_reservation, expire_command
from chargebook.services.tokens import Issuer
from tests.factories import Site, seed_site

S = OutboxState
BASE = "http://chargebook.test"
GRACE = timedelta(minutes=15)


async def _client(db: Database) -> ClientContext:
    _, key = await create_client(db, "release")
    return await authenticate(db, key)


async def _site(db: Database) -> Site:
    site = await seed_site(db)
    async with db.write() as session:
        await session.execute(
            update(Party)
            .where(Party.party_id == site.party_id)
            .values(
                status="registered",
                token_for_them="token-c",
                endpoints={"commands:RECEIVER": "http://127.0.0.1:9/ocpi/cpo/2.2.1/commands"},
            )
        )
    return site


async def _booking(db: Database, site: Site, start_in: timedelta = timedelta(minutes=30)) -> str:
    """A booking whose RESERVE_NOW has been recorded (PENDING), due to go out now."""
    client = await _client(db)
    start = datetime.now(UTC).replace(microsecond=0) + start_in
    view = await create_booking(
        db,
        client,
        BookingRequest(
            location_id=site.location_id,
            evse_uid=site.evse_uids[0],
            reservation_start=start,
            reservation_end=start + timedelta(hours=1),
        ),
        BookingPolicy(min_lead=timedelta(0)),
    )
    assert await enqueue_reservation(db, view.booking.id, datetime.now(UTC), BASE, Issuer())
    return view.booking.id


async def _commands(db: Database, booking_id: str) -> dict[str, Command]:
    async with db.read() as session:
        rows = await session.scalars(
            select(Command).where(Command.booking_id == booking_id).order_by(Command.created_at)
        )
        return {c.type: c for c in rows}


async def _set(db: Database, booking_id: str, **values: object) -> None:
    async with db.write() as session:
        await session.execute(
            update(Command)
            .where(Command.booking_id == booking_id, Command.type == "RESERVE_NOW")
            .values(**values)
        )


async def _status(db: Database, booking_id: str) -> tuple[str, str | None]:
    async with db.read() as session:
        booking = await session.get(Booking, booking_id)
        assert booking is not None
        return booking.status, booking.status_reason


async def _end(db: Database, booking_id: str, how: str) -> None:
    if how == "cancel":
        async with db.read() as session:
            booking = await session.get(Booking, booking_id)
            assert booking is not None
        await cancel_booking(db, booking.client_id, booking_id, "plans changed")
    else:  # its window starts before the CPO confirmed
        async with db.write() as session:
            await session.execute(
                update(Booking)
                .where(Booking.id == booking_id)
                .values(reservation_start=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert await expire_booking(db, booking_id, datetime.now(UTC), GRACE)


# (state, attempts) of the RESERVE_NOW when the booking ends → (its state after, when a
# cancel is due: None for no cancel, "now", "margin" (LEASE_MARGIN after the end) or "lease")
CASES = [
    (S.DUE, 0, S.WITHDRAWN, None),  # never sent: nothing to cancel
    (S.DUE, 1, S.WITHDRAWN, "margin"),  # waiting for a retry: an earlier send may have arrived
    (S.SENDING, 1, S.WITHDRAWN, "lease"),  # in flight: after its lease
    (S.SENT, 1, S.WITHDRAWN, "now"),  # the CPO took it; no result yet
]


def _due_as(
    when: str, due: datetime, ended: tuple[datetime, datetime], lease_end: datetime
) -> bool:
    """``ended``: just before and just after the end (no clock reading in between is assumed)."""
    if when == "lease":
        return due == lease_end
    offset = LEASE_MARGIN if when == "margin" else timedelta(0)
    return ended[0] + offset <= due <= ended[1] + offset


async def _timed_end(db: Database, booking_id: str, how: str) -> tuple[datetime, datetime]:
    before = datetime.now(UTC) - timedelta(milliseconds=1)  # the column keeps microseconds
    await _end(db, booking_id, how)
    return before, datetime.now(UTC) + timedelta(milliseconds=1)


@pytest.mark.parametrize("how", ["cancel", "expiry"])
@pytest.mark.parametrize(("state", "attempts", "after", "cancel_in"), CASES)
async def test_an_end_withdraws_the_reserve_now_and_cancels_what_may_be_held(
    db: Database,
    how: str,
    state: OutboxState,
    attempts: int,
    after: OutboxState,
    cancel_in: str | None,
) -> None:
    site = await _site(db)
    booking_id = await _booking(db, site)
    leased_until = datetime.now(UTC) + timedelta(seconds=20)
    await _set(
        db,
        booking_id,
        state=state,
        attempts=attempts,
        due_at=leased_until if state is S.SENDING else datetime.now(UTC),
    )
    ended = await _timed_end(db, booking_id, how)
    assert (await _status(db, booking_id))[0] == ("CANCELLED" if how == "cancel" else "EXPIRED")
    commands = await _commands(db, booking_id)
    assert commands["RESERVE_NOW"].state is after
    assert ("CANCEL_RESERVATION" in commands) is (cancel_in is not None)
    if cancel_in is not None:
        cancel = commands["CANCEL_RESERVATION"]
        assert cancel.state is S.DUE and cancel.body["reservation_id"] == booking_id
        assert cancel.body["response_url"].startswith(
            f"{BASE}/ocpi/2.2.1/commands/CANCEL_RESERVATION/"
        )
        # Never before the CPO is done with the RESERVE_NOW: after an unanswered send by the
        # lease margin, after the lease of one in flight.
        assert _due_as(cancel_in, cancel.due_at, ended, leased_until), (cancel.due_at, ended)


async def test_a_confirmed_booking_cancelled_by_its_client_is_cancelled_at_the_cpo(
    db: Database,
) -> None:
    booking_id = await _booking(db, await _site(db))
    await _set(db, booking_id, state=S.ANSWERED, attempts=1, response="ACCEPTED", result="ACCEPTED")
    async with db.write() as session:
        await session.execute(
            update(Booking)
            .where(Booking.id == booking_id)
            .values(status="CONFIRMED", cpo_reservation_id=booking_id)
        )
    await _end(db, booking_id, "cancel")
    commands = await _commands(db, booking_id)
    assert commands["RESERVE_NOW"].state is S.ANSWERED
    assert commands["CANCEL_RESERVATION"].state is S.DUE


async def test_a_reserve_now_never_answered_is_cancelled_when_given_up(db: Database) -> None:
    booking_id = await _booking(db, await _site(db))
    await _set(
        db,
        booking_id,
        state=S.SENT,
        attempts=1,
        response="ACCEPTED",
        timeout_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    reserve = (await _commands(db, booking_id))["RESERVE_NOW"]
    assert await expire_command(db, reserve.id, datetime.now(UTC))
    assert await _status(db, booking_id) == ("CANCELLED", "CPO_TIMEOUT")
    commands = await _commands(db, booking_id)
    assert (commands["RESERVE_NOW"].state, commands["RESERVE_NOW"].result) == (S.FAILED, "TIMEOUT")
    assert commands["CANCEL_RESERVATION"].state is S.DUE


def _item(command: Command, attempt: int) -> outbox.Outgoing:
    return outbox.Outgoing(
        id=command.id,
        kind=command.type,
        attempt=attempt,
        url=None,
        body=command.body,
        token=None,
        party=None,
        booking_id=command.booking_id,
        correlation_id=None,
    )


@pytest.mark.parametrize(
    ("reply", "reason", "cancelled"),
    [
        (outbox.Reply(SendOutcome.UNREACHABLE, detail="ConnectTimeout"), "CPO_UNREACHABLE", True),
        (
            outbox.Reply(SendOutcome.REFUSED, detail="OCPI 2003: unknown location"),
            "CPO_REJECTED",
            False,
        ),
        (
            outbox.Reply(SendOutcome.ANSWERED, data={"result": "REJECTED", "timeout": 30}),
            "CPO_REJECTED",
            False,
        ),
    ],
)
async def test_the_last_send_decides_whether_a_cancel_follows(
    db: Database, reply: outbox.Reply, reason: str, cancelled: bool
) -> None:
    """Given up unanswered, the CPO may hold it; refused, it holds nothing."""
    retry = RetryPolicy(attempts=2)
    booking_id = await _booking(db, await _site(db))
    await _set(db, booking_id, state=S.SENDING, attempts=2)
    reserve = (await _commands(db, booking_id))["RESERVE_NOW"]
    await outbox.record(db, COMMANDS, _item(reserve, 2), reply, retry)
    assert await _status(db, booking_id) == ("CANCELLED", reason)
    commands = await _commands(db, booking_id)
    assert commands["RESERVE_NOW"].state is S.FAILED
    assert ("CANCEL_RESERVATION" in commands) is cancelled


@pytest.mark.parametrize(
    ("reply", "sooner"),
    [
        (outbox.Reply(SendOutcome.ANSWERED, data={"result": "ACCEPTED", "timeout": 30}), True),
        (outbox.Reply(SendOutcome.UNREACHABLE, detail="timed out"), False),
    ],
)
async def test_a_cancel_waiting_for_an_answer_goes_once_the_cpo_answered(
    db: Database, reply: outbox.Reply, sooner: bool
) -> None:
    booking_id = await _booking(db, await _site(db))
    leased_until = datetime.now(UTC) + timedelta(seconds=20)
    await _set(db, booking_id, state=S.SENDING, attempts=1, due_at=leased_until)
    await _end(db, booking_id, "cancel")
    commands = await _commands(db, booking_id)
    assert commands["CANCEL_RESERVATION"].due_at >= leased_until.replace(microsecond=0)
    await outbox.record(db, COMMANDS, _item(commands["RESERVE_NOW"], 1), reply, RetryPolicy())
    commands = await _commands(db, booking_id)
    assert commands["RESERVE_NOW"].state is S.WITHDRAWN  # the late answer changes nothing else
    assert (commands["CANCEL_RESERVATION"].due_at <= datetime.now(UTC)) is sooner


async def test_no_command_is_sent_for_a_booking_that_has_ended(db: Database) -> None:
    """A command due for an ended booking is withdrawn when claimed, never sent (a
    cancellation is the exception: it is what an ended booking sends)."""
    site = await _site(db)
    booking_id = await _booking(db, site)
    async with db.write() as session:  # ended by a path that left its command due
        await session.execute(
            update(Booking)
            .where(Booking.id == booking_id)
            .values(status=BookingStatus.CANCELLED.value, status_reason="CLIENT_CANCELLED")
        )
    items = await outbox.claim(
        db, COMMANDS, datetime.now(UTC) + timedelta(seconds=1), RetryPolicy(), 100
    )
    assert booking_id not in {i.booking_id for i in items}
    assert (await _commands(db, booking_id))["RESERVE_NOW"].state is S.WITHDRAWN


# --- OCPI 2.3.0 Bookings module: the create request and the cancellation request ----------


async def _bookings_module_booking(
    db: Database, state: OutboxState, attempts: int, cpo_status: str | None
) -> str:
    site = await seed_site(db)
    client = await _client(db)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    view = await create_booking(
        db,
        client,
        BookingRequest(
            location_id=site.location_id,
            evse_uid=site.evse_uids[0],
            reservation_start=start,
            reservation_end=start + timedelta(hours=1),
        ),
        BookingPolicy(),
    )
    booking_id, now = view.booking.id, datetime.now(UTC)
    async with db.write() as session:
        party_pk = await session.scalar(select(Party.id).where(Party.party_id == site.party_id))
        assert party_pk is not None
        session.add(
            OcpiBooking(
                booking_id=booking_id,
                party_pk=party_pk,
                booking_location_id="BL1",
                request_id=booking_id,
                reservation_status=cpo_status,
                created_at=now,
                updated_at=now,
                poll_at=now + timedelta(minutes=1),
            )
        )
        session.add(
            OcpiBookingRequest(
                id=f"breq_{booking_id[:8]}",
                booking_id=booking_id,
                party_pk=party_pk,
                kind="create",
                state=state,
                body={"request_id": booking_id, "location_id": site.location_id},
                attempts=attempts,
                due_at=now + timedelta(seconds=20) if state is S.SENDING else now,
                created_at=now,
                updated_at=now,
            )
        )
        await session.execute(
            update(Booking).where(Booking.id == booking_id).values(status="PENDING")
        )
    return booking_id


async def _requests(db: Database, booking_id: str) -> dict[str, OcpiBookingRequest]:
    async with db.read() as session:
        rows = await session.scalars(
            select(OcpiBookingRequest).where(OcpiBookingRequest.booking_id == booking_id)
        )
        return {r.kind: r for r in rows}


@pytest.mark.parametrize(
    ("state", "attempts", "cpo_status", "after", "cancel_in"),
    [
        (S.DUE, 0, None, S.WITHDRAWN, None),
        (S.DUE, 1, None, S.WITHDRAWN, "margin"),
        (S.SENDING, 1, None, S.WITHDRAWN, "lease"),
        (S.ANSWERED, 1, "PENDING", S.ANSWERED, "now"),
        (S.ANSWERED, 1, "REJECTED", S.ANSWERED, None),  # the CPO ended it itself
    ],
)
async def test_a_bookings_module_booking_ending_cancels_what_the_cpo_may_hold(
    db: Database,
    state: OutboxState,
    attempts: int,
    cpo_status: str | None,
    after: OutboxState,
    cancel_in: str | None,
) -> None:
    booking_id = await _bookings_module_booking(db, state, attempts, cpo_status)
    ended = await _timed_end(db, booking_id, "expiry")
    requests = await _requests(db, booking_id)
    assert requests["create"].state is after
    assert ("cancel" in requests) is (cancel_in is not None)
    if cancel_in is not None:
        assert requests["cancel"].body["canceled"] == {
            "cancellation_reason": "UNKNOWN",
            "who_canceled": "EMSP",
        }
        assert _due_as(cancel_in, requests["cancel"].due_at, ended, requests["create"].due_at)
