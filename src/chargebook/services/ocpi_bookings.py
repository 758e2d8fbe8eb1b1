"""Bookings through the OCPI 2.3.0 Bookings module (1.1): sending our requests, following
the CPO's Booking (its answers, its pushes, our polls), timeouts, changes.

mod_bookings.asciidoc § Flow and Lifecycle. The CPO owns the Booking; we follow it:

* a request row (``services/booking_requests.py``) is sent by the outbox
  (``services/outbox.py``) like a command: claimed under a lease, POSTed, the answer applied
  by :class:`BookingRequestMailbox` in a new transaction, no answer (or one that is not a
  Booking) retried with backoff (then CPO_UNREACHABLE, or CPO_FAILED);
* every Booking we hear (POST answer, PUT/PATCH push, poll) goes through
  :func:`_apply_booking`, which maps its ReservationStatus onto our lifecycle
  (``domain/reservation_status.py``) and settles change requests;
* pushes get lost, so :func:`poll_party` asks the CPO again (``GET {bookings_url}``
  with ``date_from``) while a booking is PENDING or RESERVED at the CPO and its window has
  not ended (``worker/poll_bookings.py`` finds them);
* a booking the CPO keeps PENDING past the party's answer timeout ends CPO_TIMEOUT
  (:func:`expire_unanswered`), and a cancellation is sent so no slot stays held (as for
  every end on our side: ``booking_state.transition_booking``).
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import (
    Booking,
    BookingLocation,
    BookingTransition,
    OcpiBooking,
    OcpiBookingRequest,
    Party,
)
from chargebook.domain.errors import InvalidRequest, NotFound
from chargebook.domain.lifecycle import LIVE_STATES, BookingEvent, BookingStatus, can_apply
from chargebook.domain.outbox import OutboxEvent, OutboxState, RetryPolicy, SendOutcome, next_state
from chargebook.domain.reservation_status import events_for
from chargebook.ocpi.answers import Unreadable, single_object
from chargebook.ocpi.client import OcpiClient, PeerError
from chargebook.ocpi.client import Party as OcpiParty
from chargebook.ocpi.v221.types import format_datetime, parse_datetime
from chargebook.ocpi.v230.bookings import Booking as OcpiBookingModel
from chargebook.ocpi.validation import check
from chargebook.services import booking_requests
from chargebook.services.booking_calendars import window_available
from chargebook.services.booking_state import transition_booking
from chargebook.services.clock import utcnow
from chargebook.services.outbox import Outgoing, Reply, note_unreadable

log = structlog.get_logger("chargebook.bookings")
FOLLOWED = ("PENDING", "RESERVED")  # the CPO's states in which a booking can still move


# --- applying what the CPO says ---------------------------------------------------------


def _same_period(request: dict[str, Any], period: dict[str, Any]) -> bool:
    mine = request.get("period") or {}
    try:
        return all(parse_datetime(mine[k]) == parse_datetime(period[k]) for k in ("start_date_time", "end_date_time"))
    except (KeyError, TypeError, ValueError):
        return False


def _change_outcome(data: dict[str, Any], change: OcpiBookingRequest) -> str | None:
    """ACCEPTED / DECLINED / FAILED / PENDING for our change request, from the Booking's
    ``booking_requests`` (the newest entry asking what we asked), else from its period."""
    entries = [e for e in data.get("booking_requests") or [] if isinstance(e, dict)
               and _same_period(e.get("booking_request") or {}, change.body.get("period") or {})
               and (e.get("booking_request") or {}).get("canceled") is None]
    if entries:
        newest = max(entries, key=lambda e: str(e.get("request_received", "")))
        return str(newest.get("request_status") or "PENDING")
    if data.get("reservation_status") == "RESERVED" and _same_period(change.body, data.get("period") or {}):
        return "ACCEPTED"
    return None


async def _settle_change(session: AsyncSession, booking: Booking, data: dict[str, Any], now: datetime) -> None:
    change = await session.scalar(select(OcpiBookingRequest).where(
        OcpiBookingRequest.booking_id == booking.id, OcpiBookingRequest.kind == "change",
        OcpiBookingRequest.state == OutboxState.SENT).order_by(OcpiBookingRequest.created_at.desc()).limit(1)
        .with_for_update())
    if change is None:
        return
    outcome = _change_outcome(data, change)
    if outcome in (None, "PENDING"):
        return
    change.state = next_state(change.state, OutboxEvent.ANSWERED)
    change.outcome, change.updated_at = outcome, now
    if outcome == "ACCEPTED":
        period = change.body["period"]
        booking.reservation_start = parse_datetime(period["start_date_time"])
        booking.reservation_end = parse_datetime(period["end_date_time"])
    await _note(session, booking, f"CHANGE_{outcome}", now,
                f"{change.body['period']['start_date_time']} – {change.body['period']['end_date_time']}")


async def _note(session: AsyncSession, booking: Booking, event: str, now: datetime, message: str | None) -> None:
    """A history line that is not a transition (a change asked, accepted or declined)."""
    session.add(BookingTransition(booking_id=booking.id, from_status=booking.status, to_status=booking.status,
                                  event=event, reason=None, actor="cpo" if event != "CHANGE_REQUESTED" else "operator",
                                  message=message, at=now))


def _message(status: str, data: dict[str, Any]) -> str:
    canceled = data.get("canceled") or {}
    if status == "CANCELED" and canceled:
        return f"CPO booking CANCELED by {canceled.get('who_canceled')}: {canceled.get('cancellation_reason')}"
    return f"CPO booking {status}"


async def _apply_booking(
    session: AsyncSession, cpo_side: OcpiBooking, booking: Booking, data: dict[str, Any], now: datetime,
    poll_every: timedelta,
) -> None:
    """One Booking object heard from the CPO, applied to a locked booking."""
    stamp = parse_datetime(data["last_updated"]) if data.get("last_updated") else now
    if cpo_side.last_updated is not None and stamp < cpo_side.last_updated:
        return  # older than what we hold
    status = str(data.get("reservation_status") or "UNKNOWN")
    cpo_side.data, cpo_side.last_updated, cpo_side.updated_at = data, stamp, now
    cpo_side.cpo_booking_id = str(data.get("id") or cpo_side.cpo_booking_id or "") or None
    cpo_side.reservation_status = status
    if status != "PENDING":
        cpo_side.answer_due_at = None
    canceled = data.get("canceled") or None
    for event in events_for(status, BookingStatus(booking.status), (canceled or {}).get("who_canceled")):
        if event is BookingEvent.CPO_ACCEPTED:
            booking.cpo_reservation_id = cpo_side.cpo_booking_id
        await transition_booking(session, booking, event, actor="cpo", now=now, message=_message(status, data))
    if canceled:
        # The Cancellation object is shown with the booking's price (a CPO fee may follow by CDR).
        booking.price_breakdown = {**(booking.price_breakdown or {}), "cancellation": dict(canceled)}
    if status == "RESERVED":
        await _settle_change(session, booking, data, now)
    following = status in FOLLOWED and booking.reservation_end > now
    cpo_side.poll_at = now + poll_every if following else None


async def _locked(session: AsyncSession, booking_id: str) -> tuple[OcpiBooking, Booking] | None:
    booking = await session.get(Booking, booking_id, with_for_update=True)
    cpo_side = await session.get(OcpiBooking, booking_id, with_for_update=True)
    return None if booking is None or cpo_side is None else (cpo_side, booking)


async def receive_booking(
    db: Database, party: Party, url_id: str, body: dict[str, Any], *, patch: bool, poll_every: timedelta
) -> bool:
    """The CPO PUTs or PATCHes a Booking to us (§ Receiver Interface). The URL's last segment
    is the booking id in the examples and ``request_id`` in the PUT table (ocpi/ocpi#577):
    either finds it. False: a PATCH older than what we hold."""
    if patch and body.get("last_updated") is None:
        raise InvalidRequest("last_updated is required")
    if not patch:
        check(OcpiBookingModel, body, "Booking")
    async with db.write() as session:
        keys = {url_id, str(body.get("request_id") or ""), str(body.get("id") or "")} - {""}
        cpo_side = await session.scalar(select(OcpiBooking).where(
            OcpiBooking.party_pk == party.id,
            (OcpiBooking.cpo_booking_id.in_(keys)) | (OcpiBooking.request_id.in_(keys))).limit(1))
        if cpo_side is None:
            raise NotFound(f"Unknown booking {url_id}")
        locked = await _locked(session, cpo_side.booking_id)
        assert locked is not None
        cpo_side, booking = locked
        data = body
        if patch:
            current = copy.deepcopy(cpo_side.data or {})
            if current.get("last_updated") and parse_datetime(current["last_updated"]) > parse_datetime(body["last_updated"]):
                return False
            if isinstance(body.get("booking_terms"), dict) and isinstance(current.get("booking_terms"), dict):
                body = {**body, "booking_terms": {**current["booking_terms"], **body["booking_terms"]}}
            if "evse_uid" in body and "booking_option" not in body:  # the 1.0 place (§4.7 quirk)
                body = {**body, "booking_option": {**(current.get("booking_option") or {}), "evse_uid": body["evse_uid"]}}
            data = {**current, **body}
            if current:
                check(OcpiBookingModel, data, "Booking after PATCH")
            elif "reservation_status" not in data:
                raise InvalidRequest("a PATCH for a booking we hold no copy of needs reservation_status")
        await _apply_booking(session, cpo_side, booking, data, utcnow(), poll_every)
    return True


async def get_booking_object(db: Database, party: Party, url_id: str) -> dict[str, Any]:
    async with db.read() as session:
        row = await session.scalar(select(OcpiBooking).where(
            OcpiBooking.party_pk == party.id,
            (OcpiBooking.cpo_booking_id == url_id) | (OcpiBooking.request_id == url_id)).limit(1))
    if row is None or row.data is None:
        raise NotFound(f"Unknown booking {url_id}")
    return row.data


# --- sending requests ---------------------------------------------------------------------


class BookingRequestMailbox:
    """The outbox's Bookings-module requests (``ocpi_booking_requests``): POSTed to the CPO's
    Bookings endpoint; the answer is the CPO's Booking, applied at once."""

    module = "bookings"
    noun = "booking request"
    table = OcpiBookingRequest

    def __init__(self, poll_every: timedelta) -> None:
        self.poll_every = poll_every

    def kind(self, row: OcpiBookingRequest) -> str:
        return row.kind

    def url(self, row: OcpiBookingRequest, party: Party) -> str | None:
        return party.bookings_url or None

    def outlives_booking(self, row: OcpiBookingRequest) -> bool:
        return row.kind == "cancel"

    def result(self, data: Any) -> str | None:
        return str(data.get("reservation_status")) if isinstance(data, dict) else None

    async def record(
        self, session: AsyncSession, row: OcpiBookingRequest, item: Outgoing, reply: Reply,
        retry: RetryPolicy, now: datetime,
    ) -> None:
        outcome, detail = reply.outcome, reply.detail
        data: dict[str, Any] = {}
        if outcome is SendOutcome.ANSWERED:
            answer = single_object(reply.data)
            if not isinstance(answer, Unreadable):
                try:
                    check(OcpiBookingModel, answer, "Booking")
                    data = answer
                except InvalidRequest as exc:
                    answer = Unreadable("invalid_booking", str(exc))
            if isinstance(answer, Unreadable):
                note_unreadable(self, item, answer)
                outcome, detail = SendOutcome.MALFORMED, f"the CPO's answer is not a Booking: {answer.problem}"
        if outcome in (SendOutcome.UNREACHABLE, SendOutcome.MALFORMED) and retry.may_retry(item.attempt):
            row.state = next_state(row.state, OutboxEvent.RETRY)
            row.message, row.updated_at, row.due_at = detail[:500], now, now + retry.backoff(item.attempt)
            return
        locked = await _locked(session, row.booking_id)
        if locked is None:
            return
        cpo_side, booking = locked
        row.updated_at = now
        if outcome is SendOutcome.ANSWERED:
            # A change waits for the CPO's decision (_settle_change); the others are answered.
            row.state = next_state(row.state, OutboxEvent.TAKEN if row.kind == "change" else OutboxEvent.ANSWERED)
            mine = [e for e in data.get("booking_requests") or [] if isinstance(e, dict)]
            row.outcome = str(mine[-1].get("request_status"))[:16] if mine else None
            if row.kind == "create" and data.get("reservation_status") == "PENDING":
                party = await session.get(Party, row.party_pk)
                cpo_side.answer_due_at = now + timedelta(seconds=party.command_timeout_seconds if party else 60)
            await _apply_booking(session, cpo_side, booking, data, now, self.poll_every)
            return
        row.state, row.message = next_state(row.state, OutboxEvent.FAILED), detail[:500]
        if row.kind != "create":
            row.outcome = "FAILED"
            await _note(session, booking, f"{row.kind.upper()}_FAILED", now, row.message)
            return
        # The CPO refused the request outright (an OCPI error), never took it, or answered
        # nothing we could read (it may hold the booking: the end cancels it).
        events = {SendOutcome.REFUSED: [BookingEvent.SENT_TO_CPO, BookingEvent.CPO_REJECTED],
                  SendOutcome.MALFORMED: [BookingEvent.SENT_TO_CPO, BookingEvent.CPO_FAILED]
                  }.get(outcome, [BookingEvent.CPO_UNREACHABLE])
        for event in events:
            if can_apply(BookingStatus(booking.status), event):
                await transition_booking(session, booking, event, actor="cpo", now=now, message=row.message)

    async def answered_after_withdrawal(self, session: AsyncSession, row: OcpiBookingRequest,
                                        now: datetime) -> None:
        await session.execute(update(OcpiBookingRequest).where(
            OcpiBookingRequest.booking_id == row.booking_id, OcpiBookingRequest.kind == "cancel",
            OcpiBookingRequest.state == OutboxState.DUE, OcpiBookingRequest.due_at > now).values(due_at=now))


# --- following and timing out ------------------------------------------------------------


async def poll_party(db: Database, party_pk: str, wanted: list[tuple[str, str, datetime]],
                     poll_every: timedelta) -> int:
    """Ask one CPO again about its bookings ``wanted`` ((booking id, request id, last heard),
    claimed by ``worker/poll_bookings.py``): one ``GET {bookings_url}?date_from=``
    (§ Sender Interface, paginated); each Booking heard is applied in its own transaction."""
    async with db.read() as session:
        party = await session.get(Party, party_pk)
    if party is None or not party.bookings_url or party.status != "registered":
        return 0
    by_request = {request_id.casefold(): booking_id for booking_id, request_id, _ in wanted}
    since = min(stamp for _, _, stamp in wanted) - timedelta(seconds=1)
    heard = 0
    try:
        async with OcpiClient(token=party.token_for_them or "",
                              to_party=OcpiParty(party.country_code, party.party_id)) as client:
            async for items, _total in client.pages(party.bookings_url,
                                                    {"date_from": format_datetime(since), "limit": 100}):
                for item in items:
                    booking_id = by_request.get(str((item or {}).get("request_id", "")).casefold())
                    if booking_id is not None and await _apply_polled(db, booking_id, item, poll_every):
                        heard += 1
    except PeerError as exc:
        log.warning("booking poll failed", party=party.party_id, error=str(exc))
    return heard


async def _apply_polled(db: Database, booking_id: str, item: dict[str, Any], poll_every: timedelta) -> bool:
    try:
        check(OcpiBookingModel, item, "Booking")
    except InvalidRequest as exc:
        log.warning("polled booking unreadable", booking_id=booking_id, error=str(exc))
        return False
    async with db.write() as session:
        locked = await _locked(session, booking_id)
        if locked is None:
            return False
        await _apply_booking(session, *locked, item, utcnow(), poll_every)
    return True


async def expire_unanswered(db: Database, booking_id: str, now: datetime) -> bool:
    """A booking the CPO keeps PENDING past its answer timeout (``worker/expire_booking_answers.py``
    finds them): CANCELLED/CPO_TIMEOUT, and a cancellation is sent so that a late reservation
    does not hold the slot. False: the CPO answered meanwhile."""
    async with db.write() as session:
        locked = await _locked(session, booking_id)
        if locked is None:
            return False
        cpo_side, booking = locked
        if cpo_side.reservation_status != "PENDING" or cpo_side.answer_due_at is None or cpo_side.answer_due_at > now:
            return False
        cpo_side.answer_due_at = None
        if booking.status != BookingStatus.PENDING:
            return False
        # The cancellation request is written by transition_booking (a releasing end).
        await transition_booking(session, booking, BookingEvent.CPO_TIMEOUT, actor="worker", now=now,
                                 message="the CPO did not answer the booking request in time")
    return True


# --- changes --------------------------------------------------------------------------------


async def request_change(
    db: Database, client_id: str, booking_id: str, *, start: datetime | None = None, end: datetime | None = None,
    tokens: list[dict[str, Any]] | None = None,
) -> OcpiBookingRequest:
    """Ask the CPO to move a confirmed booking to another window (or change its tokens), with
    the same ``request_id``. The booking keeps its window until the CPO accepts; a decline
    leaves it as it was. Service level only: the client API keeps "cancel and book again"."""
    now = utcnow()
    async with db.write() as session:
        booking = await session.get(Booking, booking_id, with_for_update=True)
        if booking is None or booking.client_id != client_id:
            raise NotFound(f"Booking not found: {booking_id}")
        cpo_side = await session.get(OcpiBooking, booking_id, with_for_update=True)
        if cpo_side is None:
            raise InvalidRequest("only bookings made through the OCPI Bookings module can be changed")
        if booking.status != BookingStatus.CONFIRMED:
            raise InvalidRequest(f"a booking can be changed only when CONFIRMED, not {booking.status}")
        start, end = start or booking.reservation_start, end or booking.reservation_end
        if end <= start or start <= now:
            raise InvalidRequest("the new window must start in the future and end after it starts")
        location = await session.scalar(select(BookingLocation).where(
            BookingLocation.party_pk == cpo_side.party_pk, BookingLocation.id == cpo_side.booking_location_id))
        if location is None:
            raise InvalidRequest("the CPO no longer publishes this booking location")
        booking_requests.check_terms(location, start, end)
        if (start, end) != (booking.reservation_start, booking.reservation_end):
            if not await window_available(session, location, start, end) or await _overlaps(session, booking, start, end):
                raise InvalidRequest("the new window is not available at this EVSE")
        request = await booking_requests.record_change(session, booking, cpo_side, location, start=start, end=end,
                                                       tokens=tokens, now=now)
        await _note(session, booking, "CHANGE_REQUESTED", now, f"{format_datetime(start)} – {format_datetime(end)}")
    return request


async def _overlaps(session: AsyncSession, booking: Booking, start: datetime, end: datetime) -> bool:
    other = await session.scalar(select(Booking.id).where(
        Booking.evse_pk == booking.evse_pk, Booking.id != booking.id,
        Booking.status.in_([s.value for s in LIVE_STATES]),
        Booking.reservation_start < end, Booking.reservation_end > start).limit(1))
    return other is not None
