"""The app factory: one place where the client API is assembled and its routers mounted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI

from chargebook import __version__, metrics
from chargebook.api import docs_ui, errors, openapi, rate_limits
from chargebook.api.http_metrics import HttpMetrics
from chargebook.api.middleware import RequestId, refuse_client_body
from chargebook.api.routers import billing, bookings, fleet, operations, search, usage, webhooks
from chargebook.console.app import MOUNT as CONSOLE_MOUNT
from chargebook.console.app import create_console
from chargebook.db.engine import Database
from chargebook.db.migrate import script_revisions
from chargebook.http_edge import BodyLimit
from chargebook.logs import configure as configure_logs
from chargebook.ocpi_api.app import MOUNT as OCPI_MOUNT
from chargebook.ocpi_api.app import create_ocpi_app, ocpi_mount
from chargebook.services.bookings import BookingPolicy
from chargebook.services.operations import ReadinessRules
from chargebook.services.tokens import Issuer
from chargebook.settings import Settings

CLIENT_BASE = "/api/v1/client"

DESCRIPTION = """
Book a specific EV charger (EVSE) for a time window, across charge point operators (CPOs).

chargebook is an eMSP: it holds the tokens, talks OCPI to each CPO, runs the booking
lifecycle and prices and bills every booking. This API is wire-compatible with the EV Suite
client booking API: an EV Suite integration works after changing the base URL and the key.

**Flow.** `GET /search` near a point (with a window, only free EVSEs are listed) →
`POST /bookings` (202, status `REQUESTED`) → poll `GET /bookings/{id}` every 5 s until
`CONFIRMED` → the driver arrives (`ATTENDING`) → `COMPLETED`, priced from the CPO's CDR.

**Authentication.** Every endpoint takes your key as `X-API-Key: <key>` or as
`Authorization: Bearer <key>`; the two are equivalent. A missing or unknown key is 401, a
suspended client 403. A client sees only its own data: another client's id answers 404.

**Errors.** Every error body is the `Error` schema, `{"error": "<message>"}`, and the message
names the field at fault. Invalid input is **400** (never 422); 409 is a conflict with the
current state; 429 a rate limit (with `Retry-After`); 503 a busy database (with `Retry-After`,
nothing applied).

**Rate limits.** Per client, 100 requests a minute (sliding) and 10,000 a month by default.
Responses carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`, always
about the per-minute window, and `X-Quota-Limit`, `X-Quota-Remaining`, `X-Quota-Reset` for the
monthly quota.

**Conventions.** Timestamps are ISO 8601 and written in UTC with a `Z`; money is a JSON number
in major units (`18.75`) beside a currency field; `X-Request-ID` is echoed on every response.
"""

#: The document's sections, in the order the docs UI shows them. A new router's tag goes here.
TAGS = [
    {"name": "search", "description": "Bookable chargers near a point, with price estimates."},
    {"name": "bookings", "description": "Book an EVSE for a window, follow its lifecycle, cancel "
                                        "it, start and stop charging."},
    {"name": "customers", "description": "Your drivers and their tokens (`driver_token` bookings)."},
    {"name": "fleet groups", "description": "Pooled vehicles with shared tokens and spending limits "
                                            "(`group_token` bookings)."},
    {"name": "billing", "description": "Monthly statements and the EV Suite fleet export."},
    {"name": "usage", "description": "Your rate limit and monthly quota, as the `X-RateLimit-*` "
                                     "and `X-Quota-*` headers report them."},
    {"name": "webhooks", "description": "Endpoints that receive every booking status change as a "
                                        "signed event, with each delivery's attempts."},
    {"name": "operations", "description": "For operators and load balancers; no key needed."},
]


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    configure_logs(settings)
    owns_db = db is None
    database = db or Database(settings.database_url, pool_size=settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics.forget_dead_processes()
        yield
        metrics.mark_this_process_dead()
        await app.state.limiter.close()
        if owns_db:
            await database.dispose()

    app = FastAPI(
        title="chargebook client API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by docs_ui
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = database
    issuer = Issuer(settings.ocpi_country_code, settings.ocpi_party_id, settings.token_issuer)
    app.state.issuer = issuer
    app.state.policy = BookingPolicy(
        min_lead=timedelta(minutes=settings.min_lead_minutes),
        max_horizon=timedelta(days=settings.max_booking_horizon_days),
        issuer=issuer,
    )
    head, known = script_revisions()  # once per process: this release's schema
    app.state.readiness = ReadinessRules(
        head=head,
        known=known,
        worker_stale_after=timedelta(seconds=settings.worker_stale_after()),
        require_worker=settings.readiness_requires_worker,
    )
    errors.install(app)
    openapi.install(app, TAGS)
    docs_ui.install(app)

    client_api = APIRouter(prefix=CLIENT_BASE)
    client_api.include_router(search.router)
    client_api.include_router(bookings.router)
    client_api.include_router(fleet.router)
    client_api.include_router(billing.router)
    client_api.include_router(usage.router)
    client_api.include_router(webhooks.router)
    app.include_router(client_api)
    app.include_router(billing.fleet_router, prefix="/api/v1/fleet")

    # OCPI 2.2.1 and 2.3.0, eMSP side: CPOs talk to us here. An application of its own, with
    # its own error handlers (OCPI envelopes) and body limit; not part of the client API's docs.
    app.router.routes.append(ocpi_mount(create_ocpi_app(settings, app.state)))

    app.include_router(operations.router)  # /healthz, /readyz, /metrics: no key, tag "operations"

    limiter = rate_limits.install(app, settings, database)
    # The console: server-rendered pages for operators and client users (its own errors and
    # security headers; it shares this process's database and rate-limit backend).
    app.mount(CONSOLE_MOUNT, create_console(settings, database, limiter, issuer))
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, refuse=refuse_client_body, exempt=OCPI_MOUNT
    )
    app.add_middleware(RequestId)
    app.add_middleware(HttpMetrics, log_requests=settings.log_requests)
    return app
