"""The worker process: runs each loop every ``worker_interval_seconds`` until stopped.

Every loop is level-triggered (it derives its work from rows), so any number of workers may
run against one PostgreSQL and a killed worker loses nothing.

Each pass starts with a heartbeat (``services/operations.py``): readiness and the heartbeat
gauges read it. Lag is how late a pass started after it was due (the previous pass's end plus
the interval); a busy or starved process shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import structlog

from chargebook import metrics
from chargebook.db.engine import Database
from chargebook.domain.outbox import RetryPolicy
from chargebook.services import commands, ocpi_bookings, outbox
from chargebook.services.clock import utcnow
from chargebook.services.operations import WorkerIdentity, forget_worker, record_heartbeat
from chargebook.services.tokens import Issuer
from chargebook.services.webhook_deliveries import DeliveryPolicy
from chargebook.settings import Settings
from chargebook.worker.expire_bookings import expire_due_bookings
from chargebook.worker.deliver_webhooks import deliver_due_webhooks
from chargebook.worker.sync_parties import sync_stale_parties

log = structlog.get_logger("chargebook.worker")


async def run_once(db: Database, settings: Settings, worker_id: str | None = None) -> int:
    """One pass of every loop; returns how many things moved."""
    now = utcnow()
    issuer = Issuer(settings.ocpi_country_code, settings.ocpi_party_id, settings.token_issuer)
    moved = await commands.enqueue_due_reservations(db, now, settings.base_url(), issuer)
    retry = RetryPolicy(settings.command_retry_attempts, settings.command_retry_base_seconds,
                                 settings.command_send_timeout_seconds)
    moved += await outbox.send_due(db, commands.COMMANDS, now, retry, issuer, 10, worker_id)
    moved += await commands.expire_unanswered(db, utcnow())
    poll_every = timedelta(seconds=settings.booking_poll_seconds)
    moved += await outbox.send_due(db, ocpi_bookings.BookingRequestMailbox(poll_every), utcnow(), retry, issuer, 10,
                                   worker_id)
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
    me = WorkerIdentity.of_this_process(utcnow())
    log.info("worker started", worker_id=me.id, hostname=me.hostname, pid=me.pid)
    due = time.monotonic()
    last_pass: float | None = None
    while not stop.is_set():
        started = time.monotonic()
        lag = max(0.0, started - due)
        metrics.WORKER_LOOP_LAG.set(lag)
        try:
            await record_heartbeat(db, me, utcnow(), last_pass, lag)
            moved = await run_once(db, settings, me.id)
            if moved:
                log.info("worker pass", moved=moved)
        except Exception:  # a bad pass must not kill the loop; the next pass retries
            log.exception("worker pass failed")
        last_pass = time.monotonic() - started
        metrics.WORKER_PASS_SECONDS.observe(last_pass)
        due = time.monotonic() + settings.worker_interval_seconds
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.worker_interval_seconds)
        except TimeoutError:
            pass
    with contextlib.suppress(Exception):  # stopping cleanly: readiness sees us gone at once
        await forget_worker(db, me.id)
    log.info("worker stopped", worker_id=me.id)
