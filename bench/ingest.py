"""EVSE status ingest over HTTP: one CPO's PATCHes, durable, in order.

Starts `chargebook serve --workers 2` on a fresh database with one registered CPO whose
catalogue holds 1,000 locations × 3 EVSEs, then sends status PATCHes
(`PATCH /ocpi/2.2.1/locations/{cc}/{pid}/{loc}/{evse}`) over 16 keep-alive connections. Each
EVSE gets a rising `last_updated` sequence; with 16 connections some PATCHes of one EVSE
arrive out of order, so the read-back checks that every EVSE holds the newest status sent
to it (lost or reordered updates: must be 0). Beside it, in the same run, the baseline: the
bare guarded UPDATE of one EVSE row issued straight to the database from 16 threads.

    python bench/ingest.py                       # PostgreSQL, 30,000 PATCHes
    python bench/ingest.py --patches 60000 --profile
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
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bookings import percentile, wait_ready  # noqa: E402
from common import drop_database, free_port, make_database  # noqa: E402

STATUSES = ["AVAILABLE", "CHARGING", "BLOCKED", "RESERVED", "OUTOFORDER"]
PARTY = "ING"


def seed(url: str, locations: int, evses_per_location: int) -> tuple[str, list[tuple[str, str]]]:
    """Migrate, store the CPO's catalogue and register it; returns (token, [(loc, evse)])."""
    import copy

    from chargebook.cpo_sim.catalogue import generate_locations
    from chargebook.db.engine import Database
    from chargebook.db.migrate import upgrade
    from chargebook.db.models import Party
    from chargebook.ocpi.transport import new_token
    from chargebook.services.catalogue import seed_catalogue
    from chargebook.services.ocpi_parties import hash_token

    upgrade(url)
    catalogue = list(generate_locations(locations, party_id=PARTY, reservable_share=1.0, seed=5))
    for loc in catalogue:
        template = loc["evses"][0]
        loc["evses"] = []
        for n in range(1, evses_per_location + 1):
            evse = copy.deepcopy(template)
            evse["uid"] = evse["evse_id"] = f"{loc['id']}*{n}"
            evse["status"] = "AVAILABLE"
            loc["evses"].append(evse)
    token = new_token()

    async def run() -> None:
        db = Database(url)
        try:
            await seed_catalogue(db, "DE", PARTY, "Ingest CPO", catalogue)
            async with db.write() as session:
                party = await session.scalar(
                    __import__("sqlalchemy").select(Party).where(Party.party_id == PARTY))
                party.status, party.version, party.endpoints = "registered", "2.2.1", {}
                party.token_for_them, party.token_from_them_hash = "unused", hash_token(token)
        finally:
            await db.dispose()

    asyncio.run(run())
    return token, [(loc["id"], e["uid"]) for loc in catalogue for e in loc["evses"]]


def plan(targets: list[tuple[str, str]], patches: int, seed_: int) -> tuple[list[tuple], dict]:
    """(location, evse, body) in send order, and the newest body per EVSE."""
    rng = random.Random(seed_)
    t0 = datetime(2031, 1, 1, tzinfo=UTC)
    work, newest = [], {}
    for n in range(patches):
        loc, uid = rng.choice(targets)
        stamp = (t0 + timedelta(milliseconds=n)).isoformat().replace("+00:00", "Z")
        body = {"status": rng.choice(STATUSES), "last_updated": stamp}
        work.append((loc, uid, body))
        newest[(loc, uid)] = body
    return work, newest


def _load_process(base: str, token: str, work: list[tuple], connections: int, out: mp.Queue) -> None:
    import aiohttp

    from chargebook.ocpi.transport import authorization_header

    async def main() -> list[tuple[int, int, float]]:
        results: list[tuple[int, int, float]] = []
        queue = list(reversed(work))
        conn = aiohttp.TCPConnector(limit=connections)
        headers = {"Authorization": authorization_header(token)}
        async with aiohttp.ClientSession(base_url=base, connector=conn, headers=headers) as s:
            async def sender() -> None:
                while queue:
                    loc, uid, body = queue.pop()
                    t0 = time.perf_counter()
                    async with s.patch(f"/ocpi/2.2.1/locations/DE/{PARTY}/{loc}/{uid}", json=body) as r:
                        answer = await r.json(content_type=None)
                        results.append((r.status, answer.get("status_code", 0), time.perf_counter() - t0))

            await asyncio.gather(*(sender() for _ in range(connections)))
        return results

    out.put(asyncio.run(main()))


def drive(base: str, token: str, work: list[tuple], connections: int, processes: int) -> tuple[float, list]:
    queue: mp.Queue = mp.Queue()
    chunks = [work[i::processes] for i in range(processes)]
    procs = [mp.Process(target=_load_process, args=(base, token, c, connections // processes, queue))
             for c in chunks]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [r for _ in procs for r in queue.get()]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    return elapsed, results


def read_back(url: str, newest: dict) -> int:
    """EVSEs whose stored status or last_updated is not the newest sent (lost or reordered)."""
    from sqlalchemy import create_engine, text

    from chargebook.db.engine import sync_url

    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT l.id, e.uid, e.status, e.data FROM evses e JOIN locations l ON l.pk = e.location_pk"
        )).all()
    engine.dispose()
    stored = {(r[0], r[1]): (r[2], (r[3] if isinstance(r[3], dict) else json.loads(r[3]))) for r in rows}
    wrong = 0
    for key, body in newest.items():
        status, data = stored[key]
        if status != body["status"] or data["status"] != body["status"] or \
                data["last_updated"] != body["last_updated"]:
            wrong += 1
    return wrong


