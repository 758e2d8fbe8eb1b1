"""`/bookings`: create (202), read, list with a cursor, cancel."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from chargebook.api.deps import CurrentClient, Db, Policy
from chargebook.api.openapi import errors
from chargebook.api.schemas import (
    BookingCreate,
    BookingList,
    BookingOut,
    CancelRequest,
    CommandAccepted,
    CommandList,
)
from chargebook.api.views import booking_json
from chargebook.api.wire import JSON, Iso8601, iso_z
from chargebook.domain.errors import InvalidRequest
from chargebook.domain.lifecycle import BookingStatus
from chargebook.services import bookings as svc
from chargebook.services import commands
from chargebook.services.booking_create import BookingRequest
from chargebook.services.booking_create import create_booking as create

router = APIRouter(tags=["bookings"])

_WINDOW = {"reservation_start": "2026-11-24T20:22:00Z", "reservation_end": "2026-11-24T21:22:00Z"}
_WHERE = {"location_id": "DE-SIM-E0000009", "evse_uid": "DE*SIM*E0000009*2"}
#: One request body per token strategy, shown in the docs UI and tried by the API fuzz test.
CREATE_EXAMPLES: dict[str, Any] = {
    "ad_hoc": {"summary": "ad_hoc (the default): a one-off token for a guest",
               "value": {**_WHERE, **_WINDOW, "external_id": "visitor-0042-20261124"}},
    "driver_token": {"summary": "driver_token: a customer's own token",
                     "value": {**_WHERE, **_WINDOW, "token_strategy": "driver_token",
                               "customer_id": "cust_83dfca3cd3717ddb",
                               "external_id": "engineering-emp042-20261124"}},
    "group_token": {"summary": "group_token: a fleet group's token, within its spending limits",
                    "value": {**_WHERE, **_WINDOW, "token_strategy": "group_token",
                              "fleet_group_id": "group_13e91c0f3f1d25bb",
                              "external_id": "group_13e91c0f3f1d25bb-drv7-20261124"}},
    "pipelet": {"summary": "pipelet: your own RFID UID, no token record",
                "value": {**_WHERE, **_WINDOW, "connector_id": "1", "token_strategy": "pipelet",
                          "token_uid": "04A2B3C4D5E6F7"}},
}


@router.post(
    "/bookings",
    status_code=202,
    response_model=BookingOut,
    response_model_exclude_none=False,
    summary="Book an EVSE for a window (asynchronous: 202 with status REQUESTED)",
    description="`cpo_request_at` says when the request goes to the CPO (for an OCPI 2.2.1 CPO, "
                "its reserve lead time before the window); follow the booking with webhooks, or "
                "poll `GET /bookings/{id}` from then on. Send `external_id` to make retries safe. "
                "Fields the token strategy does not use, and unknown fields, are ignored.",
    response_description="The booking, in status REQUESTED, with its history.",
    responses={
        202: {"model": BookingOut,
              "description": "Accepted: the new booking in REQUESTED, with its history. A replay (the "
                             "same request with the external_id of a live booking) answers the same "
                             "202 with that booking as it is now and `Idempotent-Replayed: true`.",
              "headers": {"Idempotent-Replayed": {
                  "description": "`true` when this answer replays an earlier create (same "
                                 "external_id and request); absent otherwise.",
                  "schema": {"type": "string", "enum": ["true"]}}}},
        **errors(400, 404, 409, notes={
            400: "Invalid input (a missing or malformed field, a window rule, a token_id that is "
                 "not the customer_id's) or a fleet group spending limit.",
            404: "Unknown location, EVSE (also at a CPO outside your contract), connector, customer, "
                 "token or fleet group.",
            409: "The EVSE is not available for that window; `reason` says why: NOT_RESERVABLE, "
                 "OUT_OF_SERVICE, EVSE_IN_USE, SLOT_TAKEN, OUTSIDE_CPO_CALENDAR. Or the ids match "
                 "at more than one CPO (`reason` AMBIGUOUS_CPO, `choices`), or external_id names a "
                 "live booking made with another request (`reason` EXTERNAL_ID_IN_USE, `booking_id`).",
        }),
    },
)
async def create_booking(
    body: Annotated[BookingCreate, Body(openapi_examples=CREATE_EXAMPLES)],
    client: CurrentClient,
    db: Db,
    policy: Policy,
) -> JSON:
    request = BookingRequest(**body.model_dump(exclude_unset=False))
    view = await create(db, client, request, policy)
    headers = {"Idempotent-Replayed": "true"} if view.replayed else None
    return JSON(booking_json(view, with_history=True), status_code=202, headers=headers)


@router.get(
    "/bookings/{booking_id}",
    response_model=BookingOut,
    responses=errors(404),
    summary="Get one booking, with its status history",
)
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
    """What ``encode_cursor`` wrote, or 400: a time without a UTC offset, or one that is not an
    instant in UTC's years 1..9999, is no cursor of ours (the database would refuse it)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, booking_id = raw.split("|", 1)
        when = datetime.fromisoformat(created)
        if when.tzinfo is None:
            raise ValueError("no UTC offset")
        return when.astimezone(UTC), booking_id
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
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
    responses=errors(400),
    summary="List bookings, newest first (filter by status, created_at, external_id; page with cursor)",
)
async def list_bookings(
    client: CurrentClient,
    db: Db,
    status: Annotated[str | None, Query(
        description="One booking status or several, comma-separated (REQUESTED, PENDING, "
                    "CONFIRMED, ATTENDING, COMPLETED, CANCELLED, EXPIRED, NO_SHOW).",
        examples=["CONFIRMED,ATTENDING"])] = None,
    from_date: Annotated[Annotated[datetime, Iso8601] | None, Query(
        description="created_at ≥ this (ISO 8601; UTC when the offset is left out)",
        examples=["2026-11-01T00:00:00Z"])] = None,
    to_date: Annotated[Annotated[datetime, Iso8601] | None, Query(
        description="created_at ≤ this (ISO 8601; UTC when the offset is left out)",
        examples=["2026-11-30T23:59:59Z"])] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Bookings per page.", examples=[100])] = 100,
    cursor: Annotated[str | None, Query(
        max_length=200, description="`next_cursor` of the previous page.",
        examples=["MjAyNi0xMS0yNFQyMDowMjoyMC41NTcrMDA6MDB8NWEwNjc5N2M"])] = None,
    external_id: Annotated[str | None, Query(
        min_length=1, max_length=200,
        description="Only bookings with this external_id, live or ended (an external_id may be "
                    "used again once its booking has ended), newest first.",
        examples=["fleet-delivery-route-morning"])] = None,
) -> JSON:
    flt = svc.BookingFilter(
        external_id=external_id,
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
    responses=errors(400, 404, notes={
        400: "The booking cannot be cancelled in its state (ATTENDING, COMPLETED, EXPIRED, "
             "NO_SHOW), or the body is invalid."}),
    summary="Cancel a booking (free before CONFIRMED; cancelling a CANCELLED one is a no-op)",
)
async def cancel_booking(
    booking_id: str,
    client: CurrentClient,
    db: Db,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> JSON:
    reason = body.reason if body else None
    return JSON(booking_json(await svc.cancel_booking(db, client.id, booking_id, reason)))


_COMMAND_400 = "The booking is not in a state (or not yet in its window) where this command applies."


def _command_json(cmd: Any) -> dict[str, Any]:
    return {"id": cmd.id, "type": cmd.type, "state": cmd.state, "response": cmd.response,
            "result": cmd.result, "message": cmd.message, "created_at": iso_z(cmd.created_at)}


async def _session_command(request: Request, booking_id: str, client: CurrentClient, db: Db, kind: str) -> JSON:
    base = request.app.state.settings.base_url(str(request.base_url))
    cmd = await commands.request_session_command(db, client.id, booking_id, kind, base, request.app.state.issuer)
    return JSON({"command": _command_json(cmd)}, status_code=202)


@router.post(
    "/bookings/{booking_id}/start",
    status_code=202,
    response_model=CommandAccepted,
    responses=errors(400, 404, notes={400: _COMMAND_400}),
    summary="Ask the CPO to start charging on this booking (OCPI START_SESSION)",
)
async def start_charging(booking_id: str, client: CurrentClient, db: Db, request: Request) -> JSON:
    return await _session_command(request, booking_id, client, db, "START_SESSION")


@router.post(
    "/bookings/{booking_id}/stop",
    status_code=202,
    response_model=CommandAccepted,
    responses=errors(400, 404, notes={400: _COMMAND_400}),
    summary="Ask the CPO to stop the booking's charging session (OCPI STOP_SESSION)",
)
async def stop_charging(booking_id: str, client: CurrentClient, db: Db, request: Request) -> JSON:
    return await _session_command(request, booking_id, client, db, "STOP_SESSION")


@router.get(
    "/bookings/{booking_id}/commands",
    response_model=CommandList,
    responses=errors(404),
    summary="The OCPI commands sent to the CPO for this booking, with their outcomes",
)
async def list_commands(booking_id: str, client: CurrentClient, db: Db) -> JSON:
    await svc.get_booking(db, client.id, booking_id)  # 404 unless it is this client's
    return JSON({"commands": [_command_json(c) for c in await commands.booking_commands(db, booking_id)]})
