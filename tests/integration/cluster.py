"""chargebook as an operator runs it: real OS processes against one PostgreSQL.

`chargebook serve --workers N` (one port), any number of `chargebook worker` processes and a
CPO simulator (`chargebook cpo-sim`), all started as the operator would, with settings in
`CHARGEBOOK_*` variables. The one-off set-up steps (migrations, the OCPI handshake and first
sync that `chargebook ocpi connect` runs, a client key) call the same services from this
process, which saves three interpreter start-ups. Used by tests/integration/test_scaleout.py
and by bench/scaleout.py (which prints the numbers of a kill -9 run).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

FINAL = {"COMPLETED", "CANCELLED", "EXPIRED", "NO_SHOW"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], Any], seconds: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = condition()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(every)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    database_url: str
    tmp: Path
    api_workers: int = 2
    worker_interval: float = 0.2
    sim_locations: int = 40
    api_port: int = field(default_factory=free_port)
    sim_port: int = field(default_factory=free_port)
    token_a: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    processes: list[Process] = field(default_factory=list)
    key: str = ""

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def sim(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "CHARGEBOOK_DATABASE_URL": self.database_url,
            "CHARGEBOOK_PUBLIC_URL": self.api,
            "CHARGEBOOK_WORKER_INTERVAL_SECONDS": str(self.worker_interval),
            "CHARGEBOOK_COMMAND_RETRY_BASE_SECONDS": "0.5",
            # A dead sender's commands are sent again after this + 5 s (the lease).
            "CHARGEBOOK_COMMAND_SEND_TIMEOUT_SECONDS": "6",
            "CHARGEBOOK_LOG_REQUESTS": "false",
            "COLUMNS": "200",
            **extra,
        }

    # --- processes ---------------------------------------------------------------------------

    def spawn(self, name: str, *args: str, **env: str) -> Process:
        log = self.tmp / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "chargebook.cli", *args], env=self.env(**env),
                stdout=out, stderr=subprocess.STDOUT, cwd=self.tmp,
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start(self, workers: int = 2, worker_metrics_port: int | None = None) -> Cluster:
        """Migrate; start the API, the simulator and the workers together; register with the
        simulator and make a client key once the API answers."""
        from chargebook.db.migrate import upgrade

        upgrade(self.database_url)  # what `chargebook db upgrade` does
        self.spawn("api", "serve", "--port", str(self.api_port), "--workers", str(self.api_workers))
        self.spawn("cpo-sim", "cpo-sim", "--port", str(self.sim_port), "--token-a", self.token_a,
                   "--locations", str(self.sim_locations), "--seed", "3", "--arrive-after", "0.3",
                   "--session-seconds", "0.8", "--session-kwh", "6", "--command-timeout", "30")
        for n in range(workers):
            self.start_worker(metrics_port=worker_metrics_port if n == 0 else None)
        wait_until(lambda: httpx.get(f"{self.sim}/sim/state").status_code == 200, 90, "the simulator")
        httpx.post(f"{self.sim}/sim/config", json={
            "commands": {"result_delay_seconds": 0.05},
            "driver": {"meter_interval_seconds": 0.3},
        }).raise_for_status()
        wait_until(lambda: httpx.get(f"{self.api}/healthz").status_code == 200, 90, "the API")
        self.key = asyncio.run(self._register_and_make_key())
        return self

    async def _register_and_make_key(self) -> str:
        """What `chargebook ocpi connect VERSIONS_URL --token-a T` and `chargebook clients
        create NAME` do."""
        from chargebook.db.engine import Database
        from chargebook.services import ocpi_catalogue, ocpi_parties
        from chargebook.services.clients import create_client

        db = Database(self.database_url, pool_size=2)
        try:
            me = ocpi_parties.Identity("DE", "CBK", "chargebook", self.api)
            party = await ocpi_parties.connect(db, f"{self.sim}/ocpi/cpo/versions", self.token_a, me,
                                               "Simulated CPO")
            await ocpi_catalogue.sync_party(db, party)
            _, key = await create_client(
                db, "Scale-out test", rate_limit_per_minute=1_000_000, monthly_quota=100_000_000
            )
            return key
        finally:
            await db.dispose()

    def start_worker(self, metrics_port: int | None = None) -> Process:
        args = ["worker"] + (["--metrics-port", str(metrics_port)] if metrics_port else [])
        return self.spawn(f"worker-{len(self.processes)}", *args)

    def workers(self) -> list[Process]:
        return [p for p in self.processes if p.name.startswith("worker-") and p.popen.poll() is None]

    def busy_worker(self, want: int = 3, patience: float = 10) -> tuple[Process, int]:
        """A worker with commands in flight (claimed, not answered): one with ``want`` if that
        happens within ``patience`` seconds, else the first with any. Returns it and the count."""
        since = time.monotonic()

        def busy() -> tuple[Process, int] | None:
            enough = want if time.monotonic() - since < patience else 1
            for worker in self.workers():
                n = in_flight_of(self.database_url, worker.pid)
                if n >= enough:
                    return worker, n
            return None

        return wait_until(busy, patience + 50, "a worker with commands in flight", every=0.02)  # type: ignore[no-any-return]

    def kill(self, process: Process, sig: int = signal.SIGKILL) -> None:
        os.kill(process.pid, sig)
        process.popen.wait(timeout=30)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=10)

    # --- the client's side -------------------------------------------------------------------

    def http(self) -> httpx.Client:
        # No keep-alive: each call opens a connection, so calls spread over the API processes.
        return httpx.Client(base_url=f"{self.api}/api/v1/client", headers={"X-API-Key": self.key},
                            timeout=30, limits=httpx.Limits(max_keepalive_connections=0))

    def bookable(self, n: int) -> list[tuple[str, str]]:
        rows = httpx.get(f"{self.sim}/sim/evses", params={"capability": "RESERVABLE", "status": "AVAILABLE"}).json()
        found = [(r["location_id"], r["evse_uid"]) for r in rows]
        assert len(found) >= n, f"the simulator has only {len(found)} bookable EVSEs"
        return found[:n]

    def book(self, http: httpx.Client, evses: list[tuple[str, str]], prefix: str) -> dict[str, str]:
        """One booking per EVSE, each with its own X-Request-ID; returns booking id → request id."""
        start = (datetime.now(UTC) + timedelta(minutes=20)).replace(microsecond=0)
        window = {"reservation_start": start.isoformat().replace("+00:00", "Z"),
                  "reservation_end": (start + timedelta(hours=1)).isoformat().replace("+00:00", "Z")}
        made = {}
        for n, (location_id, evse_uid) in enumerate(evses):
            request_id = f"{prefix}-{n:03d}"
            r = http.post("/bookings", headers={"X-Request-ID": request_id},
                          json={"location_id": location_id, "evse_uid": evse_uid, **window})
            assert r.status_code == 202, r.text
            assert r.headers["X-Request-ID"] == request_id
            made[r.json()["id"]] = request_id
        return made

    def wait_final(self, http: httpx.Client, booking_ids: list[str], seconds: float) -> dict[str, dict[str, Any]]:
        done: dict[str, dict[str, Any]] = {}

        def all_final() -> bool:
            for booking_id in booking_ids:
                if booking_id not in done:
                    booking = http.get(f"/bookings/{booking_id}").json()
                    if booking["status"] in FINAL:
                        done[booking_id] = booking
            return len(done) == len(booking_ids)

        try:
            wait_until(all_final, seconds, "every booking to reach a final state", every=0.3)
        except TimeoutError:
            pass  # the caller reports what did not finish
        for booking_id in booking_ids:
            done.setdefault(booking_id, http.get(f"/bookings/{booking_id}").json())
        return done

    # --- what the CPO saw --------------------------------------------------------------------

    def cpo_commands(self, command: str) -> list[dict[str, Any]]:
        return [c for c in httpx.get(f"{self.sim}/sim/commands").json() if c["command"] == command]

    def reservations(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.sim}/sim/reservations").json()  # type: ignore[no-any-return]


@dataclass
class Tally:
    """A run's numbers: bookings, their final states, and what reached the CPO."""

    started: int
    final: Counter[str]
    reserve_now_sent: int
    distinct_reservations: int
    duplicate_sends: int
    history_ok: int
    resent_after_lease: int = 0

    def lines(self) -> list[str]:
        states = ", ".join(f"{k} {v}" for k, v in sorted(self.final.items()))
        return [
            f"bookings started         {self.started}",
            f"finished, by state       {states}",
            f"history, each step once  {self.history_ok} of {self.started}",
            f"RESERVE_NOW sent         {self.reserve_now_sent} (raw calls received by the CPO)",
            f"distinct reservations    {self.distinct_reservations}",
            f"duplicates at the CPO    {self.duplicate_sends}",
            f"resent after lease       {self.resent_after_lease} (commands whose sender died before recording)",
        ]


