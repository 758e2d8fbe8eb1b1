"""Send due webhook deliveries: claim, POST (signed), record each outcome.

The HTTP call happens outside any transaction (claim and lease commit first; the outcome is
written in a new one). Redirects are not followed and the response body is not read: only
the status counts, and a 2xx means delivered. Connections go to public addresses only, checked
after DNS resolution (``public_network.py``), unless the operator allows private networks.

The runner keeps one :class:`WebhookSender`: a pass claims as many due deliveries as there
are free slots and starts them without waiting (``in_flight.py``), so a receiver that answers
slowly, or a byte at a time, holds one slot until the attempt's deadline and never the other
clients' deliveries, the other loops or the heartbeat. :func:`deliver_due_webhooks` is the
one-shot pass (tests): it waits for what it started.
"""

from __future__ import annotations

import asyncio
import random
import time

import httpx
import structlog

from chargebook import __version__
from chargebook.db.engine import Database
from chargebook.domain.webhooks import signature_header
from chargebook.services.clock import utcnow
from chargebook.services.webhook_deliveries import (
    DeliveryPolicy,
    Outgoing,
    claim_due,
    record_attempt,
)
from chargebook.worker.in_flight import InFlight
from chargebook.worker.public_network import failure_of, webhook_client

log = structlog.get_logger("chargebook.worker")

BATCH = 50
CONCURRENT_SENDS = 10
# A delivered event may release the booking's next one; a few rounds per one-shot pass send a
# booking's queued events without waiting a whole worker interval for each. (The runner's
# sender needs none: a finished delivery wakes its loop at once.)
ROUNDS = 5
USER_AGENT = f"chargebook-webhooks/{__version__}"


class WebhookSender:
    """The runner's webhook loop: one HTTP client for the life of the worker, built on first use."""

    def __init__(self, db: Database, policy: DeliveryPolicy, slots: int = CONCURRENT_SENDS) -> None:
        self.db, self.policy = db, policy
        self.in_flight = InFlight(slots)
        self._http: httpx.AsyncClient | None = None

    async def start_due(self) -> int:
        """One pass; returns how many deliveries it started."""
        if not self.in_flight.free:
            return 0
        batch = await claim_due(self.db, utcnow(), self.policy, self.in_flight.free)
        if not batch:
            return 0  # the usual pass: no HTTP client (and no TLS context) is built for nothing
        if self._http is None:
            self._http = webhook_client(
                self.policy.timeout_seconds, self.policy.allow_private_networks
            )
        for out in batch:
            self.in_flight.start(f"delivery {out.pk}", _post(self.db, self._http, out, self.policy))
        return len(batch)

    async def close(self, grace_seconds: float) -> None:
        await self.in_flight.stop(grace_seconds)
        if self._http is not None:
            await self._http.aclose()
            self._http = None


async def deliver_due_webhooks(db: Database, policy: DeliveryPolicy) -> int:
    """One pass that waits for its deliveries. Returns how many POSTs were made."""
    batch = await claim_due(db, utcnow(), policy, BATCH)
    if not batch:
        return 0
    sent = 0
    gate = asyncio.Semaphore(CONCURRENT_SENDS)
    async with webhook_client(policy.timeout_seconds, policy.allow_private_networks) as http:

        async def deliver(out: Outgoing) -> str:
            async with gate:
                return await _post(db, http, out, policy)

        for _ in range(ROUNDS):
            outcomes = await asyncio.gather(*(deliver(out) for out in batch))
            sent += len(batch)
            if "delivered" not in outcomes:
                break
            batch = await claim_due(db, utcnow(), policy, BATCH)
            if not batch:
                break
    return sent


async def _post(
    db: Database, http: httpx.AsyncClient, out: Outgoing, policy: DeliveryPolicy
) -> str:
    timestamp = int(utcnow().timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": out.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(out.secrets, out.event_id, timestamp, out.body),
    }
    status_code: int | None = None
    error: str | None = None
    started = time.monotonic()
    try:
        # httpx's timeout is per read; this bounds the whole attempt, inside the delivery's
        # lease, so a receiver that trickles its answer cannot hold the attempt past it.
        async with asyncio.timeout(policy.timeout_seconds):
            async with http.stream("POST", out.url, content=out.body, headers=headers) as response:
                status_code = response.status_code
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, it is this attempt's outcome
        error = failure_of(exc).value  # the tenant sees this word; the operator's log the rest
        log.info("webhook attempt failed", delivery=out.pk, failure=error,
                 detail=f"{type(exc).__name__}: {exc}")
    duration_ms = round((time.monotonic() - started) * 1000)
    return await record_attempt(
        db,
        out,
        policy,
        status_code=status_code,
        error=error,
        duration_ms=duration_ms,
        jitter=random.uniform(0.8, 1.2),
    )
