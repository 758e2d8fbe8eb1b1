"""`/bookings`: create (202), read, list with a cursor, cancel."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from chargebook.api.deps import CurrentClient, Db, Policy
from chargebook.api.schemas import ERRORS, BookingCreate, BookingList, BookingOut, CancelRequest, ErrorOut
from chargebook.api.views import booking_json
from chargebook.api.wire import JSON, iso_z
from chargebook.domain.errors import InvalidRequest
from chargebook.domain.lifecycle import BookingStatus
from chargebook.services import bookings as svc
from chargebook.services import commands

router = APIRouter(tags=["bookings"])


@router.post(
    "/bookings",
    status_code=202,
    response_model=BookingOut,
    response_model_exclude_none=False,
    summary="Create a booking (asynchronous: answers 202 with status REQUESTED)",
    responses={
        **ERRORS,
        200: {"model": BookingOut, "description": "A repeat of an earlier create (same external_id, same body)"},
        409: {"model": ErrorOut, "description": "EVSE not available for that window, or external_id reused"},
    },
)
async def create_booking(body: BookingCreate, client: CurrentClient, db: Db, policy: Policy) -> JSON:
    request = svc.BookingRequest(**dict(body))
    view = await svc.create_booking(db, client, request, policy)
    return JSON(booking_json(view, with_history=True), status_code=200 if view.replayed else 202)


@router.get("/bookings/{booking_id}", response_model=BookingOut, responses=ERRORS, summary="Get one booking")
async def get_booking(booking_id: str, client: CurrentClient, db: Db) -> JSON:
    return JSON(booking_json(await svc.get_booking(db, client.id, booking_id), with_history=True))


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def encode_cursor(created_at: datetime, booking_id: str) -> str:
    raw = f"{created_at.astimezone(UTC).isoformat()}|{booking_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, booking_id = raw.split("|", 1)
        return datetime.fromisoformat(created), booking_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequest("cursor: not a cursor returned by this API") from None


def _statuses(raw: str | None) -> tuple[BookingStatus, ...]:
    if not raw:
        return ()
    out = []
    for part in raw.split(","):
        try:
            out.append(BookingStatus(part.strip().upper()))
        except ValueError:
            allowed = ", ".join(s.value for s in BookingStatus)
            raise InvalidRequest(f"status: unknown value {part.strip()!r}; use one of {allowed}") from None
    return tuple(out)


@router.get(
    "/bookings",
    response_model=BookingList,
    responses=ERRORS,
    summary="List bookings, newest first (filter by status and created_at; page with cursor)",
)
async def list_bookings(
    client: CurrentClient,
    db: Db,
    status: Annotated[str | None, Query(description="One status or several, comma-separated")] = None,
    from_date: Annotated[datetime | None, Query(description="created_at ≥ this (ISO 8601)")] = None,
    to_date: Annotated[datetime | None, Query(description="created_at ≤ this (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> JSON:
    flt = svc.BookingFilter(
        statuses=_statuses(status),
        from_date=_utc(from_date, "from_date"),
        to_date=_utc(to_date, "to_date"),
        limit=limit,
        after=decode_cursor(cursor) if cursor else None,
    )
    if flt.from_date and flt.to_date and flt.from_date > flt.to_date:
        raise InvalidRequest("from_date must not be after to_date")
    views = await svc.list_bookings(db, client.id, flt)
    next_cursor = None
    if len(views) == limit:
        last = views[-1].booking
        next_cursor = encode_cursor(last.created_at, last.id)
    return JSON({"bookings": [booking_json(v) for v in views], "next_cursor": next_cursor})


@router.post(
    "/bookings/{booking_id}/cancel",
    response_model=BookingOut,
    responses=ERRORS,
    summary="Cancel a booking (free before CONFIRMED; repeating it is safe)",
)
async def cancel_booking(
    booking_id: str,
    client: CurrentClient,
    db: Db,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> JSON:
    reason = body.reason if body else None
    return JSON(booking_json(await svc.cancel_booking(db, client.id, booking_id, reason)))


def _command_json(cmd: Any) -> dict[str, Any]:
    return {"id": cmd.id, "type": cmd.type, "state": cmd.state, "response": cmd.response,
            "result": cmd.result, "message": cmd.message, "created_at": iso_z(cmd.created_at)}


async def _session_command(request: Request, booking_id: str, client: Any, db: Any, kind: str) -> JSON:
    base = request.app.state.settings.base_url(str(request.base_url))
    cmd = await commands.request_session_command(db, client.id, booking_id, kind, base, request.app.state.issuer)
    return JSON({"command": _command_json(cmd)}, status_code=202)


@router.post(
    "/bookings/{booking_id}/start",
    status_code=202,
    responses=ERRORS,
    summary="Ask the CPO to start charging on this booking (OCPI START_SESSION)",
)
async def start_charging(booking_id: str, client: CurrentClient, db: Db, request: Request) -> JSON:
    return await _session_command(request, booking_id, client, db, "START_SESSION")


@router.post(
    "/bookings/{booking_id}/stop",
    status_code=202,
    responses=ERRORS,
    summary="Ask the CPO to stop the booking's charging session (OCPI STOP_SESSION)",
)
async def stop_charging(booking_id: str, client: CurrentClient, db: Db, request: Request) -> JSON:
    return await _session_command(request, booking_id, client, db, "STOP_SESSION")


@router.get(
    "/bookings/{booking_id}/commands",
    responses=ERRORS,
    summary="The OCPI commands sent to the CPO for this booking, with their outcomes",
)
async def list_commands(booking_id: str, client: CurrentClient, db: Db) -> JSON:
    await svc.get_booking(db, client.id, booking_id)  # 404 unless it is this client's
    return JSON({"commands": [_command_json(c) for c in await commands.booking_commands(db, booking_id)]})
