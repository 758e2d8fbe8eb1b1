"""The outbox's sender: the one way rows we owe CPOs are sent (OCPI commands and Bookings-module
requests), each kind served by a :class:`Mailbox`.

For every kind the same three steps, each a transaction of its own or none (STYLE.md 13):

1. :func:`claim` takes due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), leases them
   (``due_at`` moves past the send timeout, so no other worker sends them meanwhile), and
   hands back typed :class:`Outgoing` items. A row whose booking has ended is withdrawn
   instead, unless it is a cancellation.
2. :func:`send` POSTs one item through ``OcpiClient`` with its stored correlation id and
   names the outcome (:class:`~chargebook.domain.outbox.SendOutcome`). It never takes longer
   than the send timeout, so a lease never ends while its send is in flight.
3. :func:`record` re-reads and locks the row and lets the mailbox apply the answer; a row
   that moved on meanwhile (answered by a CommandResult, withdrawn, taken over after its
   lease) is left alone.

:func:`deliver` runs 2 and 3 for one item and keeps any failure to that item. A row is sent at
most ``RetryPolicy.attempts`` times: one that comes back from an expired lease with its budget
spent is given up without another send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import structlog
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook import correlation, metrics
from chargebook.db.engine import Database
from chargebook.db.models import Booking, Command, OcpiBookingRequest, Party
from chargebook.db.queries import claim as claim_rows
from chargebook.domain.lifecycle import LIVE_STATES, BookingStatus
from chargebook.domain.outbox import (
    CLAIMABLE,
    OutboxEvent,
    OutboxState,
    RetryPolicy,
    SendOutcome,
    next_state,
)
from chargebook.ocpi.answers import Unreadable
from chargebook.ocpi.client import OcpiClient, PeerError, PeerRejected
from chargebook.ocpi.client import Party as OcpiParty
from chargebook.services.clock import utcnow
from chargebook.services.tokens import Issuer

log = structlog.get_logger("chargebook.outbox")

#: The outbox's tables. A row of either has the same outbox columns (id, party_pk,
#: booking_id, state, attempts, due_at, body, message, updated_at, correlation_id, claimed_by).
Row = TypeVar("Row", Command, OcpiBookingRequest)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One claimed row, ready to send. It carries no ORM object: the claim's transaction is
    over before the send starts."""

    id: str
    kind: str  # the OCPI command type, or the Bookings request kind (create, change, cancel)
    attempt: int  # this send's number, 1-based
    url: str | None  # None: the CPO offers no endpoint for it
    body: dict[str, Any]
    token: str | None  # the token the CPO gave us
    party: OcpiParty | None
    booking_id: str | None
    correlation_id: str | None

    @property
    def party_label(self) -> str:
        """The CPO as the metrics and logs name it (``DE*SIM``)."""
        return f"{self.party.country_code}*{self.party.party_id}" if self.party else "unidentified"


@dataclass(frozen=True, slots=True)
class Reply:
    """What one send got back: the outcome, the envelope's data when there was one, and what
    went wrong otherwise."""

    outcome: SendOutcome
    data: Any = None
    detail: str = ""


class Mailbox(Protocol[Row]):
    """One kind of outgoing row: which table, where it goes, and what an answer does."""

    #: The OCPI module, as metrics name it (``commands``, ``bookings``).
    module: str
    #: What one row is called in log events (``command`` → "command sent", ``command_id``).
    noun: str
    table: type[Row]

    def kind(self, row: Row) -> str: ...

    def url(self, row: Row, party: Party) -> str | None: ...

    def outlives_booking(self, row: Row) -> bool:
        """True for a cancellation: it is sent after its booking ended."""
        ...

    def result(self, data: Any) -> str | None:
        """What an answer says, in one word, for the log line."""
        ...

    async def record(
        self,
        session: AsyncSession,
        row: Row,
        item: Outgoing,
        reply: Reply,
        retry: RetryPolicy,
        now: datetime,
    ) -> None:
        """Apply the answer to a locked row still ``sending`` this attempt (and to its booking)."""
        ...

    async def answered_after_withdrawal(
        self, session: AsyncSession, row: Row, now: datetime
    ) -> None:
        """The row was withdrawn while in flight (its booking ended) and its answer is now in:
        the cancellation that waited for it may go at once."""
        ...


