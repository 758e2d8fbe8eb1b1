"""Prometheus metrics, defined in one place so every layer records into the same names.

Counters and histograms live in the process that observes them (the API processes, the
workers); `api/` exposes them at `/metrics`. Figures that are facts about the database
(bookings by status, webhook deliveries waiting, worker heartbeats) are read from it at
scrape time, so every API process reports the same numbers whichever one is scraped.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
WORKER_LOOP_LAG = Gauge(
    "chargebook_worker_loop_lag_seconds",
    "How late the last worker pass started after it was due.",
    multiprocess_mode="max",
)
WORKER_PASS_SECONDS = Histogram(
    "chargebook_worker_pass_duration_seconds",
    "Time one worker pass (every loop once) took.",
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
