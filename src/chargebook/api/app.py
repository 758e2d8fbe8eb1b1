"""The app factory: one place where the client API is assembled and its routers mounted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI

from chargebook import __version__
from chargebook.api import errors, rate_limits
from chargebook.api.middleware import BodyLimit, RequestId
from chargebook.logs import configure as configure_logs
from chargebook.api.routers import billing, bookings, fleet, search, usage
from chargebook.db.engine import Database
from chargebook.ocpi.emsp import credentials as ocpi_credentials
from chargebook.ocpi.emsp import locations as ocpi_locations
from chargebook.ocpi.emsp import sessions as ocpi_sessions
from chargebook.ocpi.emsp import tokens as ocpi_tokens
from chargebook.services.bookings import BookingPolicy
from chargebook.services.tokens import Issuer
from chargebook.settings import Settings

CLIENT_BASE = "/api/v1/client"

DESCRIPTION = """
Book a specific EV charger (EVSE) for a time window across charge point operators.

Wire-compatible with the EV Suite client booking API: authenticate with `X-API-Key: <key>`
or `Authorization: Bearer <key>`. Every error body is `{"error": "<message>"}`.
Timestamps are ISO 8601 and always written in UTC with a `Z`; money is a JSON number in
major units with a separate currency field.
"""


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    configure_logs(settings)
    owns_db = db is None
    database = db or Database(settings.database_url, pool_size=settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.limiter.close()
        if owns_db:
            await database.dispose()

    app = FastAPI(
        title="chargebook client API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
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
    errors.install(app)

    client_api = APIRouter(prefix=CLIENT_BASE)
    client_api.include_router(search.router)
    client_api.include_router(bookings.router)
    client_api.include_router(fleet.router)
    client_api.include_router(billing.router)
    client_api.include_router(usage.router)
    app.include_router(client_api)
    app.include_router(billing.fleet_router, prefix="/api/v1/fleet")

    # OCPI 2.2.1, eMSP side: CPOs talk to us here (not part of the client API's docs).
    ocpi = APIRouter(prefix="/ocpi", include_in_schema=False)
    for module in (ocpi_credentials, ocpi_locations, ocpi_sessions, ocpi_tokens):
        ocpi.include_router(module.router)
    app.include_router(ocpi)

    @app.get("/healthz", tags=["operations"], summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    rate_limits.install(app, settings, database)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestId)
    return app
