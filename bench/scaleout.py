"""A worker killed with SIGKILL mid-flight: what was started, how it ended, what the CPO got.

Starts, as separate processes on a fresh PostgreSQL database, `chargebook serve --workers 2`,
`--workers` `chargebook worker`s and the CPO simulator (the same harness as
tests/integration/test_scaleout.py). Books one EVSE per booking over HTTP while every
command call takes `--latency` seconds at the CPO, kills a worker that has commands in
flight with SIGKILL, starts a replacement, waits for every booking to end, and prints:
bookings started, finished by state, RESERVE_NOW calls the CPO received, distinct
reservations, duplicates at the CPO, and commands sent again after their lease ran out.

    python bench/scaleout.py
    python bench/scaleout.py --bookings 60 --workers 3 --latency 2
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the harness lives with the tests
sys.path.insert(0, str(Path(__file__).parent))

import httpx
from common import drop_database, make_database
from tests.integration.cluster import Cluster, resent_after_lease, tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="chargebook worker processes before the kill")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds each command call takes at the CPO")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cbscaleout_"))
    url = make_database("postgresql", tmp, "scaleout")
    cluster = Cluster(url, tmp, sim_locations=max(40, args.bookings * 2))
    started = time.monotonic()
    try:
        cluster.start(workers=args.workers)
        httpx.post(f"{cluster.sim}/sim/config",
                   json={"faults": {"latency_seconds": args.latency, "paths": ["/commands/"]}}).raise_for_status()
        with cluster.http() as http:
            made = cluster.book(http, cluster.bookable(args.bookings), "bench")
            victim, in_flight = cluster.busy_worker()
            killed_at = time.monotonic()
            cluster.kill(victim, signal.SIGKILL)
            cluster.start_worker()
            bookings = cluster.wait_final(http, list(made), seconds=180)
            settled = time.monotonic() - killed_at
        numbers = tally(cluster, bookings, resent_after_lease(url, list(made)))
        print(f"kill -9 of one of {args.workers} workers mid-flight "
              f"({args.latency:g} s per command call at the CPO)")
        print(f"commands in flight at kill {in_flight}")
        for line in numbers.lines():
            print(line)
        print(f"all final after the kill  {settled:.1f} s (lease: send timeout 6 s + 5 s)")
        print(f"whole run                 {time.monotonic() - started:.1f} s")
    finally:
        cluster.stop()
        drop_database("postgresql", url)


if __name__ == "__main__":
    main()
