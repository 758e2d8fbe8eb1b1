"""A peer that never finishes answering holds up nothing else.

One CPO and one client's webhook receiver trickle their answers a byte at a time (no per-read
timeout ever fires). While both calls are stuck, the same worker sends another booking's
RESERVE_NOW to a well-behaved CPO (the simulator) and confirms it, expires a booking whose
window started, delivers the other client's webhooks, and keeps its heartbeat fresh.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from chargebook.cpo_sim import CommandRules, DriverRules, SimConfig, SimulatorServer
from chargebook.db.engine import Database
from chargebook.db.models import Booking, Evse, Location, Party, WorkerHeartbeat
from chargebook.services import ocpi_catalogue, ocpi_parties
from chargebook.services.bookings import BookingPolicy, BookingRequest, create_booking
from chargebook.services.clients import authenticate, create_client
from chargebook.services.webhook_deliveries import DeliveryPolicy
from chargebook.services.webhooks import create_endpoint
from chargebook.settings import Settings
from chargebook.worker import runner
from tests.conftest import LiveServer
from tests.factories import seed_site
from tests.receiver import Receiver
from tests.trickle import Trickler

pytestmark = pytest.mark.integration

#: Longer than the test: the stuck calls must still be stuck when it ends.
STUCK_FOR = 600.0


async def until(what: str, check: Callable[[], Awaitable[bool]], seconds: float = 60) -> None:
    """A bounded wait, not a timing assertion: the ordering below is what is checked."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)


async def status(db: Database, booking_id: str) -> str:
    async with db.read() as session:
        return str(await session.scalar(select(Booking.status).where(Booking.id == booking_id)))


async def test_a_hanging_cpo_and_webhook_receiver_stall_nothing_else(
    fresh_db: Database, fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without any per-call deadline of their own, the stuck calls would hang this long.
    monkeypatch.setattr(
        runner, "DeliveryPolicy", functools.partial(DeliveryPolicy, timeout_seconds=STUCK_FOR)
    )
    # The stuck sends are cancelled at stop; the test need not give them the usual grace.
    monkeypatch.setattr(runner, "STOP_GRACE_SECONDS", 0.5)
    settings = Settings(
        database_url=fresh_database_url,
        worker_interval_seconds=0.1,
        command_send_timeout_seconds=STUCK_FOR,
        webhook_allow_private_networks=True,  # the receivers are on loopback
    )
    trickler, receiver = Trickler().start(), Receiver().start()
    live = LiveServer(settings).__enter__()
    sim = SimulatorServer(
        SimConfig(
            locations=4,
            seed=5,
            push_delay_seconds=0.0,
            commands=CommandRules(result_delay_seconds=0.02, timeout_seconds=30),
            driver=DriverRules(arrive_after_seconds=STUCK_FOR),
        )
    )
    sim.start()
    stop = asyncio.Event()
    worker: asyncio.Task[None] | None = None
    try:
        me = ocpi_parties.Identity("DE", "CBK", "chargebook", live.base)
        good = await ocpi_parties.connect(fresh_db, sim.versions_url, sim.token_a, me, None)
        await ocpi_catalogue.sync_party(fresh_db, good)
        async with fresh_db.read() as session:
            at_good = (
                await session.execute(
                    select(Location.id, Evse.uid)
                    .join(Evse, Evse.location_pk == Location.pk)
                    .where(
                        Location.party_pk == good.id,
                        Evse.reservable.is_(True),
                        Evse.status == "AVAILABLE",
                    )
                    .order_by(Evse.uid)
                    .limit(1)
                )
            ).one()
        stuck_site, quiet_site = await seed_site(fresh_db), await seed_site(fresh_db)
        async with fresh_db.write() as session:  # a CPO whose commands endpoint trickles
            await session.execute(
                update(Party)
                .where(Party.party_id == stuck_site.party_id)
                .values(
                    status="registered",
                    token_for_them="token-c",
                    endpoints={"commands:RECEIVER": f"{trickler.url}/ocpi/cpo/2.2.1/commands"},
                )
            )
        now = datetime.now(UTC).replace(microsecond=0)
        soon = BookingPolicy(min_lead=timedelta(0))

        async def book(key_of: str, location_id: str, evse_uid: str, start: datetime) -> str:
            client = await authenticate(fresh_db, key_of)
            view = await create_booking(
                fresh_db,
                client,
                BookingRequest(
                    location_id=location_id,
                    evse_uid=evse_uid,
                    reservation_start=start,
                    reservation_end=start + timedelta(hours=1),
                ),
                soon,
            )
            return view.booking.id

        stalled_client, stalled_key = await create_client(fresh_db, "stalled tenant")
        served_client, served_key = await create_client(fresh_db, "served tenant")
        await create_endpoint(
            fresh_db, stalled_client.id, url=f"{trickler.url}/hooks", event_types=["*"],
            allow_private_networks=True,
        )
        await create_endpoint(
            fresh_db, served_client.id, url=receiver.url, event_types=["*"], allow_private_networks=True
        )
        stuck = await book(
            stalled_key,
            stuck_site.location_id,
            stuck_site.evse_uids[0],
            now + timedelta(minutes=30),
        )
        confirmed = await book(served_key, at_good[0], at_good[1], now + timedelta(minutes=30))
        expiring = await book(
            served_key, quiet_site.location_id, quiet_site.evse_uids[0], now + timedelta(seconds=3)
        )

        worker = asyncio.create_task(runner.run_forever(fresh_db, live.settings, stop))

        async def both_stuck() -> bool:
            requests, still_open = trickler.snapshot()
            lines = [r.line for r in requests]
            return (
                still_open == 2
                and any("RESERVE_NOW" in line for line in lines)
                and any("/hooks" in line for line in lines)
            )

        await until("the trickling CPO and receiver each hold a call", both_stuck)
        stuck_since = datetime.now(UTC)

        await until("the other booking is CONFIRMED", lambda: _is(fresh_db, confirmed, "CONFIRMED"))
        await until("the started booking is EXPIRED", lambda: _is(fresh_db, expiring, "EXPIRED"))

        def events() -> set[tuple[str, str]]:
            seen = set()
            for got in receiver.snapshot():
                booking = json.loads(got.body).get("data", {}).get("booking") or {}
                seen.add((booking.get("id"), booking.get("status")))
            return seen

        async def delivered() -> bool:
            return {(confirmed, "CONFIRMED"), (expiring, "EXPIRED")} <= events()

        await until("the other client's webhooks arrive", delivered)

        async def fresh_beat() -> bool:
            async with fresh_db.read() as session:
                newest = await session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
            return newest is not None and newest > stuck_since

        await until("a heartbeat after the calls got stuck", fresh_beat)

        # All of that happened while both calls were (and still are) stuck.
        requests, still_open = trickler.snapshot()
        assert still_open == 2
        assert len(requests) == 2  # nothing was sent to the stuck peers a second time
        assert await status(fresh_db, stuck) == "PENDING"
    finally:
        stop.set()
        if worker is not None:
            await worker
        sim.stop()
        live.__exit__()
        receiver.close()
        trickler.close()


async def _is(db: Database, booking_id: str, wanted: str) -> bool:
    return await status(db, booking_id) == wanted
