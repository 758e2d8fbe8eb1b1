"""Booking-create throughput over HTTP, with deliberate collisions.

Starts `chargebook serve` on a fresh database, seeds a catalogue, then drives creates from
separate load processes (aiohttp, keep-alive). Reports bookings/s, latency percentiles, the
share of 409s, and double bookings found afterwards by a direct overlap query (must be 0).
Beside it, the baseline: the same lock-check-insert transaction issued straight to the
database (no HTTP, no Python web stack), in the same run.

    python bench/bookings.py                 # PostgreSQL and SQLite
    python bench/bookings.py --db postgresql --requests 20000 --concurrency 64
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).parent))
import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import drop_database, free_port, make_database  # noqa: E402

DOUBLE_BOOKINGS_SQL = """
SELECT count(*) FROM bookings a JOIN bookings b
  ON a.evse_pk = b.evse_pk AND a.id < b.id
 AND a.reservation_start < b.reservation_end AND b.reservation_start < a.reservation_end
WHERE a.status IN ('REQUESTED','PENDING','CONFIRMED','ATTENDING')
  AND b.status IN ('REQUESTED','PENDING','CONFIRMED','ATTENDING')
"""








def seed(url: str, locations: int) -> tuple[str, list[tuple[str, str]]]:
    """Migrate, store the catalogue, create a client; returns (key, [(location_id, evse_uid)])."""
    from chargebook.cpo_sim.catalogue import generate_locations
    from chargebook.db.engine import Database
    from chargebook.db.migrate import upgrade
    from chargebook.services.catalogue import seed_catalogue
    from chargebook.services.clients import create_client

    upgrade(url)
    catalogue = list(generate_locations(locations, reservable_share=1.0, seed=11))
    for loc in catalogue:
        for e in loc["evses"]:
            e["status"] = "AVAILABLE"

    async def run() -> str:
        db = Database(url)
        try:
            await seed_catalogue(db, "DE", "SIM", "Bench CPO", catalogue)
            _, key = await create_client(db, "bench", rate_limit_per_minute=10**9, monthly_quota=10**9)
            return key
        finally:
            await db.dispose()

    key = asyncio.run(run())
    targets = [(loc["id"], e["uid"]) for loc in catalogue for e in loc["evses"]]
    return key, targets


def plan(targets: list[tuple[str, str]], requests: int, collision_share: float, seed_: int) -> list[dict]:
    """Request bodies: random EVSE and hour slot; a share deliberately overlaps an earlier one."""
    rng = random.Random(seed_)
    day = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    bodies: list[dict] = []
    for _ in range(requests):
        if bodies and rng.random() < collision_share:
            prior = rng.choice(bodies)
            shift = rng.choice([0, 15, 30, -30])
            start = datetime.fromisoformat(prior["reservation_start"]) + timedelta(minutes=shift)
            loc, uid = prior["location_id"], prior["evse_uid"]
        else:
            loc, uid = rng.choice(targets)
            start = day + timedelta(hours=rng.randrange(0, 20 * 24))
        end = start + timedelta(minutes=60)
        bodies.append({"location_id": loc, "evse_uid": uid, "token_strategy": "pipelet",
                       "token_uid": "04A2B3C4", "reservation_start": start.isoformat(),
                       "reservation_end": end.isoformat()})
    return bodies


def _load_process(base: str, key: str, bodies: list[dict], concurrency: int, out: mp.Queue) -> None:
    import aiohttp

    async def main() -> list[tuple[int, float]]:
        results: list[tuple[int, float]] = []
        queue = list(reversed(bodies))
        conn = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(base_url=base, connector=conn,
                                         headers={"X-API-Key": key}) as session:
            async def worker() -> None:
                while queue:
                    body = queue.pop()
                    t0 = time.perf_counter()
                    async with session.post("/api/v1/client/bookings", json=body) as r:
                        await r.read()
                        results.append((r.status, time.perf_counter() - t0))

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return results

    out.put(asyncio.run(main()))


def drive(base: str, key: str, bodies: list[dict], concurrency: int, processes: int) -> tuple[float, list]:
    chunks = [bodies[i::processes] for i in range(processes)]
    queue: mp.Queue = mp.Queue()
    procs = [mp.Process(target=_load_process, args=(base, key, chunk, max(1, concurrency // processes), queue))
             for chunk in chunks]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = []
    for _ in procs:
        results.extend(queue.get())
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    return elapsed, results


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def count_double_bookings(kind: str, url: str) -> tuple[int, int]:
    from sqlalchemy import create_engine, text

    from chargebook.db.engine import sync_url

    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        doubles = conn.execute(text(DOUBLE_BOOKINGS_SQL)).scalar_one()
        total = conn.execute(text("SELECT count(*) FROM bookings")).scalar_one()
    engine.dispose()
    return int(doubles), int(total)


def baseline(kind: str, url: str, bodies: list[dict], concurrency: int) -> float:
    """The database's own ceiling: lock the EVSE row, check overlap, insert — no HTTP, no ORM."""
    from sqlalchemy import create_engine, text

    from chargebook.db.engine import sync_url

    engine = create_engine(sync_url(url), pool_size=concurrency, max_overflow=0)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_slots (evse_pk INTEGER, s TIMESTAMP, e TIMESTAMP)"))
        pks = [r[0] for r in conn.execute(text("SELECT pk FROM evses"))]
    rng = random.Random(3)
    lock = "FOR UPDATE" if kind == "postgresql" else ""
    begin = "BEGIN IMMEDIATE" if kind == "sqlite" else None
    work = [(rng.choice(pks), datetime.fromisoformat(b["reservation_start"]).replace(tzinfo=None)) for b in bodies]

    def one(evse_pk: int, start: datetime) -> None:
        with engine.connect() as conn:
            if begin:
                conn.exec_driver_sql(begin)
            else:
                conn.begin()
            conn.execute(text(f"SELECT pk FROM evses WHERE pk = :pk {lock}"), {"pk": evse_pk})
            end = start + timedelta(hours=1)
            hit = conn.execute(text("SELECT 1 FROM bench_slots WHERE evse_pk = :pk AND s < :e AND e > :s"),
                               {"pk": evse_pk, "s": start, "e": end}).first()
            if hit is None:
                conn.execute(text("INSERT INTO bench_slots VALUES (:pk, :s, :e)"),
                             {"pk": evse_pk, "s": start, "e": end})
            conn.commit() if not begin else conn.exec_driver_sql("COMMIT")

    from concurrent.futures import ThreadPoolExecutor

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency if kind == "postgresql" else 1) as pool:
        list(pool.map(lambda w: one(*w), work))
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return len(work) / elapsed


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[int(p * 10) - 1]


