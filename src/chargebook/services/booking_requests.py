"""BookingRequests we send to CPOs (OCPI 2.3.0 Bookings 1.1, mod_bookings.asciidoc
§ BookingRequest class): recorded as rows in the transaction that decides them, sent later
by the worker (``services/ocpi_bookings.py``).

One ``request_id`` per booking, the same for every change and the cancellation (§ Booking
Object: "SHALL be the same for all edits"); it is our booking id, and so is the
``authorization_reference`` the CPO carries into the Session and CDR. A change is the
create body with a new period or tokens; a cancellation is the last body with ``canceled``
set (the spec implies this; it never spells the cancel call out).

This module writes rows only; it never changes a booking's status, so the booking service
can call it from inside its own units of work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook import correlation
from chargebook.db.models import Booking, BookingLocation, OcpiBooking, OcpiBookingRequest, Token
from chargebook.domain.errors import InvalidRequest
from chargebook.domain.outbox import OutboxEvent, OutboxState, cancel_due, next_state, release
from chargebook.domain.reservation_status import CPO_FINAL
from chargebook.ocpi.v221.types import format_datetime
from chargebook.ocpi.v230.bookings import BookingRequest as OcpiBookingRequestModel
from chargebook.ocpi.validation import check
from chargebook.services.ids import new_id
from chargebook.services.token_objects import pipelet_token
from chargebook.services.tokens import Issuer


def booking_token(token: Token | None, uid: str, issuer: Issuer, now: datetime) -> dict[str, Any]:
    """§ BookingToken class (the CdrToken shape) for the booking's token, per strategy;
    a pipelet UID travels as an RFID token of ours, as with RESERVE_NOW."""
    if token is not None:
        return {"country_code": issuer.country_code, "party_id": issuer.party_id, "uid": token.uid,
                "type": token.type, "contract_id": token.contract_id}
    pipelet = pipelet_token(uid, issuer.country_code, issuer.party_id, issuer.name, now)
    return {k: pipelet[k] for k in ("country_code", "party_id", "uid", "type", "contract_id")}


def check_terms(booking_location: BookingLocation, start: datetime, end: datetime) -> None:
    """The CPO's BookingTerms on booking length (minutes; added in Bookings 1.1)."""
    terms = booking_location.data.get("booking_terms") or {}
    minutes = (end - start).total_seconds() / 60
    low, high = terms.get("min_booking_duration"), terms.get("max_booking_duration")
    if low is not None and minutes < float(low):
        raise InvalidRequest(f"reservation window: this CPO books at least {low} minutes")
    if high is not None and minutes > float(high):
        raise InvalidRequest(f"reservation window: this CPO books at most {high} minutes")


def create_body(
    booking: Booking, booking_location: BookingLocation, token: Token | None, issuer: Issuer, now: datetime
) -> dict[str, Any]:
    option: dict[str, Any] = {"evse_uid": booking.evse_uid}
    if booking.connector_id:
        option["connector_id"] = booking.connector_id
    body = {
        "country_code": issuer.country_code,
        "party_id": issuer.party_id,
        "request_id": booking.id,
        "booking_option": option,
        "location_id": booking.location_id,
        "booking_location_id": booking_location.id,
        "tokens": [booking_token(token, booking.token_uid, issuer, now)],
        "period": {"start_date_time": format_datetime(booking.reservation_start),
                   "end_date_time": format_datetime(booking.reservation_end)},
        "authorization_reference": booking.id,
    }
    check(OcpiBookingRequestModel, body, "BookingRequest")  # we validate what we send
    return body


def _request(booking_id: str, party_pk: str, kind: str, body: dict[str, Any], now: datetime) -> OcpiBookingRequest:
    return OcpiBookingRequest(id=new_id("breq"), booking_id=booking_id, party_pk=party_pk, kind=kind,
                              state=OutboxState.DUE, body=body, attempts=0, due_at=now, created_at=now,
                              updated_at=now, correlation_id=correlation.current())


