"""Rate limits at the API's edge: judge each authenticated request, and report the standing.

``check_rate_limit`` runs inside the ``current_client`` dependency, right after the key is
known and before any endpoint does work, so a refusal (429) never leaves a partial write.
It leaves the decision in the request's state; ``RateLimitHeaders`` (pure ASGI, like the
other middlewares) adds the ``X-RateLimit-*`` headers to whatever response the request
gets, success or error, because errors are rendered after the dependency has run.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chargebook.db.engine import Database
from chargebook.domain.errors import RateLimited
from chargebook.domain.rate_limits import Decision
from chargebook.metrics import RATE_LIMITED
from chargebook.services.clients import ClientContext
from chargebook.services.clock import utcnow
from chargebook.services.rate_limits import RateLimiter, limiter_for
from chargebook.settings import Settings

STATE_KEY = "rate_limit"


def install(app: FastAPI, settings: Settings, db: Database) -> RateLimiter:
    """Pick the backend from the settings and add the header middleware."""
    limiter = limiter_for(settings, db)
    app.state.limiter = limiter
    app.add_middleware(RateLimitHeaders)
    return limiter


async def check_rate_limit(request: Request, client: ClientContext) -> Decision:
    limiter: RateLimiter = request.app.state.limiter
    decision = await limiter.check_request(
        client.id, client.rate_limit_per_minute, client.monthly_quota, utcnow()
    )
    request.scope.setdefault("state", {})[STATE_KEY] = decision
    if not decision.admitted:
        RATE_LIMITED.labels(limit=decision.refused_by).inc()
        raise RateLimited(decision.message, retry_after_seconds=decision.retry_after or 1)
    return decision


def current_decision(request: Request) -> Decision:
    return request.scope["state"][STATE_KEY]  # type: ignore[no-any-return]  # ASGI scope: untyped


class RateLimitHeaders:
    """Add ``X-RateLimit-Limit/-Remaining/-Reset`` to every response of a judged request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                decision: Decision | None = state.get(STATE_KEY)
                if decision is not None:
                    headers: list[Any] = list(msg.get("headers", []))
                    headers += [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
                    msg["headers"] = headers
            await send(msg)

        await self.app(scope, receive, send_with_headers)
