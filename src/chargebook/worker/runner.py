"""The worker process: runs each loop every ``worker_interval_seconds`` until stopped.

Every loop is level-triggered (it derives its work from rows), so any number of workers may
run against one PostgreSQL and a killed worker loses nothing.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from chargebook.db.engine import Database
from chargebook.services import commands, ocpi_bookings
from chargebook.services.clock import utcnow
from chargebook.services.tokens import Issuer
from chargebook.services.webhook_deliveries import DeliveryPolicy
from chargebook.settings import Settings
from chargebook.worker.expire_bookings import expire_due_bookings
from chargebook.worker.deliver_webhooks import deliver_due_webhooks
from chargebook.worker.sync_parties import sync_stale_parties

log = structlog.get_logger("chargebook.worker")


async def run_once(db: Database, settings: Settings) -> int:
    """One pass of every loop; returns how many things moved."""
    now = utcnow()
    issuer = Issuer(settings.ocpi_country_code, settings.ocpi_party_id, settings.token_issuer)
    moved = await commands.enqueue_due_reservations(db, now, settings.base_url(), issuer)
    retry = commands.RetryPolicy(settings.command_retry_attempts, settings.command_retry_base_seconds)
    moved += await commands.send_due_commands(db, now, retry, issuer)
    moved += await commands.expire_unanswered(db, utcnow())
    poll_every = timedelta(seconds=settings.booking_poll_seconds)
    moved += await ocpi_bookings.send_due_requests(db, utcnow(), retry, issuer, poll_every)
    moved += await ocpi_bookings.poll_bookings(db, utcnow(), poll_every)
    moved += await ocpi_bookings.expire_unanswered(db, utcnow())
    moved += await expire_due_bookings(db, utcnow(), timedelta(minutes=settings.no_show_grace_minutes))
    moved += await sync_stale_parties(db, utcnow(), timedelta(minutes=settings.sync_interval_minutes))
    moved += await deliver_due_webhooks(
        db, DeliveryPolicy(settings.webhook_max_attempts, settings.webhook_backoff_seconds)
    )
    return moved


async def run_forever(db: Database, settings: Settings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            moved = await run_once(db, settings)
            if moved:
                log.info("worker pass", moved=moved)
        except Exception:  # a bad pass must not kill the loop; the next pass retries
            log.exception("worker pass failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.worker_interval_seconds)
        except TimeoutError:
            pass