def tally(cluster: Cluster, bookings: dict[str, dict[str, Any]], resent_after_lease: int = 0) -> Tally:
    sends = Counter(c["request"]["reservation_id"] for c in cluster.cpo_commands("RESERVE_NOW"))
    mine = {b: sends.get(b, 0) for b in bookings}
    distinct = {r["reservation_id"] for r in cluster.reservations()} & set(bookings)
    history_ok = sum(1 for b in bookings.values() if _each_step_once(b))
    return Tally(
        started=len(bookings),
        final=Counter(b["status"] for b in bookings.values()),
        reserve_now_sent=sum(mine.values()),
        distinct_reservations=len(distinct),
        duplicate_sends=sum(n - 1 for n in mine.values() if n > 1),
        history_ok=history_ok,
        resent_after_lease=resent_after_lease,
    )


def _each_step_once(booking: dict[str, Any]) -> bool:
    steps = [h["to_status"] for h in booking["status_history"]]
    return steps == ["REQUESTED", "PENDING", "CONFIRMED", "ATTENDING", "COMPLETED"]


def resent_after_lease(database_url: str, booking_ids: list[str]) -> int:
    """Commands of these bookings sent more than once (attempts > 1): a lease ran out."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM ocpi_commands WHERE booking_id = ANY(%s) AND attempts > 1",
                           (booking_ids,)).fetchone()
    return int(row[0]) if row else 0


def in_flight_of(database_url: str, pid: int) -> int:
    """Commands claimed by the worker process ``pid`` and not yet answered."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM ocpi_commands c JOIN worker_heartbeats w ON w.id = c.claimed_by "
            "WHERE w.pid = %s AND c.state = 'sending'", (pid,)).fetchone()
    return int(row[0]) if row else 0
