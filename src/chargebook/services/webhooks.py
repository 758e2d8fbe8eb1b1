"""Webhook endpoints of a client: register, list, read, delete, rotate the secret, send a test,
and list an endpoint's deliveries with every attempt.

Events themselves are written by ``webhook_events.py`` inside the transaction that changes a
booking, and sent by the worker (``webhook_deliveries.py``, ``worker/deliver_webhooks.py``).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import Client, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from chargebook.domain import webhooks as rules
from chargebook.domain.errors import Conflict, NotFound
from chargebook.services.clock import utcnow
from chargebook.services.ids import new_id
from chargebook.services.webhook_events import add_ping
from chargebook.services.webhook_targets import check_target

#: After a rotation the old secret keeps signing (beside the new one) this long, so that
#: receivers can switch without rejecting deliveries in between.
ROTATION_OVERLAP = timedelta(hours=24)


def new_secret() -> str:
    return rules.SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


async def create_endpoint(
    db: Database, client_id: str, *, url: str, event_types: list[str], description: str | None = None,
    allow_private_networks: bool = False,
) -> WebhookEndpoint:
    """The response carries the secret; it is never shown again (rotate to get a new one).
    The URL must reach the public internet unless private networks are allowed
    (``webhook_targets.py``; each delivery checks it again)."""
    url = rules.check_url(url)
    await check_target(url, allow_private_networks)
    types = rules.check_event_types(event_types)
    async with db.write() as session:
        # Lock the client so that two concurrent creates cannot both pass the count.
        await session.execute(select(Client.id).where(Client.id == client_id).with_for_update())
        count = await session.scalar(
            select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.client_id == client_id)
        )
        if (count or 0) >= rules.MAX_ENDPOINTS_PER_CLIENT:
            raise Conflict(
                f"webhooks: at most {rules.MAX_ENDPOINTS_PER_CLIENT} endpoints per client; delete one first"
            )
        endpoint = WebhookEndpoint(
            id=new_id("whk"), client_id=client_id, url=url, description=description, event_types=types,
            secret=new_secret(), previous_secret=None, previous_secret_until=None, created_at=utcnow(),
        )
        session.add(endpoint)
    return endpoint


async def list_endpoints(db: Database, client_id: str) -> list[WebhookEndpoint]:
    async with db.read() as session:
        return list(await session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.client_id == client_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        ))


async def _own(session: AsyncSession, client_id: str, endpoint_id: str, *, lock: bool = False) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=lock)
    if endpoint is None or endpoint.client_id != client_id:
        raise NotFound(f"Webhook not found: {endpoint_id}")
    return endpoint


async def get_endpoint(db: Database, client_id: str, endpoint_id: str) -> WebhookEndpoint:
    async with db.read() as session:
        return await _own(session, client_id, endpoint_id)


async def delete_endpoint(db: Database, client_id: str, endpoint_id: str) -> None:
    """Its deliveries go with it, so nothing more is sent (a POST already in flight may land)."""
    async with db.write() as session:
        await _own(session, client_id, endpoint_id, lock=True)
        await session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))


async def rotate_secret(db: Database, client_id: str, endpoint_id: str) -> WebhookEndpoint:
    now = utcnow()
    async with db.write() as session:
        endpoint = await _own(session, client_id, endpoint_id, lock=True)
        endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, now + ROTATION_OVERLAP
        endpoint.secret = new_secret()
    return endpoint


async def send_test(db: Database, client_id: str, endpoint_id: str) -> WebhookDelivery:
    """A ``ping`` event for this endpoint only, whatever it subscribed to."""
    now = utcnow()
    async with db.write() as session:
        endpoint = await _own(session, client_id, endpoint_id, lock=True)
        return await add_ping(session, endpoint.id, now)


@dataclass(slots=True)
class DeliveryView:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt] = field(default_factory=list)


async def list_deliveries(
    db: Database, client_id: str, endpoint_id: str, *, limit: int = 50, before_pk: int | None = None
) -> list[DeliveryView]:
    """Newest first; keyset-paged on the delivery's sequence number."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if before_pk is not None:
        query = query.where(WebhookDelivery.pk < before_pk)
    query = query.order_by(WebhookDelivery.pk.desc()).limit(limit)
    async with db.read() as session:
        await _own(session, client_id, endpoint_id)
        deliveries = list(await session.scalars(query))
        attempts: dict[int, list[WebhookAttempt]] = {d.pk: [] for d in deliveries}
        if deliveries:
            for attempt in await session.scalars(
                select(WebhookAttempt).where(WebhookAttempt.delivery_pk.in_(attempts)).order_by(WebhookAttempt.pk)
            ):
                attempts[attempt.delivery_pk].append(attempt)
    return [DeliveryView(d, attempts[d.pk]) for d in deliveries]