def record_create(
    session: AsyncSession, booking: Booking, party_pk: str, booking_location: BookingLocation,
    token: Token | None, issuer: Issuer, now: datetime,
) -> None:
    """In the transaction that creates the booking: the CPO's side, and the request to send
    at once (a booking is for a future slot, so nothing waits for the window)."""
    session.add(OcpiBooking(booking_id=booking.id, party_pk=party_pk, booking_location_id=booking_location.id,
                            request_id=booking.id, created_at=now, updated_at=now))
    session.add(_request(booking.id, party_pk, "create", create_body(booking, booking_location, token, issuer, now), now))


async def latest_body(session: AsyncSession, booking_id: str) -> dict[str, Any] | None:
    """The body of the newest create or change request (what the CPO last heard from us)."""
    row = await session.scalar(
        select(OcpiBookingRequest).where(OcpiBookingRequest.booking_id == booking_id,
                                         OcpiBookingRequest.kind.in_(["create", "change"]))
        .order_by(OcpiBookingRequest.created_at.desc(), OcpiBookingRequest.id.desc()).limit(1))
    return dict(row.body) if row is not None else None


async def record_cancel(session: AsyncSession, booking: Booking, now: datetime, reason: str = "NO_CANCELED") -> bool:
    """The booking ended while its CPO may hold it (``domain/outbox.py: RELEASING_EVENTS``;
    called by ``booking_state.transition_booking`` in that transaction): a create not
    answered yet is withdrawn, and a cancellation request (§ Cancellation: ``who_canceled``
    EMSP) goes out wherever the CPO may have the booking, never before the CPO is done with
    the create (``domain/outbox.py: CancelWhen``).
    False: not a Bookings-module booking."""
    cpo_side = await session.get(OcpiBooking, booking.id, with_for_update=True)
    if cpo_side is None:
        return False
    if cpo_side.reservation_status in CPO_FINAL:
        return True  # the CPO ended it itself: it holds nothing
    create = await session.scalar(select(OcpiBookingRequest).where(
        OcpiBookingRequest.booking_id == booking.id, OcpiBookingRequest.kind == "create").with_for_update())
    decision = release(create.state, create.attempts, accepted=True) if create is not None else None
    if create is not None and decision is not None and decision.withdraw:
        create.state, create.updated_at = next_state(create.state, OutboxEvent.WITHDRAWN), now
    if create is None or decision is None or decision.cancel is None:
        cpo_side.poll_at = None  # never reached the CPO: nothing to follow
        return True
    if await session.scalar(select(OcpiBookingRequest.id).where(
            OcpiBookingRequest.booking_id == booking.id, OcpiBookingRequest.kind == "cancel").limit(1)):
        return True
    body = await latest_body(session, booking.id) or {}
    body = {**body, "canceled": {"cancellation_reason": reason, "who_canceled": "EMSP"}}
    cancel = _request(booking.id, cpo_side.party_pk, "cancel", body, now)
    cancel.due_at = cancel_due(decision.cancel, now, create.due_at)
    session.add(cancel)
    return True


async def record_change(
    session: AsyncSession, booking: Booking, cpo_side: OcpiBooking, booking_location: BookingLocation, *,
    start: datetime, end: datetime, tokens: list[dict[str, Any]] | None, now: datetime,
) -> OcpiBookingRequest:
    """A change of period or tokens, within the CPO's terms (§ BookingTerms: changes until
    ``change_until_minutes`` before the start, and only where changes are allowed)."""
    terms = (cpo_side.data or {}).get("booking_terms") or booking_location.data.get("booking_terms") or {}
    if terms.get("change_not_allowed") is True:
        raise InvalidRequest("this CPO does not allow changes to a booking")
    until = terms.get("change_until_minutes")
    if until is not None and now > booking.reservation_start - timedelta(minutes=float(until)):
        raise InvalidRequest(f"changes are allowed until {until} minutes before the start")
    body = await latest_body(session, booking.id) or {}
    body = {**body, "period": {"start_date_time": format_datetime(start), "end_date_time": format_datetime(end)}}
    if tokens is not None:
        body["tokens"] = tokens
    body.pop("canceled", None)
    check(OcpiBookingRequestModel, body, "BookingRequest")
    request = _request(booking.id, cpo_side.party_pk, "change", body, now)
    session.add(request)
    return request