def run(kind: str, args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cbbench_"))
    url = make_database(kind, tmp)
    try:
        key, targets = seed(url, args.locations)
        bodies = plan(targets, args.requests, args.collisions, args.seed)
        port = free_port()
        env = {**os.environ, "CHARGEBOOK_DATABASE_URL": url, "CHARGEBOOK_DB_POOL_SIZE": str(args.pool),
               "CHARGEBOOK_LOG_REQUESTS": "true" if args.log_requests else "false"}
        workers = args.server_workers if kind == "postgresql" else 1
        cmd = [sys.executable, "-m", "chargebook.cli", "serve", "--port", str(port), "--workers", str(workers)]
        if args.profile:
            cmd = [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(tmp / "profile.txt"),
                   "-m", "chargebook.cli", "serve", "--port", str(port), "--workers", "1"]
        if args.uvicorn_access_log:
            cmd += ["--access-log"]
        # Logs go to a file, as a deployment ships them, not to a terminal.
        server = subprocess.Popen(cmd, env=env, stdout=open(tmp / "server.log", "wb"),  # noqa: SIM115
                                  stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, server)
            # Warm the server's pools and caches (not measured).
            drive(base, key, plan(targets, 100, 0.0, args.seed + 1), 8, 1)
            elapsed, results = drive(base, key, bodies, args.concurrency, args.load_processes)
        finally:
            # SIGINT lets the profiler (if any) write its report on the way out.
            server.send_signal(__import__("signal").SIGINT)
            server.wait(timeout=60)
        if args.profile and (tmp / "profile.txt").exists():
            print((tmp / "profile.txt").read_text()[:12000])
        codes = [c for c, _ in results]
        latencies = [t * 1000 for _, t in results]
        doubles, total = count_double_bookings(kind, url)
        base_tps = baseline(kind, url, bodies[: min(len(bodies), 5000)], 16)
        return {
            "db": kind, "log_requests": args.log_requests, "uvicorn_access_log": args.uvicorn_access_log,
            "requests": len(results),
            "seconds": round(elapsed, 2),
            "requests_per_s": round(len(results) / elapsed),
            "bookings_per_s": round(codes.count(202) / elapsed),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p95_ms": round(percentile(latencies, 95), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
            "share_409": round(codes.count(409) / len(codes), 3),
            "other_status": sorted({c for c in codes if c not in (202, 409)}),
            "double_bookings": doubles,
            "bookings_in_db": total,
            "baseline_lock_check_insert_tps": round(base_tps),
        }
    finally:
        drop_database(kind, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--locations", type=int, default=2_000, help="about 3 EVSEs each")
    parser.add_argument("--collisions", type=float, default=0.1, help="share of deliberate overlaps")
    parser.add_argument("--server-workers", type=int, default=2, help="API processes (PostgreSQL)")
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--pool", type=int, default=10, help="DB connections per API process")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="one API process under pyinstrument")
    parser.add_argument("--no-log-requests", dest="log_requests", action="store_false",
                        help="switch off our one-line-per-request log (CHARGEBOOK_LOG_REQUESTS)")
    parser.add_argument("--uvicorn-access-log", action="store_true",
                        help="switch on uvicorn's own access log too (serve --access-log)")
    args = parser.parse_args()
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    rows = [run(kind, args) for kind in kinds]
    for row in rows:
        print(json.dumps(row))
    print()
    print(f"{'db':<11} {'req/s':>7} {'book/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'409s':>6} {'doubles':>7} {'baseline tps':>12}")
    for r in rows:
        print(f"{r['db']:<11} {r['requests_per_s']:>7} {r['bookings_per_s']:>7} {r['p50_ms']:>7} "
              f"{r['p95_ms']:>7} {r['p99_ms']:>7} {r['share_409']:>6} {r['double_bookings']:>7} "
              f"{r['baseline_lock_check_insert_tps']:>12}")


if __name__ == "__main__":
    main()