def _due(mailbox: Mailbox[Row], now: datetime) -> Select[Row]:
    table = mailbox.table
    return (
        select(table).where(table.state.in_(CLAIMABLE), table.due_at <= now).order_by(table.due_at)
    )


async def claim(
    db: Database,
    mailbox: Mailbox[Row],
    now: datetime,
    retry: RetryPolicy,
    limit: int,
    worker_id: str | None = None,
    skip: Sequence[str] = (),
) -> list[Outgoing]:
    """Claim and lease up to ``limit`` due rows (``skip``: ids this process is still sending)."""
    query = _due(mailbox, now)
    if skip:
        query = query.where(mailbox.table.id.not_in(list(skip)))
    async with db.write() as session:
        rows = await claim_rows(session, query, limit)
        leased_until = max(now, utcnow()) + retry.lease  # a later claim of a long pass starts later
        out = []
        for row in rows:
            kind = mailbox.kind(row)
            named = {_id_field(mailbox): row.id, "type": kind, "booking_id": row.booking_id}
            if row.state is OutboxState.SENDING:  # its sender died (or stalled) before recording
                with correlation.bound(row.correlation_id):
                    log.warning(
                        f"{mailbox.noun} lease expired; sending again",
                        **named,
                        attempts=row.attempts,
                        claimed_by=row.claimed_by,
                    )
            if not mailbox.outlives_booking(row) and await _booking_ended(session, row.booking_id):
                row.state, row.updated_at = next_state(row.state, OutboxEvent.WITHDRAWN), now
                log.info(f"{mailbox.noun} withdrawn: its booking has ended", **named)
                continue
            row.state = next_state(row.state, OutboxEvent.CLAIMED)
            row.attempts, row.claimed_by = row.attempts + 1, worker_id
            row.due_at, row.updated_at = leased_until, now
            party = await session.get(Party, row.party_pk)
            out.append(
                Outgoing(
                    id=row.id,
                    kind=kind,
                    attempt=row.attempts,
                    url=mailbox.url(row, party) if party else None,
                    body=dict(row.body),
                    token=party.token_for_them if party else None,
                    party=OcpiParty(party.country_code, party.party_id) if party else None,
                    booking_id=row.booking_id,
                    correlation_id=row.correlation_id,
                )
            )
    return out


async def _booking_ended(session: AsyncSession, booking_id: str | None) -> bool:
    if booking_id is None:
        return False
    status = await session.scalar(select(Booking.status).where(Booking.id == booking_id))
    return status is not None and BookingStatus(status) not in LIVE_STATES


async def send(item: Outgoing, retry: RetryPolicy, issuer: Issuer, module: str) -> Reply:
    """POST one item and name the outcome. Never raises, never outlasts the send timeout."""
    if item.url is None or item.token is None:
        return Reply(SendOutcome.UNREACHABLE, detail=f"the CPO offers no {module} endpoint")
    try:
        # The client's own timeouts are per read; this one bounds the whole call (a peer that
        # trickles its answer a byte at a time must not hold the row past its lease).
        async with asyncio.timeout(retry.send_timeout_seconds):
            async with OcpiClient(
                token=item.token,
                timeout=retry.send_timeout_seconds,
                to_party=item.party,
                from_party=OcpiParty(issuer.country_code, issuer.party_id),
                correlation_id=item.correlation_id,
            ) as client:
                answer = await client.request("POST", item.url, body=item.body)
    except TimeoutError:
        return Reply(
            SendOutcome.UNREACHABLE,
            detail=f"POST {item.url}: no answer within {retry.send_timeout_seconds:g} s",
        )
    except PeerRejected as exc:
        return Reply(SendOutcome.REFUSED, detail=str(exc))
    except PeerError as exc:
        return Reply(SendOutcome.UNREACHABLE, detail=str(exc))
    return Reply(SendOutcome.ANSWERED, data=answer.data)


