"""Bookings against a misbehaving CPO: how many end in which state, and why.

Starts `chargebook serve` and `chargebook worker` on a fresh SQLite file, a CPO simulator
in-process, registers them over OCPI, switches one fault mode on at a time and books N
EVSEs per mode. Prints final status × status_reason counts per mode. No booking may be left
in REQUESTED/PENDING once its commands have timed out.

    python bench/faults.py --bookings 20
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx

from chargebook.cpo_sim import CommandRules, DriverRules, SimConfig, SimulatorServer
from chargebook.db.engine import Database
from chargebook.db.migrate import upgrade
from chargebook.services import ocpi_catalogue, ocpi_parties
from chargebook.services.clients import create_client

MODES: dict[str, dict] = {
    "none": {},
    "latency 1s": {"faults": {"latency_seconds": 1.0}},
    "5xx on 30%": {"faults": {"error_share": 0.3}},
    "5xx on commands": {"faults": {"error_share": 1.0, "paths": ["/commands/"]}},
    "timeouts on 30% of commands": {"faults": {"timeout_share": 0.3, "timeout_seconds": 20, "paths": ["/commands/"]}},
    "never-answered commands": {"faults": {"never_answer_share": 1.0}},
    "malformed command answers": {"faults": {"malformed_share": 1.0, "paths": ["/commands/"]}},
    "charger rejects 50%": {"commands": {"reject_share": 0.5}},
}
CLEAR = {"faults": {"latency_seconds": 0, "error_share": 0, "timeout_share": 0, "never_answer_share": 0,
                    "malformed_share": 0, "paths": []}, "commands": {"reject_share": 0}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=12, help="per fault mode")
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cbfaults_"))
    url = f"sqlite:///{tmp / 'faults.db'}"
    base = f"http://127.0.0.1:{args.port}"
    env = {**os.environ, "CHARGEBOOK_DATABASE_URL": url, "CHARGEBOOK_PUBLIC_URL": base,
           "CHARGEBOOK_WORKER_INTERVAL_SECONDS": "0.2", "CHARGEBOOK_COMMAND_RETRY_BASE_SECONDS": "0.5"}
    upgrade(url)
    sim = SimulatorServer(SimConfig(locations=len(MODES) * args.bookings // 2 + 20, seed=9, reservable_share=1.0,
                                    commands=CommandRules(timeout_seconds=5),
                                    driver=DriverRules(arrive_after_seconds=1, session_seconds=2, session_kwh=10)))
    sim.start()
    procs = [subprocess.Popen([sys.executable, "-m", "chargebook.cli", "serve", "--port", str(args.port)], env=env),
             subprocess.Popen([sys.executable, "-m", "chargebook.cli", "worker"], env=env)]
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)

        async def setup() -> tuple[str, list[tuple[str, str]]]:
            db = Database(url)
            try:
                me = ocpi_parties.Identity("DE", "CBK", "chargebook", base)
                party = await ocpi_parties.connect(db, sim.versions_url, sim.token_a, me, None)
                await ocpi_catalogue.sync_party(db, party)
                _, key = await create_client(db, "faults", reservation_fee=Decimal("1"))
                from sqlalchemy import select

                from chargebook.db.models import Evse, Location
                async with db.read() as session:
                    rows = (await session.execute(select(Location.id, Evse.uid).join(Evse, Evse.location_pk == Location.pk)
                            .where(Evse.reservable.is_(True), Evse.status == "AVAILABLE"))).all()
                return key, [tuple(r) for r in rows]  # type: ignore[misc]
            finally:
                await db.dispose()

        key, evses = asyncio.run(setup())
        http = httpx.Client(base_url=f"{base}/api/v1/client", headers={"X-API-Key": key}, timeout=30)
        admin = httpx.Client(base_url=sim.url, timeout=10)
        results: dict[str, collections.Counter[str]] = {}
        slot = 0
        for mode, change in MODES.items():
            admin.post("/sim/config", json=CLEAR).raise_for_status()
            if change:
                admin.post("/sim/config", json=change).raise_for_status()
            ids = []
            for _ in range(args.bookings):
                loc, uid = evses[slot % len(evses)]
                start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=20, hours=2 * (slot // len(evses)))
                slot += 1
                r = http.post("/bookings", json={"location_id": loc, "evse_uid": uid,
                                                 "reservation_start": start.isoformat(),
                                                 "reservation_end": (start + timedelta(hours=1)).isoformat()})
                if r.status_code == 202:
                    ids.append(r.json()["id"])
            deadline = time.monotonic() + 60
            final: dict[str, str] = {}
            while time.monotonic() < deadline and len(final) < len(ids):
                for booking_id in ids:
                    if booking_id in final:
                        continue
                    b = http.get(f"/bookings/{booking_id}").json()
                    if b["status"] in ("COMPLETED", "CANCELLED", "EXPIRED", "NO_SHOW"):
                        final[booking_id] = f"{b['status']}/{b['status_reason']}"
                time.sleep(0.5)
            for booking_id in ids:
                final.setdefault(booking_id, "STILL " + http.get(f"/bookings/{booking_id}").json()["status"])
            results[mode] = collections.Counter(final.values())
            print(f"{mode:<30} {dict(results[mode])}", flush=True)
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=20)
        sim.stop()


if __name__ == "__main__":
    main()
