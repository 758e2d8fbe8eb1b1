"""What webhooks cost a booking create, in process (no HTTP), on PostgreSQL and SQLite.

Three ways to create the same bookings, interleaved in rounds so that machine noise hits all
three alike: webhooks switched off (the baseline: the create's EVSE query without its
"has endpoints" probe), a client with no endpoints (the usual case: the probe rides along in
the EVSE query), and a client with one endpoint subscribed to everything (the event is
rendered and a delivery row written in the same transaction).

    python bench/webhooks.py                    # both databases
    python bench/webhooks.py --db postgresql --creates 600
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import drop_database, make_database
from tests.factories import evse, seed_site

from chargebook.db.engine import Database
from chargebook.db.migrate import upgrade
from chargebook.services import bookings, webhooks
from chargebook.services.booking_create import resolve
from chargebook.services.clients import authenticate, create_client


async def run(kind: str, creates: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = make_database(kind, Path(tmp), "webhooks")
        try:
            upgrade(url)
            db = Database(url, pool_size=2)
            site = await seed_site(db, evses=[evse(f"DE*WHB*{i}") for i in range(3 * rounds)])
            clients = {}
            for name in ("hook off", "no endpoints", "one endpoint"):
                _, key = await create_client(db, name)
                clients[name] = await authenticate(db, key)
            await webhooks.create_endpoint(db, clients["one endpoint"].id, url="http://127.0.0.1:9/x",
                                           event_types=["*"], allow_private_networks=True)
            plain = (False, False, False)  # no CPO named, contracted for every CPO
            with_probe = resolve._evse_statement(*plain)
            columns = list(with_probe.selected_columns)[:-1]
            without_probe = with_probe.with_only_columns(*columns, literal(False).label("has_webhooks"))

            times: dict[str, list[float]] = {name: [] for name in clients}
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
            evse_no = 0
            for _ in range(rounds):
                for name, client in clients.items():
                    resolve._EVSE_STATEMENTS[plain] = without_probe if name == "hook off" else with_probe
                    uid = site.evse_uids[evse_no]
                    evse_no += 1
                    for n in range(creates // rounds):
                        t0 = time.perf_counter()
                        await bookings.create_booking(db, client, bookings.BookingRequest(
                            location_id=site.location_id, evse_uid=uid,
                            reservation_start=start + timedelta(hours=n),
                            reservation_end=start + timedelta(hours=n, minutes=30)), bookings.BookingPolicy())
                        times[name].append(time.perf_counter() - t0)
            resolve._EVSE_STATEMENTS[plain] = with_probe
            base = statistics.median(times["hook off"])
            print(f"{kind}: {creates} creates each, median / p95 per create")
            for name, ts in times.items():
                p95 = statistics.quantiles(ts, n=20)[-1]
                print(f"  {name:13} {statistics.median(ts) * 1000:6.2f} ms  {p95 * 1000:6.2f} ms"
                      f"  ({(statistics.median(ts) - base) * 1000:+.2f} ms vs hook off)")
            await db.dispose()
        finally:
            drop_database(kind, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--creates", type=int, default=600, help="per variant")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    for kind in (["postgresql", "sqlite"] if args.db == "both" else [args.db]):
        asyncio.run(run(kind, args.creates, args.rounds))


if __name__ == "__main__":
    main()