def note_unreadable(mailbox: Mailbox[Row], item: Outgoing, unreadable: Unreadable) -> None:
    """A CPO's answer (or a value in it) we cannot use: logged with the CPO and the reason,
    and counted (``chargebook_ocpi_rejected_items_total``)."""
    metrics.OCPI_REJECTED_ITEMS.labels(item.party_label, mailbox.module, unreadable.reason).inc()
    log.warning(
        f"{mailbox.noun} answer unreadable",
        **_named(mailbox, item),
        reason=unreadable.reason,
        problem=unreadable.problem,
    )


def _named(mailbox: Mailbox[Row], item: Outgoing) -> dict[str, Any]:
    """The fields every log line about one outgoing item carries."""
    return {
        _id_field(mailbox): item.id,
        "type": item.kind,
        "booking_id": item.booking_id,
        "party": item.party_label,
        "attempt": item.attempt,
    }


def _id_field(mailbox: Mailbox[Row]) -> str:
    return f"{mailbox.noun.replace(' ', '_')}_id"  # command_id, booking_request_id


async def record(
    db: Database, mailbox: Mailbox[Row], item: Outgoing, reply: Reply, retry: RetryPolicy
) -> None:
    now = utcnow()
    async with db.write() as session:
        row = await session.get(
            mailbox.table, item.id, with_for_update=True, populate_existing=True
        )
        if row is None or row.attempts != item.attempt:
            return  # taken over by another worker after the lease
        if row.state is OutboxState.WITHDRAWN:
            # Withdrawn while in flight. Once the CPO has answered, the cancellation waiting for
            # the lease cannot overtake it any more; without an answer it keeps waiting.
            if reply.outcome is not SendOutcome.UNREACHABLE:
                await mailbox.answered_after_withdrawal(session, row, now)
        elif row.state is OutboxState.SENDING:
            await mailbox.record(session, row, item, reply, retry, now)
        # else: answered meanwhile (a CommandResult came before we recorded the answer)


async def deliver(
    db: Database, mailbox: Mailbox[Row], item: Outgoing, retry: RetryPolicy, issuer: Issuer
) -> SendOutcome:
    """Send one claimed item and record its outcome. Whatever goes wrong stays with this item."""
    # Each item runs in its own task, so its correlation id binds its own log context.
    with correlation.bound(item.correlation_id):
        if item.attempt > retry.attempts:
            # Every earlier send ended without a recorded outcome (its worker died or stalled
            # past the lease): the budget is spent, so it is given up without another send.
            reply = Reply(
                SendOutcome.UNREACHABLE,
                detail=f"no outcome recorded for {retry.attempts} sends; given up",
            )
            log.warning(f"{mailbox.noun} given up", **_named(mailbox, item), detail=reply.detail)
        else:
            reply = await send(item, retry, issuer, mailbox.module)
            log.info(
                f"{mailbox.noun} sent",
                **_named(mailbox, item),
                outcome=reply.outcome.value,
                result=mailbox.result(reply.data),
                detail=reply.detail or None,
            )
        try:
            await record(db, mailbox, item, reply, retry)
        except Exception as exc:  # noqa: BLE001 - one row's trouble must not stop the others
            log.exception(
                "outbox answer could not be recorded",
                module=mailbox.module,
                id=item.id,
                party=item.party_label,
                booking_id=item.booking_id,
            )
            fallback = Reply(
                SendOutcome.MALFORMED,
                detail=f"the answer could not be recorded: {type(exc).__name__}",
            )
            try:
                await record(db, mailbox, item, fallback, retry)
            except Exception:  # noqa: BLE001 - e.g. the database is gone; the lease brings it back
                log.exception(
                    "outbox fallback could not be recorded", module=mailbox.module, id=item.id
                )
        return reply.outcome
