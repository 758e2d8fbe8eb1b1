"""Bookings, for operators (every client) and for client users (their own): a filtered list
and one booking's page. Both refresh themselves while open: the live script asks the same URL
for the changing fragment (``X-Console-Partial: 1``) every few seconds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chargebook.console.auth import ClientUser, Operator, Posted, client_ip, state
from chargebook.console.pages import is_partial, page, redirect
from chargebook.console.rendering import render
from chargebook.domain.errors import InvalidRequest
from chargebook.domain.lifecycle import FINAL_STATES, BookingStatus
from chargebook.services import audit, bookings, console_bookings, console_platform
from chargebook.services.console_bookings import BookingQuery
from chargebook.services.console_sessions import SignedIn

router = APIRouter()
FINAL = {s.value for s in FINAL_STATES}
Day = Annotated[date | None, Query()]
Text = Annotated[str | None, Query(max_length=64)]


def _cursor(before: str | None) -> tuple[datetime, str] | None:
    if not before:
        return None
    stamp, _, booking_id = before.partition("|")
    try:
        return datetime.fromisoformat(stamp).astimezone(UTC), booking_id
    except ValueError:
        raise InvalidRequest("before: not a cursor from this page") from None


def _query(
    client_id: str | None,
    status: str | None,
    cpo: str | None,
    from_: date | None,
    to: date | None,
    group: str | None,
    before: str | None,
) -> BookingQuery:
    try:
        statuses = (BookingStatus(status),) if status else ()
    except ValueError:
        raise InvalidRequest(
            f"status: one of {', '.join(s.value for s in BookingStatus)}"
        ) from None
    return BookingQuery(
        client_id=client_id,
        statuses=statuses,
        party_pk=cpo or None,
        fleet_group_id=group or None,
        created_from=datetime.combine(from_, time(), UTC) if from_ else None,
        created_to=datetime.combine(to, time(), UTC) + timedelta(days=1) if to else None,
        before=_cursor(before),
    )


async def _list(
    request: Request, who: SignedIn, q: BookingQuery, filters: dict[str, str]
) -> Response:
    st = state(request)
    rows = await console_bookings.list_bookings(st.db, q)
    context: dict[str, Any] = {"rows": rows, "scope": "ops" if who.is_operator else "client"}
    if is_partial(request):
        return render(request, "bookings/rows.html", context)
    parties = await console_platform.party_rows(st.db)
    clients = (
        await console_platform.client_rows(st.db, st.limiter, datetime.now(UTC))
        if who.is_operator
        else []
    )
    last = rows[-1].booking if len(rows) == q.limit else None
    older = f"{last.created_at.isoformat()}|{last.id}" if last else None
    return await page(
        request,
        "bookings/list.html",
        who,
        **context,
        filters=filters,
        parties=parties,
        clients=clients,
        statuses=[s.value for s in BookingStatus],
        older=older,
    )


@router.get("/ops/bookings")
async def ops_bookings(
    request: Request,
    who: Operator,
    client: Text = None,
    status: Text = None,
    cpo: Text = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Day = None,
    before: Annotated[str | None, Query(max_length=120)] = None,
) -> Response:
    q = _query(client or None, status, cpo, from_, to, None, before)
    filters = {
        "client": client or "",
        "status": status or "",
        "cpo": cpo or "",
        "from": from_.isoformat() if from_ else "",
        "to": to.isoformat() if to else "",
    }
    return await _list(request, who, q, filters)


@router.get("/client/bookings")
async def client_bookings(
    request: Request,
    who: ClientUser,
    status: Text = None,
    cpo: Text = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Day = None,
    group: Text = None,
    before: Annotated[str | None, Query(max_length=120)] = None,
) -> Response:
    q = _query(who.client_id, status, cpo, from_, to, group, before)
    filters = {
        "client": "",
        "status": status or "",
        "cpo": cpo or "",
        "from": from_.isoformat() if from_ else "",
        "to": to.isoformat() if to else "",
    }
    return await _list(request, who, q, filters)


async def _detail(request: Request, who: SignedIn, booking_id: str) -> Response:
    detail = await console_bookings.booking_detail(
        state(request).db, booking_id[:64], None if who.is_operator else who.client_id
    )
    final = detail.booking.status in FINAL
    scope = "ops" if who.is_operator else "client"
    context: dict[str, Any] = {"d": detail, "scope": scope, "final": final}
    headers = {"X-Console-Final": "1"} if final else None
    if is_partial(request):
        return render(request, "bookings/live.html", context, headers=headers)
    response = await page(request, "bookings/detail.html", who, **context)
    if headers:
        response.headers.update(headers)
    return response


@router.get("/ops/bookings/{booking_id}")
async def ops_booking(request: Request, booking_id: str, who: Operator) -> Response:
    return await _detail(request, who, booking_id)


@router.get("/client/bookings/{booking_id}")
async def client_booking(request: Request, booking_id: str, who: ClientUser) -> Response:
    return await _detail(request, who, booking_id)


@router.post("/client/bookings/{booking_id}/cancel")
async def cancel(request: Request, booking_id: str, who: ClientUser, form: Posted) -> Response:
    assert who.client_id is not None
    st = state(request)
    reason = form.optional_text("reason") or "cancelled in the console"
    view = await bookings.cancel_booking(st.db, who.client_id, booking_id[:64], reason)
    await audit.record(
        st.db,
        who.actor(client_ip(request)),
        "booking.cancel",
        client_id=who.client_id,
        target=view.booking.id,
        detail={"reason": reason},
    )
    return await redirect(request, f"/client/bookings/{view.booking.id}", "Booking cancelled.")