def baseline(url: str, work: list[tuple], threads: int) -> float:
    """The bare guarded UPDATE of one EVSE row, straight to the database, autocommit."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import create_engine, text

    from chargebook.db.engine import sync_url

    engine = create_engine(sync_url(url), pool_size=threads, max_overflow=0,
                           isolation_level="AUTOCOMMIT")
    stmt = text("UPDATE evses SET status = :s, last_updated = :t WHERE uid = :u AND last_updated <= :t")

    def one(item: tuple) -> None:
        _, uid, body = item
        stamp = datetime.fromisoformat(body["last_updated"]).replace(tzinfo=None)
        with engine.connect() as conn:
            conn.execute(stmt, {"s": body["status"], "t": stamp, "u": uid})

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, work))
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return len(work) / elapsed


def in_process(url: str, token: str, work: list[tuple]) -> dict:
    """CPU per PATCH in one process: ASGI calls one after another, no network, no load
    generator (less sensitive than PATCHes/s to other work on the machine)."""
    from chargebook.api.app import create_app
    from chargebook.db.engine import Database
    from chargebook.ocpi.transport import authorization_header
    from chargebook.settings import Settings

    auth = authorization_header(token).encode()

    async def drive() -> dict:
        db = Database(url)
        app = create_app(Settings(database_url=url, log_requests=False), db)

        async def call(loc: str, uid: str, body: dict) -> int:
            raw, path = json.dumps(body).encode(), f"/ocpi/2.2.1/locations/DE/{PARTY}/{loc}/{uid}"
            scope = {"type": "http", "method": "PATCH", "path": path, "raw_path": path.encode(),
                     "query_string": b"", "root_path": "", "scheme": "http", "server": ("x", 80),
                     "client": ("y", 1), "http_version": "1.1", "asgi": {"version": "3.0"},
                     "headers": [(b"host", b"x"), (b"authorization", auth),
                                 (b"content-type", b"application/json"),
                                 (b"content-length", str(len(raw)).encode())]}
            sent, status = False, 0

            async def receive() -> dict:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}

            async def send(message: dict) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]

            await app(scope, receive, send)
            return status

        for item in work[:200]:  # warm-up
            await call(*item)
        cpu, wall, codes = time.process_time(), time.perf_counter(), []
        for item in work[200:]:
            codes.append(await call(*item))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await db.dispose()
        n = len(work) - 200
        return {"in_process_patches": n, "cpu_ms_per_patch": round(cpu / n * 1000, 2),
                "wall_ms_per_patch": round(wall / n * 1000, 2), "non_200": len([c for c in codes if c != 200])}

    return asyncio.run(drive())


def run(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cbingest_"))
    url = make_database(args.db, tmp, "ingest")
    try:
        token, targets = seed(url, args.locations, args.evses)
        work, newest = plan(targets, args.patches, args.seed)
        if args.in_process:
            return {"db": args.db, **in_process(url, token, work)}
        port = free_port()
        env = {**os.environ, "CHARGEBOOK_DATABASE_URL": url, "CHARGEBOOK_DB_POOL_SIZE": str(args.pool)}
        workers = args.server_workers if args.db == "postgresql" else 1
        cmd = [sys.executable, "-m", "chargebook.cli", "serve", "--port", str(port), "--workers", str(workers)]
        if args.profile:
            cmd = [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(tmp / "profile.txt"),
                   "-m", "chargebook.cli", "serve", "--port", str(port), "--workers", "1"]
        if not args.log_requests:
            env["CHARGEBOOK_LOG_REQUESTS"] = "false"
        # The request log goes to a file, as a deployment would ship it, not to a terminal.
        log_file = open(tmp / "server.log", "wb")  # noqa: SIM115
        server = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, server)
            warm, _ = plan(targets, 200, args.seed + 1)
            drive(base, token, [(loc, u, dict(b, last_updated="2030-06-01T00:00:00Z")) for loc, u, b in warm], 8, 1)
            elapsed, results = drive(base, token, work, args.connections, args.load_processes)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
            log_file.close()
        if args.profile and (tmp / "profile.txt").exists():
            print((tmp / "profile.txt").read_text()[:12000])
        wrong = read_back(url, newest)
        base_tps = baseline(url, work[: min(len(work), 20000)], args.connections)
        latencies = [t * 1000 for _, _, t in results]
        ok = sum(1 for h, s, _ in results if h == 200 and s == 1000)
        return {
            "db": args.db, "log_requests": args.log_requests, "patches": len(results), "seconds": round(elapsed, 2),
            "patches_per_s": round(len(results) / elapsed),
            "p50_ms": round(percentile(latencies, 50), 1), "p99_ms": round(percentile(latencies, 99), 1),
            "answered_1000": ok, "other": sorted({(h, s) for h, s, _ in results if (h, s) != (200, 1000)}),
            "evses_not_holding_newest": wrong, "evses_patched": len(newest),
            "baseline_bare_update_per_s": round(base_tps),
            "ratio": round(len(results) / elapsed / base_tps, 3),
        }
    finally:
        drop_database(args.db, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--patches", type=int, default=30_000)
    parser.add_argument("--locations", type=int, default=1_000)
    parser.add_argument("--evses", type=int, default=3, help="EVSEs per location")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--load-processes", type=int, default=1)
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument("--pool", type=int, default=10, help="DB connections per API process")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-log-requests", dest="log_requests", action="store_false",
                        help="switch off our one-line-per-request log")
    parser.add_argument("--profile", action="store_true", help="one API process under pyinstrument")
    parser.add_argument("--in-process", action="store_true",
                        help="CPU per PATCH in this process (ASGI calls, no network) instead")
    row = run(parser.parse_args())
    print(json.dumps(row))


if __name__ == "__main__":
    main()
