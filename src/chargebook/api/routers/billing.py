"""Billing periods (list, close), statements (JSON or CSV) per month, and the EV Suite fleet
export path."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from chargebook.api.deps import CurrentClient, Db
from chargebook.api.openapi import csv_response, errors
from chargebook.api.schemas import BillingPeriodList, BillingPeriodOut, StatementOut
from chargebook.api.wire import JSON, Iso8601
from chargebook.services import billing, billing_periods

router = APIRouter(tags=["billing"])
fleet_router = APIRouter(tags=["billing"])


_CSV_HEADER = (
    "booking_id,external_id,status,status_reason,reservation_start,reservation_end,location_id,"
    "location_city,evse_uid,token_strategy,fleet_group_id,customer_id,cpo_cost,reservation_fee,"
    "commission,client_price,currency\n"
)
_CSV_EXAMPLE = _CSV_HEADER + (
    "79698c70-7d3f-45b1-8291-78eca3f986ea,engineering-emp042-20261125,CANCELLED,CLIENT_CANCELLED,"
    "2026-11-25T10:00:00Z,2026-11-25T11:00:00Z,DE-SIM-E0000012,Berlin,DE*SIM*E0000012*1,ad_hoc,,,"
    "0.00,0.00,0.00,0.00,EUR\n"
)
_STATEMENT_200 = csv_response("The statement; as JSON, or as a CSV attachment with `format=csv`.",
                              _CSV_EXAMPLE)[200]


@router.get(
    "/billing/statements",
    response_model=StatementOut,
    responses={200: _STATEMENT_200, **errors(400)},
    summary="A month's statement: its ledger, one line per booking billed in it; totals that add "
            "up exactly; a closed month's never changes",
)
async def statement(
    client: CurrentClient,
    db: Db,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (UTC)", examples=["2026-11"])],
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv.")] = "json",
) -> Response:
    result = await billing_periods.get_statement(db, client.id, month)
    if format == "csv":
        return Response(result.csv, media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="statement-{month}.csv"'})
    return Response(result.json, media_type="application/json")


@router.get(
    "/billing/periods",
    response_model=BillingPeriodList,
    responses=errors(400),
    summary="Your billing periods (calendar months, UTC), newest first: open or closed, with totals",
)
async def list_periods(client: CurrentClient, db: Db) -> JSON:
    return JSON({"periods": [p.as_json() for p in await billing_periods.list_periods(db, client.id)]})


@router.post(
    "/billing/periods/{month}/close",
    response_model=BillingPeriodOut,
    responses=errors(400, notes={400: "Not a month (YYYY-MM), or a month that has not ended yet."}),
    summary="Close a past month: its statement and CSV never change again; later charges for it "
            "are booked in the next open month as adjustments",
)
async def close_period(
    client: CurrentClient,
    db: Db,
    month: Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (UTC)", examples=["2026-11"])],
) -> JSON:
    return JSON((await billing_periods.close_period(db, client.id, month)).as_json())


@fleet_router.get(
    "/reports/export",
    response_class=Response,
    responses={**csv_response("CSV attachment, one line per ended booking, money with two decimals.",
                              _CSV_EXAMPLE), **errors(400)},
    summary="Fleet billing export: CSV, one line per ended booking in the period (EV Suite path)",
)
async def fleet_export(
    client: CurrentClient, db: Db,
    period_start: Annotated[date, Iso8601, Query(description="First day, inclusive (UTC).", examples=["2026-11-01"])],
    period_end: Annotated[date, Iso8601, Query(description="Last day, inclusive (UTC); at most 366 days on.",
                                      examples=["2026-11-30"])],
    fleet_group_id: Annotated[str | None, Query(
        max_length=64, description="Export one fleet group only.", examples=["group_13e91c0f3f1d25bb"])] = None,
) -> Response:
    start, end = billing.period(period_start, period_end)
    lines = await billing.final_bookings(db, client.id, start, end, fleet_group_id)
    name = f"fleet-report-{period_start.isoformat()}-{period_end.isoformat()}.csv"
    return Response(billing.to_csv(lines), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
