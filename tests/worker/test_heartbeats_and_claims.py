"""Worker heartbeats (written every pass, removed on a clean stop, pruned when long dead) and
claims that hold when several workers race for the same due bookings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from chargebook.db.engine import Database
from chargebook.db.models import Booking, BookingTransition, Command, Party, WorkerHeartbeat
from chargebook.services.bookings import BookingPolicy, BookingRequest, create_booking
from chargebook.services.clients import authenticate, create_client
from chargebook.services.operations import (
    PRUNE_AFTER,
    WorkerIdentity,
    forget_worker,
    record_heartbeat,
)
from chargebook.services.tokens import Issuer
from chargebook.settings import Settings
from chargebook.worker.enqueue_reservations import enqueue_due_reservations
from chargebook.worker.runner import run_forever
from tests.factories import evse, seed_site


async def _beats(db: Database) -> list[WorkerHeartbeat]:
    async with db.read() as session:
        return list(await session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.started_at)))


async def test_heartbeat_rows_are_written_updated_pruned_and_forgotten(fresh_db: Database) -> None:
    now = datetime.now(UTC)
    dead = WorkerIdentity("wrk_dead", "old-host", 11, now - PRUNE_AFTER - timedelta(minutes=5))
    await record_heartbeat(fresh_db, dead, dead.started_at, None, 0.0)
    me = WorkerIdentity.of_this_process(now)
    await record_heartbeat(fresh_db, me, now, None, 0.0)
    await record_heartbeat(fresh_db, me, now + timedelta(seconds=1), 0.25, 0.01)
    beats = await _beats(fresh_db)
    # The dead worker's row (older than PRUNE_AFTER) went with the first beat after it.
    assert [(b.id, b.pid, b.last_pass_seconds, b.lag_seconds) for b in beats] == [(me.id, me.pid, 0.25, 0.01)]
    assert beats[0].beat_at == now + timedelta(seconds=1) and beats[0].started_at == now
    await forget_worker(fresh_db, me.id)
    assert await _beats(fresh_db) == []


async def test_run_forever_beats_every_pass_and_says_goodbye(fresh_db: Database, fresh_database_url: str) -> None:
    settings = Settings(database_url=fresh_database_url, worker_interval_seconds=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(run_forever(fresh_db, settings, stop))
    seen: list[datetime] = []
    for _ in range(200):
        beats = await _beats(fresh_db)
        if beats and (not seen or beats[0].beat_at != seen[-1]):
            seen.append(beats[0].beat_at)
        if len(seen) >= 3:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await running
    assert len(seen) >= 3 and seen == sorted(seen)  # a fresh beat every pass
    assert await _beats(fresh_db) == []  # a clean stop removes the row


async def test_racing_workers_send_each_reservation_once(fresh_db: Database, fresh_database_url: str) -> None:
    """Two workers' passes find the same REQUESTED bookings at once: each becomes exactly one
    RESERVE_NOW and one PENDING step (the loser of a row re-reads it under its lock)."""
    site = await seed_site(fresh_db, evses=[evse(f"DE*RACE*{n}") for n in range(8)])
    async with fresh_db.write() as session:
        await session.execute(update(Party).where(Party.party_id == site.party_id).values(status="registered"))
    _, key = await create_client(fresh_db, "racer")
    client = await authenticate(fresh_db, key)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
    for uid in site.evse_uids:
        await create_booking(fresh_db, client, BookingRequest(
            location_id=site.location_id, evse_uid=uid, reservation_start=start,
            reservation_end=start + timedelta(hours=1)), BookingPolicy())
    others = [Database(fresh_database_url, pool_size=2) for _ in range(3)]
    try:
        moved = await asyncio.gather(*(
            enqueue_due_reservations(db, datetime.now(UTC), "http://127.0.0.1:1", Issuer())
            for db in [fresh_db, *others]))
    finally:
        for db in others:
            await db.dispose()
    async with fresh_db.read() as session:
        sent = await session.scalar(select(func.count()).select_from(Command).where(Command.type == "RESERVE_NOW"))
        pending = await session.scalar(select(func.count()).select_from(BookingTransition)
                                       .where(BookingTransition.to_status == "PENDING"))
        statuses = set(await session.scalars(select(Booking.status)))
    assert sum(moved) == sent == pending == len(site.evse_uids)
    assert statuses == {"PENDING"}
