"""A full catalogue pull from the CPO simulator, timed, with the puller's peak memory.

Starts `chargebook serve` on a fresh database and `chargebook cpo-sim --no-push` with N
locations (the simulator does not push after registering, so only the pull fills the
catalogue), then runs `chargebook ocpi connect` as its own process: registration, then the
pull of every page. Prints the pull's duration, locations/s and the connect process's peak
RSS. Beside it, in the same run, the baseline: the same catalogue shape bulk-loaded straight
into a fresh database with bench/search.py's loader (no HTTP, no validation).

    python bench/sync.py                          # PostgreSQL, 100,000 locations
    python bench/sync.py --locations 20000 --db sqlite
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).parent))
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bookings import wait_ready  # noqa: E402
from common import drop_database, free_port, make_database  # noqa: E402


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "chargebook.cli", *args]


def start_simulator(locations: int, seed: int, log: Path) -> tuple[subprocess.Popen, str, str]:
    out = open(log, "w")  # noqa: SIM115
    sim = subprocess.Popen(
        _cli("cpo-sim", "--port", "0", "--locations", str(locations), "--seed", str(seed),
             "--no-push", "--no-admin"),
        stdout=out, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        text = log.read_text()
        url, token = re.search(r"versions URL\s*:\s*(\S+)", text), re.search(r"token A\s*:\s*(\S+)", text)
        if url and token:
            return sim, url.group(1), token.group(1)
        if sim.poll() is not None:
            raise RuntimeError("simulator exited:\n" + text)
        time.sleep(0.2)
    raise RuntimeError("simulator did not start")


def pull(url: str, versions_url: str, token_a: str, base: str, log: Path,
         profile: bool = False) -> tuple[float, float, str]:
    """`chargebook ocpi connect` as a process: (seconds, its peak RSS in MiB, its output)."""
    env = {**os.environ, "CHARGEBOOK_DATABASE_URL": url, "CHARGEBOOK_PUBLIC_URL": base}
    cmd = _cli("ocpi", "connect", versions_url, "--token-a", token_a)
    if profile:
        cmd = [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(log.with_suffix(".prof")),
               *cmd[1:]]
    t0 = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - t0
    output = log.read_text()
    if returncode:
        raise RuntimeError(output)
    if profile:
        print(log.with_suffix(".prof").read_text()[:15000])
    return elapsed, usage.ru_maxrss / 1024, output


def baseline(kind: str, tmp: Path, locations: int, seed: int) -> float:
    """bench/search.py's bulk loader for the same catalogue: locations/s."""
    from search import CHUNK, chunks, rows_for
    from sqlalchemy import create_engine, insert

    from chargebook.cpo_sim.catalogue import generate_locations
    from chargebook.db.engine import json_deserializer, json_serializer, sync_url
    from chargebook.db.migrate import upgrade
    from chargebook.db.models import Connector, Evse, Location, Party

    url = make_database(kind, tmp, "syncbase")
    try:
        upgrade(url)
        engine = create_engine(sync_url(url), json_serializer=json_serializer,
                               json_deserializer=json_deserializer)
        from datetime import UTC, datetime

        with engine.begin() as conn:
            conn.execute(insert(Party), [{"id": "cpo_base", "country_code": "DE", "party_id": "SIM",
                                          "name": "base", "max_reservation_minutes": 240,
                                          "created_at": datetime.now(UTC)}])
        next_pk = {"location": 0, "evse": 0, "connector": 0}
        t0 = time.perf_counter()
        with engine.connect() as conn:
            for batch in chunks(generate_locations(locations, seed=seed), CHUNK):
                locs, evses, conns = rows_for(batch, "cpo_base", next_pk)
                conn.execute(insert(Location), locs)
                conn.execute(insert(Evse), evses)
                conn.execute(insert(Connector), conns)
                conn.commit()
        elapsed = time.perf_counter() - t0
        engine.dispose()
        return locations / elapsed
    finally:
        drop_database(kind, url)


def run(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cbsync_"))
    url = make_database(args.db, tmp, "sync")
    sim = server = None
    try:
        env = {**os.environ, "CHARGEBOOK_DATABASE_URL": url, "CHARGEBOOK_LOG_REQUESTS": "false"}
        port = free_port()
        server = subprocess.Popen(_cli("serve", "--port", str(port)), env=env,
                                  stdout=open(tmp / "server.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, server, timeout=120)
        t0 = time.perf_counter()
        sim, versions_url, token_a = start_simulator(args.locations, args.seed, tmp / "sim.log")
        sim_start = time.perf_counter() - t0
        seconds, peak, output = pull(url, versions_url, token_a, base, tmp / "connect.log", args.profile)
        synced = re.search(r"synced:\s+(\d+) locations.*?in ([0-9.]+) s", output)
        pulled, pull_seconds = (int(synced.group(1)), float(synced.group(2))) if synced else (0, seconds)
    finally:
        for proc in (sim, server):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=60)
        drop_database(args.db, url)
    base_rate = baseline(args.db, tmp, args.locations, args.seed) if args.baseline else float("nan")
    return {
        "db": args.db, "locations": pulled, "simulator_start_s": round(sim_start, 1),
        "connect_s": round(seconds, 1), "pull_s": round(pull_seconds, 1),
        "locations_per_s": round(pulled / pull_seconds) if pull_seconds else None,
        "connect_peak_rss_mib": round(peak, 1),
        "baseline_bulk_load_locations_per_s": round(base_rate),
        "ratio": round(pulled / pull_seconds / base_rate, 3) if pull_seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="the connect process under pyinstrument")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    print(json.dumps(run(parser.parse_args())))


if __name__ == "__main__":
    main()
