"""Webhook events and deliveries at the service level, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import func, select

from chargebook.db.engine import Database
from chargebook.db.models import Booking, WebhookAttempt, WebhookDelivery
from chargebook.domain import webhooks as rules
from chargebook.domain.errors import Conflict, SlotTaken
from chargebook.domain.lifecycle import BookingEvent
from chargebook.metrics import WEBHOOK_DELIVERIES
from chargebook.services import webhooks
from chargebook.services.booking_state import transition_booking
from chargebook.services.bookings import (
    BookingPolicy,
    BookingRequest,
    cancel_booking,
    create_booking,
    get_booking,
)
from chargebook.services.clients import ClientContext, authenticate, create_client
from chargebook.services.webhook_deliveries import DeliveryPolicy, claim_due, record_attempt
from chargebook.services.wire import booking_json
from tests.factories import Site, seed_site

#: The endpoints here are never reached (the discard port); the operator setting allows them.
loopback_endpoint = functools.partial(webhooks.create_endpoint, allow_private_networks=True)


async def _client(db: Database) -> ClientContext:
    _, key = await create_client(db, "hooks")
    return await authenticate(db, key)


async def _book(db: Database, client: ClientContext, site: Site, evse: int = 0, hours: int = 2) -> str:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours)
    view = await create_booking(db, client, BookingRequest(
        location_id=site.location_id, evse_uid=site.evse_uids[evse], reservation_start=start,
        reservation_end=start + timedelta(hours=1)), BookingPolicy())
    return view.booking.id


async def _deliveries(db: Database, booking_id: str) -> list[WebhookDelivery]:
    async with db.read() as session:
        return list(await session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.booking_id == booking_id).order_by(WebhookDelivery.pk)))


async def test_events_carry_the_booking_as_the_api_shows_it(db: Database) -> None:
    client = await _client(db)
    site = await seed_site(db)
    every = await loopback_endpoint(db, client.id, url="http://127.0.0.1:9/a", event_types=["*"])
    cancels = await loopback_endpoint(
        db, client.id, url="http://127.0.0.1:9/b", event_types=["booking.cancelled"])
    booking_id = await _book(db, client, site)
    created = booking_json(await get_booking(db, client.id, booking_id), with_history=True)
    await cancel_booking(db, client.id, booking_id, "plans changed")
    cancelled = booking_json(await get_booking(db, client.id, booking_id), with_history=True)

    rows = await _deliveries(db, booking_id)
    assert [(r.endpoint_id, r.event_type) for r in rows] == [
        (every.id, "booking.requested"), (every.id, "booking.cancelled"), (cancels.id, "booking.cancelled")]
    events = [orjson.loads(r.body) for r in rows]
    assert events[0]["data"] == {"booking": created}
    assert events[1]["data"] == {"booking": cancelled}
    assert cancelled["status"] == "CANCELLED" and len(cancelled["status_history"]) == 2
    # One event, one id, whichever endpoints it goes to; the body is the same bytes.
    assert events[1]["id"] == events[2]["id"] == rows[1].event_id != events[0]["id"]
    assert rows[1].body == rows[2].body
    assert events[1]["type"] == "booking.cancelled" and events[1]["created_at"].endswith("Z")
    assert {r.status for r in rows} == {"pending"}


async def test_no_endpoints_no_events_and_a_rolled_back_change_announces_nothing(db: Database) -> None:
    client = await _client(db)
    site = await seed_site(db)
    quiet = await _book(db, client, site, evse=0)
    assert await _deliveries(db, quiet) == []

    await loopback_endpoint(db, client.id, url="http://127.0.0.1:9/a", event_types=["*"])
    booking_id = await _book(db, client, site, evse=1)
    with pytest.raises(SlotTaken):  # a create that fails writes no event either
        await _book(db, client, site, evse=1)
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            booking = await session.get(Booking, booking_id, with_for_update=True)
            assert booking is not None
            await transition_booking(session, booking, BookingEvent.CLIENT_CANCELLED, actor="client",
                                     now=datetime.now(UTC))
            inside = await session.scalars(select(WebhookDelivery.event_type).where(
                WebhookDelivery.booking_id == booking_id).order_by(WebhookDelivery.pk))
            assert inside.all() == ["booking.requested", "booking.cancelled"]
            raise RuntimeError("the use case fails after the transition")
    assert [d.event_type for d in await _deliveries(db, booking_id)] == ["booking.requested"]
    assert (await get_booking(db, client.id, booking_id)).booking.status == "REQUESTED"


async def test_endpoints_are_limited_per_client(db: Database) -> None:
    client = await _client(db)
    for n in range(rules.MAX_ENDPOINTS_PER_CLIENT):
        await loopback_endpoint(db, client.id, url=f"http://127.0.0.1:9/{n}", event_types=["*"])
    with pytest.raises(Conflict):
        await loopback_endpoint(db, client.id, url="http://127.0.0.1:9/x", event_types=["*"])
    assert len(await webhooks.list_endpoints(db, client.id)) == rules.MAX_ENDPOINTS_PER_CLIENT


async def test_order_per_booking_backoff_and_giving_up(fresh_db: Database) -> None:
    db = fresh_db
    client = await _client(db)
    site = await seed_site(db)
    await loopback_endpoint(db, client.id, url="http://127.0.0.1:9/a", event_types=["*"])
    first = await _book(db, client, site, evse=0)
    await cancel_booking(db, client.id, first, None)  # requested, then cancelled
    other = await _book(db, client, site, evse=1)  # another booking: not held back by the first
    requested, cancelled = await _deliveries(db, first)
    policy = DeliveryPolicy(max_attempts=3, backoff_seconds=60)
    now = datetime.now(UTC) + timedelta(seconds=1)
    gave_up_before = WEBHOOK_DELIVERIES.labels(outcome="gave_up")._value.get()

    claimed = await claim_due(db, now, policy)
    assert sorted(c.pk for c in claimed) == sorted([requested.pk, (await _deliveries(db, other))[0].pk])
    assert await claim_due(db, now, policy) == []  # leased: nobody else takes them meanwhile
    sent = next(c for c in claimed if c.pk == requested.pk)
    (unrelated,) = [c for c in claimed if c.pk != requested.pk]
    assert await record_attempt(db, unrelated, policy, status_code=200, error=None, duration_ms=1) == "delivered"
    assert sent.attempt == 1 and sent.body == requested.body

    assert await record_attempt(db, sent, policy, status_code=500, error=None, duration_ms=3, jitter=1.2,
                                now=now) == "failed"
    async with db.read() as session:
        row = await session.get(WebhookDelivery, requested.pk)
        assert row is not None and row.status == "pending"
        assert row.next_attempt_at == now + timedelta(seconds=72)  # 60 s × 2^0 × 1.2
    # The booking's cancel event waits behind its undelivered requested event.
    assert await claim_due(db, now + timedelta(seconds=71), policy) == []
    for attempt in (2, 3):
        later = now + timedelta(hours=attempt)
        (again,) = await claim_due(db, later, policy)
        assert (again.pk, again.attempt) == (requested.pk, attempt)
        outcome = await record_attempt(db, again, policy, status_code=None, error="connection_refused",
                                       duration_ms=1, now=later)
    assert outcome == "gave_up"
    assert WEBHOOK_DELIVERIES.labels(outcome="gave_up")._value.get() == gave_up_before + 1
    # Given up: it no longer holds the next event back.
    (nxt,) = await claim_due(db, now + timedelta(hours=4), policy)
    assert nxt.pk == cancelled.pk
    assert await record_attempt(db, nxt, policy, status_code=204, error=None, duration_ms=2) == "delivered"

    views = await webhooks.list_deliveries(db, client.id, requested.endpoint_id)
    by_pk = {v.delivery.pk: v for v in views}
    assert by_pk[requested.pk].delivery.status == "failed"
    assert [(a.status_code, a.error) for a in by_pk[requested.pk].attempts] == [
        (500, None), (None, "connection_refused"), (None, "connection_refused")]
    assert by_pk[cancelled.pk].delivery.status == "delivered"
    assert [v.delivery.pk for v in views] == sorted(by_pk, reverse=True)  # newest first


async def test_concurrent_claims_never_take_one_delivery_twice(fresh_db: Database, fresh_database_url: str) -> None:
    client = await _client(fresh_db)
    endpoint = await loopback_endpoint(fresh_db, client.id, url="http://127.0.0.1:9/a", event_types=["*"])
    for _ in range(40):
        await webhooks.send_test(fresh_db, client.id, endpoint.id)
    workers = [Database(fresh_database_url, pool_size=2) for _ in range(4)]
    try:
        now = datetime.now(UTC) + timedelta(seconds=1)
        batches = await asyncio.gather(*(claim_due(w, now, DeliveryPolicy(), limit=15) for w in workers))
    finally:
        for w in workers:
            await w.dispose()
    claimed = [c.pk for batch in batches for c in batch]
    assert len(claimed) == len(set(claimed)) == 40
    async with fresh_db.read() as session:
        counts = await session.scalar(select(func.sum(WebhookDelivery.attempt_count)))
        assert counts == 40
        assert await session.scalar(select(func.count()).select_from(WebhookAttempt)) == 0


async def test_delete_drops_pending_deliveries_and_rotation_keeps_the_old_secret_a_while(fresh_db: Database) -> None:
    db = fresh_db
    client = await _client(db)
    endpoint = await loopback_endpoint(db, client.id, url="http://127.0.0.1:9/a", event_types=["*"])
    await webhooks.send_test(db, client.id, endpoint.id)
    rotated = await webhooks.rotate_secret(db, client.id, endpoint.id)
    assert rotated.secret != endpoint.secret and rotated.secret.startswith("whsec_")
    (out,) = await claim_due(db, datetime.now(UTC) + timedelta(seconds=1), DeliveryPolicy())
    assert out.secrets == (rotated.secret, endpoint.secret)
    await webhooks.delete_endpoint(db, client.id, endpoint.id)
    assert await record_attempt(db, out, DeliveryPolicy(), status_code=200, error=None, duration_ms=1) == "gone"
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
