"""Webhook events, written in the transaction that changes the booking.

Nothing is lost (the event commits with the change) and nothing is announced that did not
happen (a rolled-back change takes its event with it). Each subscribed endpoint gets one
delivery row holding the exact bytes to send, so every retry sends the same body.

The two choke points call in here: ``bookings._create`` (``booking.requested``) and
``booking_state.transition_booking`` (every other status). On the create hot path, whether the
client has endpoints at all rides along in the query that locks the EVSE (an index probe on
``webhook_endpoints.client_id``, no extra round trip); a transition asks with one indexed
query. Both read the database, so every API process and worker agrees at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.models import Booking, BookingTransition, Token, WebhookDelivery, WebhookEndpoint
from chargebook.domain import webhooks as rules
from chargebook.domain.lifecycle import BookingStatus
from chargebook.services.ids import new_id
from chargebook.services.wire import BookingView, booking_json, iso_z

#: Selected by ``bookings._create`` beside the EVSE it locks, so a client without endpoints
#: costs the create no extra round trip (measured with bench/webhooks.py).
CLIENT_HAS_ENDPOINTS = (
    exists().where(WebhookEndpoint.client_id == bindparam("client_id")).label("has_webhooks")
)
# In the order they were registered: one event's deliveries are queued in that order.
_ENDPOINTS_OF_CLIENT = (
    select(WebhookEndpoint.id, WebhookEndpoint.event_types)
    .where(WebhookEndpoint.client_id == bindparam("client_id"))
    .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
)
_INSERT_DELIVERY = insert(WebhookDelivery)


async def _subscribed(session: AsyncSession, client_id: str, event_type: str) -> list[str]:
    rows = (await session.execute(_ENDPOINTS_OF_CLIENT, {"client_id": client_id})).all()
    return [endpoint_id for endpoint_id, types in rows if rules.subscribes(types, event_type)]


def event_body(event_id: str, event_type: str, now: datetime, data: dict[str, Any]) -> bytes:
    return orjson.dumps({"id": event_id, "type": event_type, "created_at": iso_z(now), "data": data})


async def _add(
    session: AsyncSession, endpoint_ids: list[str], event_type: str, booking_id: str | None,
    data: dict[str, Any], now: datetime,
) -> str:
    event_id = new_id("evt")
    body = event_body(event_id, event_type, now, data)
    await session.execute(_INSERT_DELIVERY, [
        {"id": new_id("whd"), "endpoint_id": endpoint_id, "event_id": event_id, "event_type": event_type,
         "booking_id": booking_id, "body": body, "status": "pending", "attempt_count": 0,
         "next_attempt_at": now, "created_at": now, "delivered_at": None}
        for endpoint_id in endpoint_ids
    ])
    return event_id


async def booking_created(session: AsyncSession, view: BookingView, now: datetime) -> None:
    """``booking.requested``, rendered from the view the create call answers with."""
    event_type = rules.event_type(BookingStatus(view.booking.status))
    endpoint_ids = await _subscribed(session, view.booking.client_id, event_type)
    if endpoint_ids:
        data = {"booking": booking_json(view, with_history=True)}
        await _add(session, endpoint_ids, event_type, view.booking.id, data, now)


async def booking_transitioned(session: AsyncSession, booking: Booking, now: datetime) -> None:
    """The booking's new status, rendered as ``GET /bookings/{id}`` will show it after commit."""
    event_type = rules.event_type(BookingStatus(booking.status))
    endpoint_ids = await _subscribed(session, booking.client_id, event_type)
    if not endpoint_ids:
        return
    await session.flush()  # the new transition row must be in the history we read back
    token = await session.get(Token, booking.token_pk) if booking.token_pk else None
    history = await session.scalars(
        select(BookingTransition).where(BookingTransition.booking_id == booking.id).order_by(BookingTransition.pk)
    )
    view = BookingView(booking=booking, token=token, history=list(history))
    await _add(session, endpoint_ids, event_type, booking.id, {"booking": booking_json(view, with_history=True)}, now)


async def add_ping(session: AsyncSession, endpoint_id: str, now: datetime) -> WebhookDelivery:
    """A test event for one endpoint; it has no booking, so no ordering holds it back."""
    event_id = new_id("evt")
    delivery = WebhookDelivery(
        id=new_id("whd"), endpoint_id=endpoint_id, event_id=event_id, event_type=rules.PING, booking_id=None,
        body=event_body(event_id, rules.PING, now, {"webhook_id": endpoint_id}), status="pending",
        attempt_count=0, next_attempt_at=now, created_at=now, delivered_at=None,
    )
    session.add(delivery)
    await session.flush()
    return delivery
