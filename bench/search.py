"""Search latency at country scale, beside a naive full scan measured in the same run.

For each size and database: generate a German-like catalogue (cpo_sim.catalogue: 75 %
around the 30 largest cities, 25 % rural, 1-6 EVSEs each) with two tariffs and some live
bookings, bulk-load it (Core inserts of exactly the columns store_location writes), start
`chargebook serve`, and time random queries: points near cities, radius 5-50 km, limit 20,
a third each with power_min none / 50 / 150 kW, half of them with a time window.

Strategies, each timed on the same queries:

* ``naive-sql``   the baseline: one SQL statement at the database (sync driver, no HTTP, no
                  Python web stack) that computes the haversine distance of every published
                  location, sorts those within the radius and checks the filters nearest
                  first until 20 hold (BENCHMARKS.md's "naive scan"; it returns no total).
* ``cells-svc``   chargebook's search service in-process (services.search.search_locations:
                  growing caps on the band index, details, tariff prices), no HTTP.
* ``cells-http``  GET /api/v1/client/search through `chargebook serve`, one keep-alive
                  connection, requests one after another.

    python bench/search.py                                  # 10k and 100k, both databases
    python bench/search.py --sizes 1000000 --db postgresql --queries 2000
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).parent))
import argparse
import asyncio
import http.client
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from common import drop_database, free_port, make_database  # noqa: E402

LIVE = ("REQUESTED", "PENDING", "CONFIRMED", "ATTENDING")
CHUNK = 5_000








# --- loading -----------------------------------------------------------------------------------


def tariff(tariff_id: str, energy: str, reservation_per_hour: str) -> dict[str, Any]:
    """A plausible German tariff: reservation time, then energy, 19 % VAT."""
    return {
        "country_code": "DE",
        "party_id": "SIM",
        "id": tariff_id,
        "currency": "EUR",
        "elements": [
            {
                "price_components": [
                    {"type": "TIME", "price": reservation_per_hour, "vat": 19.0, "step_size": 60}
                ],
                "restrictions": {"reservation": "RESERVATION"},
            },
            {
                "price_components": [
                    {"type": "ENERGY", "price": energy, "vat": 19.0, "step_size": 1}
                ]
            },
        ],
        "last_updated": "2026-01-01T00:00:00Z",
    }


def rows_for(
    locations: list[dict[str, Any]], party_pk: str, next_pk: dict[str, int]
) -> tuple[list, list, list]:
    """Rows of locations, evses and connectors, with the columns store_location computes."""
    from chargebook.domain.geocells import EvseSummary, lat_band, search_power_columns
    from chargebook.services.catalogue import OUT_OF_SERVICE, connector_power_kw, parse_ts

    now = datetime.now(UTC)
    locs, evses, conns = [], [], []
    for data in locations:
        next_pk["location"] += 1
        loc_pk = next_pk["location"]
        summaries = []
        for e in data["evses"]:
            next_pk["evse"] += 1
            reservable = "RESERVABLE" in (e.get("capabilities") or [])
            powers = tuple(connector_power_kw(c) for c in e["connectors"])
            summaries.append(
                EvseSummary(
                    e["status"] != "REMOVED",
                    reservable and e["status"] not in OUT_OF_SERVICE,
                    powers,
                )
            )
            evses.append(
                {
                    "pk": next_pk["evse"],
                    "location_pk": loc_pk,
                    "uid": e["uid"],
                    "evse_id": e.get("evse_id"),
                    "status": e["status"],
                    "reservable": reservable,
                    "max_power_kw": max(powers, default=0.0),
                    "data": e,
                    "last_updated": parse_ts(e.get("last_updated"), now),
                }
            )
            for c in e["connectors"]:
                next_pk["connector"] += 1
                conns.append(
                    {
                        "pk": next_pk["connector"],
                        "evse_pk": next_pk["evse"],
                        "id": c["id"],
                        "standard": c["standard"],
                        "format": c["format"],
                        "power_type": c["power_type"],
                        "power_kw": connector_power_kw(c),
                        "tariff_ids": list(c.get("tariff_ids") or []),
                    }
                )
        lat = float(data["coordinates"]["latitude"])
        search_kw, bookable_kw = search_power_columns(bool(data.get("publish", True)), summaries)
        locs.append(
            {
                "pk": loc_pk,
                "party_pk": party_pk,
                "id": data["id"],
                "name": data.get("name"),
                "address": data["address"],
                "city": data["city"],
                "postal_code": data.get("postal_code"),
                "country": data["country"],
                "latitude": lat,
                "longitude": float(data["coordinates"]["longitude"]),
                "time_zone": data.get("time_zone") or "UTC",
                "publish": bool(data.get("publish", True)),
                "data": data,
                "last_updated": parse_ts(data.get("last_updated"), now),
                "lat_band": lat_band(lat),
                "search_power_kw": search_kw,
                "bookable_power_kw": bookable_kw,
            }
        )
    return locs, evses, conns


def chunks(it: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in it:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def load(kind: str, url: str, size: int, seed: int) -> tuple[str, float]:
    """Migrate, bulk-load the catalogue, tariffs, a client and live bookings. Returns the key."""
    from sqlalchemy import create_engine, insert, text

    from chargebook.cpo_sim.catalogue import generate_locations
    from chargebook.db.engine import Database, json_deserializer, json_serializer, sync_url
    from chargebook.db.migrate import upgrade
    from chargebook.db.models import Booking, Connector, Evse, Location, Tariff
    from chargebook.services.catalogue import ensure_party
    from chargebook.services.clients import create_client

    t0 = time.perf_counter()
    upgrade(url)

    async def setup() -> tuple[str, str, str]:
        db = Database(url)
        try:
            async with db.write() as session:
                party = await ensure_party(session, "DE", "SIM", "Bench CPO")
                for tid, energy, hourly in (("AC-STD", "0.49", "1.20"), ("DC-STD", "0.69", "3.00")):
                    session.add(
                        Tariff(
                            party_pk=party.id,
                            id=tid,
                            currency="EUR",
                            data=tariff(tid, energy, hourly),
                            last_updated=datetime(2026, 1, 1, tzinfo=UTC),
                        )
                    )
            client, key = await create_client(
                db,
                "bench",
                reservation_fee=Decimal("1.50"),
                commission_percent=Decimal("5"),
                rate_limit_per_minute=10**9,
                monthly_quota=10**9,
            )
            return party.id, client.id, key
        finally:
            await db.dispose()

    party_pk, client_id, key = asyncio.run(setup())
    engine = create_engine(
        sync_url(url), json_serializer=json_serializer, json_deserializer=json_deserializer
    )
    next_pk = {"location": 0, "evse": 0, "connector": 0}
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    bookings = 0
    with engine.connect() as conn:
        for batch in chunks(generate_locations(size, seed=seed), CHUNK):
            locs, evses, conns = rows_for(batch, party_pk, next_pk)
            conn.execute(insert(Location), locs)
            conn.execute(insert(Evse), evses)
            conn.execute(insert(Connector), conns)
            # Live bookings on ~5 % of EVSEs, over the horizon queries ask about.
            rows = []
            for e in evses:
                if rng.random() < 0.05:
                    bookings += 1
                    start = now + timedelta(minutes=15 * rng.randrange(4, 4 * 72))
                    rows.append(
                        {
                            "id": f"bk{bookings}",
                            "client_id": client_id,
                            "request_hash": "-",
                            "evse_pk": e["pk"],
                            "location_id": "-",
                            "evse_uid": e["uid"],
                            "reservation_start": start,
                            "reservation_end": start + timedelta(hours=2),
                            "token_strategy": "pipelet",
                            "token_uid": "04A2B3C4",
                            "status": rng.choice(LIVE),
                            "status_updated_at": now,
                            "created_at": now,
                        }
                    )
            if rows:
                conn.execute(insert(Booking), rows)
            conn.commit()
        if kind == "postgresql":
            for table in ("locations", "evses", "connectors"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'pk'), "
                        f"(SELECT max(pk) FROM {table}))"
                    )
                )
            conn.commit()
    check_columns(url, engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if kind == "postgresql" else "ANALYZE"))
    engine.dispose()
    return key, time.perf_counter() - t0


def check_columns(url: str, engine: Any) -> None:
    """The bulk load must write what store_location writes: re-store a sample and compare."""
    from sqlalchemy import select

    from chargebook.db.engine import Database
    from chargebook.db.models import Location, Party
    from chargebook.services.catalogue import store_location

    with engine.connect() as conn:
        sample = conn.execute(select(Location.pk).order_by(Location.pk).limit(300)).scalars().all()

    async def run() -> None:
        db = Database(url)
        try:
            async with db.sessions() as session:
                cols = (Location.lat_band, Location.search_power_kw, Location.bookable_power_kw)
                for pk in sample:
                    loc = await session.get(Location, pk)
                    assert loc is not None
                    before = tuple(getattr(loc, c.key) for c in cols)
                    party = await session.get(Party, loc.party_pk)
                    assert party is not None
                    after_loc = await store_location(session, party, dict(loc.data))
                    after = tuple(getattr(after_loc, c.key) for c in cols)
                    assert before == after, (pk, before, after)
                await session.rollback()
        finally:
            await db.dispose()

    asyncio.run(run())


# --- queries -----------------------------------------------------------------------------------


def plan(count: int, seed: int) -> list[dict[str, Any]]:
    from chargebook.cpo_sim.catalogue import CITIES

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    queries = []
    for n in range(count):
        city = rng.choices(CITIES, weights=[c[3] for c in CITIES])[0]
        q: dict[str, Any] = {
            "lat": round(city[1] + rng.gauss(0, 0.05), 6),
            "lng": round(city[2] + rng.gauss(0, 0.05 / math.cos(math.radians(city[1]))), 6),
            "radius": rng.randint(5, 50),
            "limit": 20,
        }
        power = (None, 50, 150)[n % 3]
        if power is not None:
            q["power_min"] = power
        if (n // 3) % 2:
            start = now + timedelta(minutes=15 * rng.randrange(4, 4 * 72))
            q["start_time"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
            q["end_time"] = (start + timedelta(minutes=rng.choice([60, 90, 120]))).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
        queries.append(q)
    return queries


def naive_sql(kind: str) -> str:
    """Haversine over every published location, the ones within the radius sorted, then the
    filters checked nearest first until 20 hold (MATERIALIZED keeps both databases from
    checking filters on every row before sorting). No total: counting every match would
    make the baseline far slower still."""
    least = "least" if kind == "postgresql" else "min"
    return f"""
