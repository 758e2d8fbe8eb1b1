"""Send due webhook deliveries: claim, POST (signed), record each outcome.

The HTTP call happens outside any transaction (claim and lease commit first; the outcome is
written in a new one). Redirects are not followed and the response body is not read: only
the status counts, and a 2xx means delivered.
"""

from __future__ import annotations

import asyncio
import random
import time

import httpx

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

BATCH = 50
CONCURRENT_SENDS = 10
# A delivered event may release the booking's next one; a few rounds per pass send a
# booking's queued events without waiting a whole worker interval for each.
ROUNDS = 5
USER_AGENT = f"chargebook-webhooks/{__version__}"


async def deliver_due_webhooks(db: Database, policy: DeliveryPolicy) -> int:
    """Returns how many POSTs were made."""
    batch = await claim_due(db, utcnow(), policy, BATCH)
    if not batch:
        return 0  # the usual pass: no HTTP client (and no TLS context) is built for nothing
    sent = 0
    gate = asyncio.Semaphore(CONCURRENT_SENDS)
    async with httpx.AsyncClient(timeout=policy.timeout_seconds, follow_redirects=False) as http:

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


async def _post(db: Database, http: httpx.AsyncClient, out: Outgoing, policy: DeliveryPolicy) -> str:
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
        async with http.stream("POST", out.url, content=out.body, headers=headers) as response:
            status_code = response.status_code
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, it is this attempt's outcome
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    duration_ms = round((time.monotonic() - started) * 1000)
    return await record_attempt(db, out, policy, status_code=status_code, error=error, duration_ms=duration_ms,
                                jitter=random.uniform(0.8, 1.2))
