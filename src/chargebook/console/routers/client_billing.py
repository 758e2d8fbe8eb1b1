"""Client users: billing periods (open and closed months, closing a past one), a month's
statement on screen and as CSV, and the fleet CSV export; the same figures and files as the
API's ``/billing/periods``, ``/billing/statements`` and ``/api/v1/fleet/reports/export``
(their cells are already safe for spreadsheets)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from chargebook.console.auth import ClientUser, Posted, client_ip, state
from chargebook.console.pages import page, redirect
from chargebook.services import audit, billing, billing_periods, fleet
from chargebook.services.clock import utcnow

router = APIRouter(prefix="/client/billing")
MONTH = r"^\d{4}-\d{2}$"
Month = Annotated[str | None, Query(pattern=MONTH)]


def _client(client_id: str | None) -> str:
    assert client_id is not None  # ClientUser guarantees it
    return client_id


@router.get("")
async def billing_page(request: Request, who: ClientUser, month: Month = None) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    current = billing.month_of(utcnow())
    shown = month or current
    statement = await billing_periods.get_statement(st.db, client_id, shown)
    body: dict[str, Any] = json.loads(statement.json, parse_float=Decimal)
    # The month that just ended is always listed: it is the one a fleet manager closes.
    last_month = billing.month_of(utcnow().replace(day=1) - timedelta(days=1))
    periods = await billing_periods.list_periods(st.db, client_id, since=last_month)
    groups = await fleet.list_groups(st.db, client_id, 500)
    today = utcnow().date()
    return await page(
        request,
        "client/billing.html",
        who,
        month=shown,
        current_month=current,
        s=body,
        periods=periods,
        groups=groups,
        first_day=today.replace(day=1).isoformat(),
        today=today.isoformat(),
    )


@router.post("/periods/{month}/close")
async def close_period(
    request: Request,
    who: ClientUser,
    form: Posted,
    month: Annotated[str, Path(pattern=MONTH)],
) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    closed = await billing_periods.close_period(st.db, client_id, month)
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "billing.close_period",
        client_id=client_id,
        target=month,
        detail={"entries": str(closed.entries), "total": str(closed.total)},
    )
    return await redirect(
        request, f"/client/billing?month={month}", f"{month} is closed: its statement is final."
    )


def _csv(body: str, name: str) -> Response:
    return Response(
        body,  # the platform's CSV is already safe to open (domain/spreadsheet.py)
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/statement.csv")
async def statement_csv(
    request: Request, who: ClientUser, month: Annotated[str, Query(pattern=MONTH)]
) -> Response:
    statement = await billing_periods.get_statement(
        state(request).db, _client(who.client_id), month
    )
    return _csv(statement.csv, f"statement-{month}.csv")


@router.get("/export.csv")
async def fleet_export(
    request: Request,
    who: ClientUser,
    period_start: date,
    period_end: date,
    group: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    start, end = billing.period(period_start, period_end)
    lines = await billing.final_bookings(
        state(request).db, _client(who.client_id), start, end, group or None
    )
    return _csv(
        billing.to_csv(lines),
        f"fleet-report-{period_start.isoformat()}-{period_end.isoformat()}.csv",
    )
