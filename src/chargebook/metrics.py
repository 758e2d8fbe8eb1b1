"""Prometheus metrics, defined in one place so every layer records into the same names.

Counters and histograms live in the process that observes them (the API processes, the
workers); `api/` exposes them at `/metrics`. Figures that are facts about the database
(bookings by status, webhook deliveries waiting, worker heartbeats) are read from it at
scrape time, so every API process reports the same numbers whichever one is scraped.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    values,
)

HTTP_REQUESTS = Counter(
    "chargebook_http_requests_total",
    "HTTP requests answered, by route template and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "chargebook_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OCPI_CALLS = Counter(
    "chargebook_ocpi_calls_total",
    "Outbound OCPI calls, by CPO party, module and outcome.",
    ["party", "module", "outcome"],
)
OCPI_LATENCY = Histogram(
    "chargebook_ocpi_call_duration_seconds",
    "Time an outbound OCPI call took, by CPO party and module.",
    ["party", "module"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
OCPI_REJECTED_ITEMS = Counter(
    "chargebook_ocpi_rejected_items_total",
    "Items a CPO sent that could not be used (skipped or treated as no answer), by CPO party, "
    "OCPI module and reason.",
    ["party", "module", "reason"],
)
WORKER_LOOP_LAG = Gauge(
    "chargebook_worker_loop_lag_seconds",
    "How late the worker's last heartbeat was after it was due (a starved or blocked process).",
    multiprocess_mode="max",
)
WORKER_PASS_SECONDS = Histogram(
    "chargebook_worker_pass_duration_seconds",
    "Time one pass of a worker loop took, by loop.",
    ["loop"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
WEBHOOK_DELIVERIES = Counter(
    "chargebook_webhook_delivery_attempts_total",
    "Webhook delivery attempts, by outcome (delivered, failed, gave_up).",
    ["outcome"],
)
RATE_LIMITED = Counter(
    "chargebook_rate_limited_total",
    "Client requests refused with 429, by which limit refused them (minute, month).",
    ["limit"],
)


# --- read from the database at scrape time (api/routers/operations.py), not recorded here ----

LIVE_BOOKINGS = "chargebook_live_bookings"
WORKER_HEARTBEAT_AGE = "chargebook_worker_heartbeat_age_seconds"
WORKER_NEWEST_HEARTBEAT_AGE = "chargebook_worker_newest_heartbeat_age_seconds"
WORKER_LAST_PASS = "chargebook_worker_heartbeat_pass_seconds"
WORKER_LAG = "chargebook_worker_heartbeat_lag_seconds"
DATABASE_FIGURES_OK = "chargebook_database_figures_ok"
WEBHOOK_PENDING = "chargebook_webhook_deliveries_pending"
WEBHOOK_OLDEST_PENDING = "chargebook_webhook_oldest_pending_age_seconds"
WEBHOOK_GIVEN_UP = "chargebook_webhook_deliveries_given_up"


# --- several processes, one set of numbers (prometheus_client's multiprocess mode) ----------
#
# ``chargebook serve --workers N`` runs N API processes; a scrape reaches one of them, so each
# records into files of its own under PROMETHEUS_MULTIPROC_DIR and every scrape adds up all
# the files. prometheus_client picks its storage when it is imported, from that variable (it
# is prometheus_client's setting, not ours), so `serve` sets it before the processes start.


def multiprocess_mode() -> bool:
    """True when this process records into PROMETHEUS_MULTIPROC_DIR's files."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def collecting_registry() -> CollectorRegistry:
    """What a scrape reports: every process's files in multiprocess mode, else this process."""
    if not multiprocess_mode():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def prepare_multiprocess_dir(path: Path) -> None:
    """Start from an empty directory: numbers left by an earlier run would be added in."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def forget_dead_processes() -> None:
    """Drop the live-gauge files of processes that are gone (uvicorn restarts a crashed API
    process with a new pid); their counters stay, as counters must."""
    if not multiprocess_mode():
        return
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    pids = {f.stem.rsplit("_", 1)[-1] for f in directory.glob("*.db")}
    for pid in (int(p) for p in pids if p.isdigit()):
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, str(directory))


def mark_this_process_dead() -> None:
    if multiprocess_mode():
        multiprocess.mark_process_dead(os.getpid())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
