"""Client users: the monthly statement (on screen and as CSV) and the fleet CSV export, the
same figures and files as the API's ``/billing/statements`` and ``/api/v1/fleet/reports/export``
(cells made safe for spreadsheets).

Billing periods (open and closed months, closing one) get their own section on this page
once periods exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chargebook.console.auth import ClientUser, state
from chargebook.console.pages import page
from chargebook.domain.spreadsheet import neutralize_csv
from chargebook.services import billing, fleet
from chargebook.services.clock import utcnow

router = APIRouter(prefix="/client/billing")
Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")]


def _client(client_id: str | None) -> str:
    assert client_id is not None  # ClientUser guarantees it
    return client_id


@router.get("")
async def billing_page(request: Request, who: ClientUser, month: Month = None) -> Response:
    client_id = _client(who.client_id)
    st = state(request)
    shown = month or utcnow().strftime("%Y-%m")
    statement = await billing.statement(st.db, client_id, shown)
    groups = await fleet.list_groups(st.db, client_id, 500)
    today = utcnow().date()
    return await page(
        request,
        "client/billing.html",
        who,
        month=shown,
        s=statement,
        totals=statement.totals(),
        groups=groups,
        first_day=today.replace(day=1).isoformat(),
        today=today.isoformat(),
    )


def _csv(body: str, name: str) -> Response:
    return Response(
        neutralize_csv(body),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/statement.csv")
async def statement_csv(
    request: Request, who: ClientUser, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]
) -> Response:
    statement = await billing.statement(state(request).db, _client(who.client_id), month)
    return _csv(billing.to_csv(statement.lines), f"statement-{month}.csv")


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
