"""Step 7 of a create: the booking and the first entry of its history, then what goes out
after commit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook import correlation
from chargebook.db.models import (
    Booking,
    BookingLocation,
    BookingTransition,
    Token,
)
from chargebook.db.queries import insert_pair
from chargebook.domain import lifecycle
from chargebook.services import webhook_events
from chargebook.services.booking_create.request import BookingPolicy, BookingRequest, LockedEvse
from chargebook.services.booking_requests import record_create
from chargebook.services.clients import ClientContext
from chargebook.services.estimates import Estimate
from chargebook.services.wire import BookingView

# --- 7. write ----------------------------------------------------------------------------------


def cpo_request_at(evse: LockedEvse, request: BookingRequest, now: datetime, *, by_calendar: bool) -> datetime | None:
    """When the request to the CPO goes out: a Bookings-module request at once; a RESERVE_NOW
    the CPO's reserve lead time before the window (at once if that has passed). None for a
    CPO not connected over OCPI: nothing is sent."""
    if evse.party_status != "registered":
        return None
    if by_calendar:
        return now
    return max(now, request.reservation_start - timedelta(minutes=evse.reserve_lead_minutes))


_BOOKINGS, _TRANSITIONS = cast(Table, Booking.__table__), cast(Table, BookingTransition.__table__)


async def insert_booking(
    session: AsyncSession, client: ClientContext, request: BookingRequest, fingerprint: str,
    evse: LockedEvse, new_id: str, token: Token | None, token_uid: str, estimate: Estimate,
    request_at: datetime | None, now: datetime,
) -> BookingView:
    """The booking in REQUESTED and the first entry of its history, the lifecycle's creation
    step. Core inserts: the ORM's unit-of-work flush is the largest single cost on this path."""
    created = lifecycle.create(now)
    values = dict(
        id=new_id, client_id=client.id, external_id=request.external_id, request_hash=fingerprint,
        evse_pk=evse.pk, location_id=evse.location_id, location_city=evse.city, evse_uid=evse.uid,
        connector_id=request.connector_id, reservation_start=request.reservation_start,
        reservation_end=request.reservation_end, token_strategy=request.token_strategy.value,
        token_pk=token.id if token else None, token_uid=token_uid,
        customer_id=request.customer_id or (token.customer_id if token else None),
        fleet_group_id=request.fleet_group_id, status=created.to_status.value, status_reason=None,
        status_message=None, status_updated_at=now, cpo_reservation_id=None,
        client_price=estimate.client_price, client_price_currency=estimate.quote.currency,
        price_breakdown=estimate.breakdown(), created_at=now, cpo_request_at=request_at,
        request_id=correlation.current(),  # sent on as the OCPI X-Correlation-ID of its commands
    )
    step = dict(booking_id=new_id, from_status=None, to_status=created.to_status.value,
                event=created.event.value, reason=None, actor="client", message=None, at=now)
    await insert_pair(session, _BOOKINGS, values, _TRANSITIONS, step)  # one round trip on PostgreSQL
    return BookingView(booking=Booking(**values), token=token, history=[BookingTransition(**step)])


async def enqueue(
    session: AsyncSession, view: BookingView, evse: LockedEvse, booking_location: BookingLocation | None,
    policy: BookingPolicy, now: datetime,
) -> None:
    """What goes out after commit: an OCPI 2.3.0 BookingRequest at once (a RESERVE_NOW is
    found by the worker when its time comes), and the ``booking.requested`` webhook event."""
    if booking_location is not None:
        record_create(session, view.booking, evse.party_pk, booking_location, view.token, policy.issuer, now)
    if evse.has_webhooks:
        await webhook_events.booking_created(session, view, now)
