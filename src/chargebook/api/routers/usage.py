"""`GET /usage`: the client's own standing against its rate limit and monthly quota."""

from __future__ import annotations

from fastapi import APIRouter, Request

from chargebook.api.deps import CurrentClient
from chargebook.api.rate_limits import current_decision
from chargebook.api.schemas import Usage
from chargebook.api.wire import JSON
from chargebook.domain.rate_limits import iso_second

router = APIRouter(tags=["usage"])


@router.get(
    "/usage",
    response_model=Usage,
    summary="Your rate limit and monthly quota, counting this request",
)
async def usage(client: CurrentClient, request: Request) -> JSON:
    # The limiter already judged this request (it counts, like any other); report that
    # decision, so the body and the X-RateLimit-* headers come from one reading.
    d = current_decision(request)
    return JSON({
        "rate_limit": {
            "limit": d.minute_limit, "remaining": d.minute_remaining, "period": "minute",
            "reset_at": iso_second(d.minute_reset),
        },
        "quota": {
            "limit": d.quota_limit, "used": d.quota_used, "remaining": d.quota_remaining,
            "period": "month", "reset_at": iso_second(d.month_reset),
        },
    })
