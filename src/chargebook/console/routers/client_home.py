"""Client users: the account page (API key, usage against quota, rate limit) and the team
(the client's console users and its audit log)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.console.auth import ClientUser, Posted, client_ip, state
from chargebook.console.pages import page
from chargebook.domain.lifecycle import BookingStatus
from chargebook.domain.rate_limits import month_reset
from chargebook.services import audit, clients, console_overview, console_platform
from chargebook.services.clock import utcnow

router = APIRouter(prefix="/client")


@router.get("")
async def home(request: Request, who: ClientUser) -> Response:
    assert who.client_id is not None
    st = state(request)
    now = utcnow()
    account = await console_platform.client_account(st.db, st.limiter, who.client_id, now)
    per_day = await console_overview.bookings_per_day(st.db, now, client_id=who.client_id)
    days = sorted(per_day)
    labels = [d.strftime("%m-%d") for d in days]
    elapsed = max(
        (now - now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)).total_seconds(), 1.0
    )
    month = (
        month_reset(now) - now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    ).total_seconds()
    pace = int(account.used_this_month * month / elapsed)
    return await page(
        request,
        "client/home.html",
        who,
        a=account,
        reset_at=month_reset(now),
        pace=pace,
        labels=labels,
        per_day={d.strftime("%m-%d"): per_day[d] for d in days},
        statuses=[s.value for s in BookingStatus],
    )


@router.post("/key/rotate")
async def rotate_key(request: Request, who: ClientUser, _: Posted) -> Response:
    assert who.client_id is not None
    st = state(request)
    key = await clients.rotate_key(st.db, who.client_id)
    await audit.record(
        st.db, who.actor(client_ip(request)), "key.rotate", client_id=who.client_id, target=key[:10]
    )
    return await page(request, "client/key_once.html", who, key=key)


@router.get("/team")
async def team(request: Request, who: ClientUser) -> Response:
    assert who.client_id is not None
    st = state(request)
    account = await console_platform.client_account(st.db, st.limiter, who.client_id, utcnow())
    entries = await audit.list_entries(st.db, client_id=who.client_id, limit=100)
    return await page(request, "client/team.html", who, a=account, entries=entries)
