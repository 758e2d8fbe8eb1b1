"""For the operator, not the client API: `/healthz`, `/readyz`, `/metrics` (no key needed).

* `/healthz`: the process is up (liveness).
* `/readyz`: the database answers and its schema is at this release's Alembic head; otherwise
  503 with every check and why it failed (readiness). The worker heartbeat is reported beside
  them and decides only with `CHARGEBOOK_READINESS_REQUIRES_WORKER=true`.
* `/metrics`: Prometheus text exposition: what the API processes recorded (summed over all
  of them under `serve --workers N`), plus figures read from the database now.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, Literal

import structlog
from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from chargebook import metrics
from chargebook.api.wire import JSON
from chargebook.db.engine import Database
from chargebook.services import operations, webhook_deliveries
from chargebook.services.clock import utcnow

router = APIRouter(tags=["operations"])
log = structlog.get_logger("chargebook.api")


class Health(BaseModel):
    status: Literal["ok"] = Field(description="Always `ok`: the process answers.", examples=["ok"])


class ReadinessCheck(BaseModel):
    """One readiness check."""

    ok: bool = Field(description="Whether the check passed.", examples=[True])
    detail: str = Field(description="What was found, or why the check failed.", examples=["reachable"])


class WorkerCheck(ReadinessCheck):
    """The worker heartbeat, reported whether or not readiness depends on it."""

    heartbeat_age_seconds: float | None = Field(
        description="Seconds since the newest worker heartbeat; null when no worker has reported "
                    "(or the database could not be read).", examples=[0.8])
    fresh: bool = Field(description="Whether that heartbeat is younger than "
                                    "`CHARGEBOOK_WORKER_HEARTBEAT_STALE_SECONDS`.", examples=[True])
    required: bool = Field(description="Whether readiness depends on it "
                                       "(`CHARGEBOOK_READINESS_REQUIRES_WORKER`).", examples=[False])


class ReadinessChecks(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    database: ReadinessCheck = Field(description="A `SELECT 1` answers within 3 s.")
    schema_: ReadinessCheck = Field(alias="schema", description="The database is at this release's Alembic head "
                                                       "(or a newer release's).")
    worker: WorkerCheck = Field(description="The newest worker heartbeat. `ok` is false only when "
                                   "readiness requires a worker and no heartbeat is fresh.")


class Readiness(BaseModel):
    """Every check, so a 503 says which one failed and why."""

    status: Literal["ready", "not ready"] = Field(
        description="`ready` (200) when every check passes, else `not ready` (503).", examples=["ready"])
    checks: ReadinessChecks = Field(description="Each check's outcome.")


METRICS_EXAMPLE = """\
# HELP chargebook_http_requests_total HTTP requests answered.
# TYPE chargebook_http_requests_total counter
chargebook_http_requests_total{method="GET",route="/api/v1/client/bookings/{booking_id}",status="200"} 42.0
"""


@router.get("/healthz", response_model=Health, summary="The process is up",
            responses={200: {"description": "The process answers (liveness)."}})
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Ready to serve: database reachable, schema current (the worker heartbeat is reported)",
    responses={
        200: {"description": "Ready: every check passed."},
        503: {"model": Readiness, "description": "Not ready; `checks` says which check failed and why."},
    },
)
async def readyz(request: Request) -> JSON:
    state = request.app.state
    checks = await operations.readiness(state.db, state.readiness, utcnow())
    ready = all(c.ok for c in checks)
    body = {"status": "ready" if ready else "not ready",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail, **(c.facts or {})} for c in checks}}
    return JSON(body, status_code=200 if ready else 503)


# Figures read from the database at scrape time. Each reader returns metric families; add one
# here for another table worth watching.
FigureReader = Callable[[Database, datetime], Awaitable[Iterable[Any]]]


async def _core_figures(db: Database, now: datetime) -> list[Any]:
    figures = await operations.operational_figures(db, now)
    live = GaugeMetricFamily(metrics.LIVE_BOOKINGS, "Bookings in each live status now.", labels=["status"])
    for status, count in figures.live_bookings.items():
        live.add_metric([status], count)
    labels = ["worker", "hostname", "pid"]
    age = GaugeMetricFamily(metrics.WORKER_HEARTBEAT_AGE,
                            "Seconds since each worker's last heartbeat (a dead worker's keeps growing "
                            "until it is pruned).", labels=labels)
    last_pass = GaugeMetricFamily(metrics.WORKER_LAST_PASS,
                                  "Duration of each worker's last pass, as it reported.", labels=labels)
    lag = GaugeMetricFamily(metrics.WORKER_LAG,
                            "How late each worker's latest pass started, as it reported.", labels=labels)
    newest = min((w.age_seconds for w in figures.workers), default=math.inf)
    freshest = GaugeMetricFamily(metrics.WORKER_NEWEST_HEARTBEAT_AGE,
                                 "Seconds since the newest heartbeat of any worker (+Inf when none has "
                                 "reported): alert when it passes a few worker intervals.", value=newest)
    for w in figures.workers:
        key = [w.id, w.hostname, str(w.pid)]
        age.add_metric(key, w.age_seconds)
        if w.last_pass_seconds is not None:
            last_pass.add_metric(key, w.last_pass_seconds)
        if w.lag_seconds is not None:
            lag.add_metric(key, w.lag_seconds)
    return [live, age, last_pass, lag, freshest]


async def _webhook_figures(db: Database, now: datetime) -> list[Any]:
    figures = await webhook_deliveries.delivery_figures(db, now)
    return [
        GaugeMetricFamily(metrics.WEBHOOK_PENDING, "Webhook deliveries waiting for their first or "
                          "next attempt.", value=figures.pending),
        GaugeMetricFamily(metrics.WEBHOOK_OLDEST_PENDING, "Age of the oldest webhook delivery still "
                          "waiting (0 when none is): a receiver that is down makes it grow.",
                          value=figures.oldest_pending_seconds),
        GaugeMetricFamily(metrics.WEBHOOK_GIVEN_UP, "Webhook deliveries given up after their retry "
                          "budget, still listed at GET /webhooks/{id}/deliveries.", value=figures.given_up),
    ]


FIGURE_READERS: list[FigureReader] = [_core_figures, _webhook_figures]


class _Families(Collector):
    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> Iterable[Any]:
        return self.families


@router.get(
    "/metrics", summary="Prometheus metrics (text exposition format)", response_class=Response,
    responses={200: {
        "description": "Every metric in the Prometheus text exposition format.",
        "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}, "example": METRICS_EXAMPLE}},
    }},
)
async def prometheus_metrics(request: Request) -> Response:
    db: Database = request.app.state.db
    now = utcnow()
    families: list[Any] = []
    ok = 1
    for read in FIGURE_READERS:
        try:
            families.extend(await read(db, now))
        except Exception:  # a scrape still reports what the processes recorded
            log.exception("reading metrics from the database failed")
            ok = 0
    families.append(GaugeMetricFamily(metrics.DATABASE_FIGURES_OK,
                                      "1 when this scrape could read its figures from the database.", value=ok))
    from_database = CollectorRegistry(auto_describe=False)
    from_database.register(_Families(families))
    body = generate_latest(metrics.collecting_registry()) + generate_latest(from_database)
    return Response(body, media_type=CONTENT_TYPE_LATEST)