WITH near AS MATERIALIZED (
  SELECT pk, id, d FROM (
    SELECT l.pk, l.id, 2 * 6371.0088 * asin({least}(1.0, sqrt(
             power(sin(radians(l.latitude - :lat) / 2), 2)
             + cos(radians(:lat)) * cos(radians(l.latitude)) * power(sin(radians(l.longitude - :lng) / 2), 2)
           ))) AS d
    FROM locations l WHERE l.publish
  ) AS every_row
  WHERE d <= :radius ORDER BY d, pk
)
SELECT id, d FROM near WHERE EXISTS (
  SELECT 1 FROM evses e JOIN connectors c ON c.evse_pk = e.pk
  WHERE e.location_pk = near.pk AND c.power_kw >= :power_min AND (
    (:windowed = 0 AND e.status <> 'REMOVED')
    OR (:windowed = 1 AND e.reservable AND e.status NOT IN ('INOPERATIVE', 'OUTOFORDER', 'PLANNED', 'REMOVED')
        AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.evse_pk = e.pk
                        AND b.status IN ('REQUESTED', 'PENDING', 'CONFIRMED', 'ATTENDING')
                        AND b.reservation_start < :end_time AND b.reservation_end > :start_time))))
LIMIT 20
"""


def time_naive(
    kind: str, url: str, queries: list[dict[str, Any]]
) -> tuple[list[float], list[list[str]]]:
    from sqlalchemy import bindparam, create_engine, text

    from chargebook.db.engine import sync_url
    from chargebook.db.types import UTCDateTime

    engine = create_engine(sync_url(url))
    # Bound as the column type, so that SQLite compares timestamps in the stored format.
    stmt = text(naive_sql(kind)).bindparams(
        bindparam("start_time", type_=UTCDateTime()), bindparam("end_time", type_=UTCDateTime())
    )
    latencies, answers = [], []
    with engine.connect() as conn:
        for q in queries:
            params = {
                "lat": q["lat"],
                "lng": q["lng"],
                "radius": q["radius"],
                "power_min": q.get("power_min", -1.0),
                "windowed": int("start_time" in q),
                "start_time": _naive_ts(q.get("start_time")),
                "end_time": _naive_ts(q.get("end_time")),
            }
            t0 = time.perf_counter()
            rows = conn.execute(stmt, params).all()
            latencies.append(time.perf_counter() - t0)
            answers.append([r[0] for r in rows])
            conn.rollback()
    engine.dispose()
    return latencies, answers


def _naive_ts(value: str | None) -> datetime:
    # A placeholder when there is no window (the statement ignores it then).
    return (
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        if value
        else datetime(2000, 1, 1, tzinfo=UTC)
    )


def time_service(url: str, queries: list[dict[str, Any]]) -> list[float]:
    from chargebook.db.engine import Database
    from chargebook.services.search import SearchQuery, search_locations

    async def run() -> list[float]:
        db = Database(url)
        out = []
        try:
            for q in queries:
                start = (
                    datetime.fromisoformat(q["start_time"].replace("Z", "+00:00"))
                    if "start_time" in q
                    else None
                )
                end = (
                    datetime.fromisoformat(q["end_time"].replace("Z", "+00:00"))
                    if "end_time" in q
                    else None
                )
                query = SearchQuery(
                    lat=q["lat"],
                    lng=q["lng"],
                    radius_km=q["radius"],
                    power_min_kw=q.get("power_min"),
                    start_time=start,
                    end_time=end,
                    limit=20,
                )
                t0 = time.perf_counter()
                await search_locations(
                    db, query, reservation_fee=Decimal("1.50"), commission_percent=Decimal("5")
                )
                out.append(time.perf_counter() - t0)
        finally:
            await db.dispose()
        return out

    return asyncio.run(run())


def time_http(
    port: int, key: str, queries: list[dict[str, Any]]
) -> tuple[list[float], list[list[str]]]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    latencies, answers = [], []
    for q in queries:
        t0 = time.perf_counter()
        conn.request("GET", "/api/v1/client/search?" + urlencode(q), headers={"X-API-Key": key})
        response = conn.getresponse()
        body = response.read()
        latencies.append(time.perf_counter() - t0)
        if response.status != 200:
            raise RuntimeError(f"search answered {response.status}: {body[:300]!r}")
        answers.append([r["location_id"] for r in json.loads(body)["results"]])
    conn.close()
    return latencies, answers


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


# --- the run -----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] * 1000


def run(kind: str, size: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="cbsearch_"))
    url = make_database(kind, tmp, "search")
    try:
        key, load_s = load(kind, url, size, args.seed)
        print(f"# {kind} {size:,} locations loaded in {load_s:.0f} s", file=sys.stderr)
        queries = plan(args.queries, args.seed + 1)
        warm = plan(args.warmup, args.seed + 2)
        naive_queries = queries[: args.naive_queries]
        naive_warm = warm[:10]
        naive_lat, naive_ids = time_naive(kind, url, naive_warm + naive_queries)
        naive_lat, naive_ids = naive_lat[len(naive_warm) :], naive_ids[len(naive_warm) :]
        time_service(url, warm)
        svc_lat = time_service(url, queries)
        port = free_port()
        env = {**os.environ, "CHARGEBOOK_DATABASE_URL": url, "CHARGEBOOK_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chargebook.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env=env,
        )
        try:
            wait_ready(port, server)
            time_http(port, key, warm)
            http_lat, http_ids = time_http(port, key, queries)
        finally:
            server.terminate()
            server.wait(timeout=30)
        # The SQL baseline computes distances in SQL, so exact ties may order differently;
        # anything else would be a bug worth a look.
        agree = sum(a == b for a, b in zip(naive_ids, http_ids, strict=False))
        windowed = ["start_time" in q for q in queries]
        rows = []
        for strategy, lat in (
            ("naive-sql", naive_lat),
            ("cells-svc", svc_lat),
            ("cells-http", http_lat),
        ):
            flags = windowed[: len(lat)]
            rows.append(
                {
                    "size": size,
                    "db": kind,
                    "strategy": strategy,
                    "n": len(lat),
                    "p50": percentile(lat, 50),
                    "p95": percentile(lat, 95),
                    "p99": percentile(lat, 99),
                    "p95_no_window": percentile([x for x, w in zip(lat, flags, strict=True) if not w], 95),
                    "p95_window": percentile([x for x, w in zip(lat, flags, strict=True) if w], 95),
                    "load_s": round(load_s),
                    "agree_with_naive": f"{agree}/{len(naive_ids)}",
                }
            )
        return rows
    finally:
        drop_database(kind, url)
        shutil.rmtree(tmp, ignore_errors=True)  # the SQLite file: ~5 GB at 1M locations


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'size':>9} {'db':<10} {'strategy':<11} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'p95 no-win':>10} {'p95 win':>8} {'p50 ×':>7} {'p95 ×':>7}"
    )
    base = {(r["size"], r["db"]): r for r in rows if r["strategy"] == "naive-sql"}
    for r in rows:
        b = base[(r["size"], r["db"])]
        print(
            f"{r['size']:>9,} {r['db']:<10} {r['strategy']:<11} {r['n']:>5} {r['p50']:>8.2f} {r['p95']:>8.2f} "
            f"{r['p99']:>8.2f} {r['p95_no_window']:>10.2f} {r['p95_window']:>8.2f} "
            f"{b['p50'] / r['p50']:>7.1f} {b['p95'] / r['p95']:>7.1f}"
        )
    print(
        "× = naive-sql time / this strategy's time (same run, same queries); "
        "agreement with the naive scan: "
        + ", ".join(
            f"{r['db']} {r['size']:,}: {r['agree_with_naive']}"
            for r in rows
            if r["strategy"] == "cells-http"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated location counts")
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--queries", type=int, default=1000, help="timed queries per strategy")
    parser.add_argument(
        "--naive-queries", type=int, default=200, help="of those, timed on the naive scan"
    )
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for kind in kinds:
            rows += run(kind, size, args)
            print(json.dumps(rows[-1]), file=sys.stderr)
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
