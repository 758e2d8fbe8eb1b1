"""Webhook deliveries for the worker: claim the due ones, record each attempt's outcome.

* **Claiming** (``claim_due``) uses ``db/queries.py: claim`` (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL) and leases each row: ``next_attempt_at`` moves past the send timeout, so no
  other worker sends it meanwhile; if this worker dies mid-send, the lease runs out and the
  delivery is sent again (at least once).
* **Order per booking per endpoint**: a delivery is due only when no earlier delivery of the
  same booking to the same endpoint is still ``pending`` (in flight or waiting to retry).
  One that was given up (``failed``) no longer holds the next one back.
* **Outcome** (``record_attempt``): 2xx → ``delivered``; otherwise retry after
  ``domain.webhooks.backoff`` until ``max_attempts`` POSTs were made → ``failed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from chargebook.db.engine import Database
from chargebook.db.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from chargebook.db.queries import claim
from chargebook.domain import webhooks as rules
from chargebook.metrics import WEBHOOK_DELIVERIES
from chargebook.services.clock import utcnow


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_attempts: int = 15
    backoff_seconds: float = 10.0
    timeout_seconds: float = 10.0
    #: Deliver to loopback and private addresses too (``CHARGEBOOK_WEBHOOK_ALLOW_PRIVATE_NETWORKS``).
    allow_private_networks: bool = False

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout_seconds + 5)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed delivery: what to POST where, signed with which secrets."""

    pk: int
    event_id: str
    url: str
    body: bytes
    secrets: tuple[str, ...]
    attempt: int  # this POST's number, 1-based


_earlier = aliased(WebhookDelivery)
_HELD_BACK = exists().where(
    _earlier.endpoint_id == WebhookDelivery.endpoint_id,
    _earlier.booking_id == WebhookDelivery.booking_id,
    _earlier.status == "pending",
    _earlier.pk < WebhookDelivery.pk,
)


async def claim_due(db: Database, now: datetime, policy: DeliveryPolicy, limit: int = 50) -> list[Outgoing]:
    async with db.write() as session:
        due = await claim(session, select(WebhookDelivery).where(
            WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, ~_HELD_BACK,
        ).order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.pk), limit)
        out = []
        for delivery in due:
            endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
            if endpoint is None:
                continue
            delivery.attempt_count += 1
            delivery.next_attempt_at = now + policy.lease
            secrets = [endpoint.secret]
            if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
                secrets.append(endpoint.previous_secret)
            out.append(Outgoing(delivery.pk, delivery.event_id, endpoint.url, delivery.body, tuple(secrets),
                                delivery.attempt_count))
    return out


async def record_attempt(
    db: Database, sent: Outgoing, policy: DeliveryPolicy, *, status_code: int | None, error: str | None,
    duration_ms: int, jitter: float = 1.0, now: datetime | None = None,
) -> str:
    """Returns the outcome: ``delivered``, ``failed`` (will retry), ``gave_up``, or ``gone``
    (the endpoint was deleted meanwhile, or another worker took the delivery over)."""
    now = now or utcnow()
    ok = status_code is not None and 200 <= status_code < 300
    async with db.write() as session:
        delivery = await session.get(WebhookDelivery, sent.pk, with_for_update=True)
        if delivery is None:
            return "gone"
        session.add(WebhookAttempt(delivery_pk=sent.pk, attempted_at=now, status_code=status_code,
                                   error=error[:500] if error else None, duration_ms=duration_ms))
        if delivery.status != "pending" or delivery.attempt_count != sent.attempt:
            return "gone"  # our lease ran out and another worker claimed it again
        if ok:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
            outcome = "delivered"
        elif sent.attempt >= policy.max_attempts:
            delivery.status, delivery.next_attempt_at = "failed", None
            outcome = "gave_up"
        else:
            delivery.next_attempt_at = now + rules.backoff(sent.attempt, policy.backoff_seconds, jitter)
            outcome = "failed"
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
    return outcome


# --- figures for /metrics --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryFigures:
    pending: int
    oldest_pending_seconds: float  # 0 when none is pending
    given_up: int


# Both counts read only their own status's rows through ix_webhook_deliveries_due; delivered
# rows, the bulk of the table, are never touched.
_PENDING = select(func.count(), func.min(WebhookDelivery.created_at)).where(WebhookDelivery.status == "pending")
_GIVEN_UP = select(func.count()).where(WebhookDelivery.status == "failed")


async def delivery_figures(db: Database, now: datetime) -> DeliveryFigures:
    """What ``/metrics`` shows of webhook deliveries, from the database (every worker's work)."""
    async with db.read() as session:
        pending, oldest = (await session.execute(_PENDING)).one()
        given_up = int(await session.scalar(_GIVEN_UP) or 0)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return DeliveryFigures(int(pending or 0), age, given_up)
