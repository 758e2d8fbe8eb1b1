"""Statements (JSON or CSV) per month, and the EV Suite fleet export path."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from chargebook.api.deps import CurrentClient, Db
from chargebook.api.schemas import ERRORS
from chargebook.api.views import booking_json
from chargebook.api.wire import JSON, money_number
from chargebook.services import billing
from chargebook.services.bookings import BookingView

router = APIRouter(tags=["billing"])
fleet_router = APIRouter(tags=["billing"])


@router.get(
    "/billing/statements",
    responses=ERRORS,
    summary="A month's statement: one line per ended booking, totals that add up exactly",
)
async def statement(
    client: CurrentClient,
    db: Db,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (UTC)")],
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    result = await billing.statement(db, client.id, month)
    if format == "csv":
        return Response(billing.to_csv(result.lines), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="statement-{month}.csv"'})
    totals = result.totals()
    return JSON({
        "month": month,
        "currency": "EUR",
        "count": len(result.lines),
        "totals": {k: money_number(v) for k, v in totals.items()},
        "ledger": {"entries": result.ledger_entries, "total": money_number(result.ledger_total)},
        "lines": [booking_json(BookingView(booking=b)) for b in result.lines],
    })


@fleet_router.get(
    "/reports/export",
    responses=ERRORS,
    summary="Fleet billing export: CSV, one line per ended booking in the period (EV Suite path)",
)
async def fleet_export(
    client: CurrentClient, db: Db, period_start: date, period_end: date,
    fleet_group_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    start, end = billing.period(period_start, period_end)
    lines = await billing.final_bookings(db, client.id, start, end, fleet_group_id)
    name = f"fleet-report-{period_start.isoformat()}-{period_end.isoformat()}.csv"
    return Response(billing.to_csv(lines), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
