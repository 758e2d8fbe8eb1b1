"""Operators: the overview, failing webhook deliveries, the audit log, people and sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chargebook.console.auth import Operator, Posted, client_ip, state
from chargebook.console.pages import page, redirect
from chargebook.domain.errors import InvalidRequest
from chargebook.domain.lifecycle import BookingStatus
from chargebook.services import (
    audit,
    console_logins,
    console_overview,
    console_platform,
    console_sessions,
    console_users,
)
from chargebook.services.clock import utcnow

router = APIRouter(prefix="/ops")
STATUSES = [s.value for s in BookingStatus]


@router.get("")
async def overview(request: Request, who: Operator) -> Response:
    st = state(request)
    figures = await console_overview.overview(st.db, utcnow(), st.settings.worker_stale_after())
    labels = [d.strftime("%m-%d") for d in figures.days]
    per_day = {d.strftime("%m-%d"): figures.per_day.get(d, {}) for d in figures.days}
    return await page(
        request,
        "ops/overview.html",
        who,
        o=figures,
        labels=labels,
        per_day=per_day,
        statuses=STATUSES,
        today_label=labels[-1],
    )


@router.get("/webhooks")
async def failing_webhooks(request: Request, who: Operator) -> Response:
    rows = await console_platform.failing_deliveries(state(request).db, limit=200)
    per_client: dict[str, list[console_platform.FailingDelivery]] = {}
    for row in rows:
        per_client.setdefault(row.client_name + "\x00" + row.client_id, []).append(row)
    return await page(request, "ops/webhooks.html", who, groups=sorted(per_client.items()))


@router.get("/audit")
async def audit_log(
    request: Request, who: Operator, before: Annotated[int | None, Query(ge=1)] = None
) -> Response:
    entries = await audit.list_entries(state(request).db, limit=100, before_pk=before)
    return await page(request, "audit.html", who, entries=entries, more=len(entries) == 100)


@router.get("/people")
async def people(request: Request, who: Operator) -> Response:
    st = state(request)
    return await page(
        request,
        "ops/people.html",
        who,
        operators=await console_users.list_users(st.db, role="operator"),
        sessions=await console_sessions.active_sessions(st.db, st.sessions),
        failures=await console_logins.recent_logins(st.db, 50, failed_only=True),
    )


@router.post("/people/{user_id}/disable")
async def disable(request: Request, user_id: str, who: Operator, _: Posted) -> Response:
    if user_id == who.user_id:
        raise InvalidRequest("You cannot disable your own account")
    user = await console_users.set_user_status(
        state(request).db, user_id, "disabled", who.actor(client_ip(request))
    )
    back = f"/ops/clients/{user.client_id}" if user.client_id else "/ops/people"
    return await redirect(request, back, f"{user.email} disabled; their sessions ended.")


@router.post("/people/{user_id}/enable")
async def enable(request: Request, user_id: str, who: Operator, _: Posted) -> Response:
    user = await console_users.set_user_status(
        state(request).db, user_id, "active", who.actor(client_ip(request))
    )
    back = f"/ops/clients/{user.client_id}" if user.client_id else "/ops/people"
    return await redirect(request, back, f"{user.email} enabled.")


@router.post("/sessions/{session_id}/revoke")
async def revoke(request: Request, session_id: str, who: Operator, _: Posted) -> Response:
    await console_sessions.revoke(state(request).db, session_id, who.actor(client_ip(request)))
    return await redirect(request, "/ops/people", "Session ended.")
