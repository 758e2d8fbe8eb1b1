"""The worker process: runs each loop every ``worker_interval_seconds`` until stopped."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from chargebook.db.engine import Database
from chargebook.services.clock import utcnow
from chargebook.settings import Settings
from chargebook.worker.expire_bookings import expire_due_bookings

log = structlog.get_logger("chargebook.worker")


async def run_once(db: Database, settings: Settings) -> int:
    grace = timedelta(minutes=settings.no_show_grace_minutes)
    return await expire_due_bookings(db, utcnow(), grace)


async def run_forever(db: Database, settings: Settings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            moved = await run_once(db, settings)
            if moved:
                log.info("bookings moved", count=moved)
        except Exception:  # a bad pass must not kill the loop; the next pass retries
            log.exception("worker pass failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.worker_interval_seconds)
        except TimeoutError:
            pass
