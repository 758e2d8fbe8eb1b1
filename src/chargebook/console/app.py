"""The console's ASGI app, mounted by the API's app factory under ``/console``.

A sub-application of its own so that it has its own error handling (HTML pages, not
``{"error"}`` bodies), its own security headers and no OpenAPI document; it shares the API
process's database, settings and rate-limit backend.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from chargebook.console import errors
from chargebook.console.auth import ConsoleState
from chargebook.console.routers import (
    client_billing,
    client_fleet,
    client_home,
    client_webhooks,
    ops_clients,
    ops_cpos,
    ops_overview,
    session,
    shared_bookings,
)
from chargebook.console.security import SecurityHeaders
from chargebook.db.engine import Database
from chargebook.services.console_logins import LoginLimits
from chargebook.services.console_sessions import SessionPolicy
from chargebook.services.rate_limits import RateLimiter
from chargebook.services.tokens import Issuer
from chargebook.settings import Settings

MOUNT = "/console"
STATIC = Path(__file__).parent / "static"


def create_console(
    settings: Settings, db: Database, limiter: RateLimiter, issuer: Issuer
) -> FastAPI:
    app = FastAPI(title="chargebook console", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.console = ConsoleState(
        settings=settings,
        db=db,
        limiter=limiter,
        issuer=issuer,
        sessions=SessionPolicy(
            idle=timedelta(minutes=settings.console_session_idle_minutes),
            max_age=timedelta(hours=settings.console_session_max_hours),
        ),
        logins=LoginLimits(
            max_failures=settings.console_login_max_failures,
            window=timedelta(minutes=settings.console_login_window_minutes),
        ),
    )
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        session,
        ops_overview,
        ops_clients,
        ops_cpos,
        shared_bookings,
        client_home,
        client_fleet,
        client_webhooks,
        client_billing,
    ):
        app.include_router(module.router)
    app.add_middleware(SecurityHeaders, hsts=(settings.public_url or "").startswith("https://"))
    return app
