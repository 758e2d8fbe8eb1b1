"""What a Prometheus scrape costs as bookings pile up: the database figures of `/metrics`.

Seeds a fresh database with `--bookings` bookings (by default 100,000; `--live-share` of
them in live states, the rest ended), then times, on the same data:

* the live-bookings count `/metrics` runs (live states only, a range scan on
  `ix_bookings_status_start`),
* the baseline: a count of every status (`GROUP BY status` over the whole table),
* a whole `GET /metrics` in-process (database figures + process metrics).

    python bench/scrape.py                       # PostgreSQL and SQLite, 100k bookings
    python bench/scrape.py --db postgresql --bookings 1000000
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).parent))
import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from common import drop_database, make_database

LIVE = ["REQUESTED", "PENDING", "CONFIRMED", "ATTENDING"]
ENDED = ["COMPLETED", "CANCELLED", "EXPIRED", "NO_SHOW"]


async def seed(url: str, bookings: int, live_share: float) -> None:
    from sqlalchemy import insert, select, text

    from chargebook.cpo_sim.catalogue import generate_locations
    from chargebook.db.engine import Database
    from chargebook.db.models import Booking, Evse
    from chargebook.services.catalogue import seed_catalogue
    from chargebook.services.clients import create_client

    db = Database(url)
    try:
        await seed_catalogue(db, "DE", "SIM", "Bench CPO", list(generate_locations(50, seed=3)))
        client, _ = await create_client(db, "bench")
        async with db.read() as session:
            evses = list(await session.scalars(select(Evse.pk)))
        rng = random.Random(1)
        now = datetime.now(UTC).replace(microsecond=0)
        rows = []
        for n in range(bookings):
            start = now + timedelta(hours=rng.randrange(-24 * 365, 24 * 30))
            rows.append({
                "id": str(uuid.UUID(int=rng.getrandbits(128))), "client_id": client.id, "external_id": None,
                "request_hash": "0" * 64, "evse_pk": rng.choice(evses), "location_id": "L", "location_city": "Berlin",
                "evse_uid": "E", "connector_id": None, "reservation_start": start,
                "reservation_end": start + timedelta(hours=1), "token_strategy": "pipelet", "token_pk": None,
                "token_uid": "04A2B3C4", "customer_id": None, "fleet_group_id": None,
                "status": rng.choice(LIVE) if rng.random() < live_share else rng.choice(ENDED),
                "status_reason": None, "status_message": None, "status_updated_at": now,
                "cpo_reservation_id": None, "client_price": Decimal("2.50"), "client_price_currency": "EUR",
                "price_breakdown": None, "created_at": now, "request_id": None,
            })
            if len(rows) == 5000 or n == bookings - 1:
                async with db.write() as session:
                    await session.execute(insert(Booking), rows)
                rows = []
        # The steady state autovacuum keeps: planner statistics, and (PostgreSQL) a visibility
        # map, without which an index-only scan still visits the table.
        if url.startswith("postgresql"):
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE bookings")
        else:
            async with db.write() as session:
                await session.execute(text("ANALYZE"))
    finally:
        await db.dispose()


async def measure(url: str, repeat: int) -> dict[str, float]:
    import httpx
    from sqlalchemy import func, select

    from chargebook.api.app import create_app
    from chargebook.db.engine import Database
    from chargebook.db.models import Booking
    from chargebook.services.operations import operational_figures
    from chargebook.settings import Settings

    db = Database(url)
    everything = select(Booking.status, func.count()).group_by(Booking.status)

    async def live_only() -> None:
        await operational_figures(db, datetime.now(UTC))

    async def all_statuses() -> None:
        async with db.read() as session:
            (await session.execute(everything)).all()

    app = create_app(Settings(database_url=url, log_requests=False), db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        async def scrape() -> None:
            assert (await http.get("/metrics")).status_code == 200

        results = {}
        for name, fn in (("live-bookings figures (what /metrics runs)", live_only),
                         ("baseline: GROUP BY every status", all_statuses),
                         ("whole GET /metrics, in-process", scrape)):
            for _ in range(3):
                await fn()
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                await fn()
                times.append((time.perf_counter() - started) * 1000)
            results[name] = statistics.median(times)
    await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--live-share", type=float, default=0.03)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    from chargebook.db.migrate import upgrade

    for kind in (["postgresql", "sqlite"] if args.db == "both" else [args.db]):
        url = make_database(kind, _Path(tempfile.mkdtemp(prefix="cbscrape_")), "scrape")
        try:
            upgrade(url)
            asyncio.run(seed(url, args.bookings, args.live_share))
            print(f"{kind}: {args.bookings:,} bookings, {args.live_share:.0%} live; median of {args.repeat}")
            for name, ms in asyncio.run(measure(url, args.repeat)).items():
                print(f"  {name:44s} {ms:8.2f} ms")
        finally:
            drop_database(kind, url)


if __name__ == "__main__":
    main()
