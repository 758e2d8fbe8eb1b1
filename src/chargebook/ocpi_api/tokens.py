"""Tokens, Sender side (OCPI 2.2.1 mod_tokens.asciidoc § Sender Interface), and the Commands
result receiver (mod_commands.asciidoc § Sender Interface: POST to our response_url)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chargebook.domain.errors import InvalidRequest, NotFound
from chargebook.ocpi.transport import ocpi_response, page_headers
from chargebook.ocpi.v221.types import parse_datetime
from chargebook.ocpi_api.common import Body, Db, PartyDep
from chargebook.services import authorization as auth
from chargebook.services.commands import apply_result
from chargebook.services.token_objects import token_object

router = APIRouter()  # mounted under each version (ocpi_api/__init__.py)
MAX_LIMIT = 100
MAX_OFFSET = 2**63 - 1  # the databases' largest OFFSET; beyond it is a 2001, not a 500


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except (ValueError, TypeError):
        raise InvalidRequest(f"{name} is not an OCPI DateTime") from None


@router.get("/tokens")
async def list_tokens(
    request: Request, _: PartyDep, db: Db,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0, limit: Annotated[int, Query(ge=1)] = MAX_LIMIT,
    date_from: str | None = None, date_to: str | None = None,
) -> Response:
    settings = request.app.state.settings
    limit = min(limit, MAX_LIMIT)
    rows, total = await auth.list_tokens(db, date_from=_when(date_from, "date_from"),
                                         date_to=_when(date_to, "date_to"), offset=offset, limit=limit)
    params = {k: v for k, v in {"date_from": date_from, "date_to": date_to}.items() if v}
    headers = page_headers(url=str(request.url).split("?")[0], params=params, offset=offset, limit=limit, total=total)
    data = [token_object(t, settings.ocpi_country_code, settings.ocpi_party_id) for t in rows]
    return ocpi_response(data, headers=headers)


@router.post("/tokens/{token_uid}/authorize")
async def authorize(request: Request, party: PartyDep, db: Db, token_uid: str, type: str = "RFID") -> Response:
    settings = request.app.state.settings
    raw = await request.body()
    references: dict[str, object] = {}
    if raw.strip():
        from chargebook.ocpi.v221.types import load_json

        try:
            parsed = load_json(raw)
        except ValueError:
            raise InvalidRequest("body is not valid JSON") from None
        references = parsed if isinstance(parsed, dict) else {}
    location_id = references.get("location_id")
    listed = references.get("evse_uids") or []
    if not isinstance(listed, list):  # LocationReferences.evse_uids is a list (CiString(36) *)
        raise InvalidRequest("evse_uids must be a list of EVSE uids")
    evse_uids = [str(e) for e in listed]
    try:
        decision = await auth.authorize(
            db, party, token_uid, type, str(location_id) if location_id else None, evse_uids,
            country_code=settings.ocpi_country_code, party_id=settings.ocpi_party_id, issuer=settings.token_issuer,
        )
    except NotFound:
        return ocpi_response(status_code=2004, message=f"Unknown token {token_uid}", http_status=404)
    info: dict[str, object] = {"allowed": decision.allowed, "token": decision.token}
    if location_id:
        info["location"] = {"location_id": location_id, "evse_uids": decision.evse_uids}
    if decision.booking_id:
        info["authorization_reference"] = decision.booking_id
    return ocpi_response(info)


@router.post("/commands/{command}/{command_id}")
async def command_result(party: PartyDep, db: Db, body: Body, command: str, command_id: str) -> Response:
    await apply_result(db, party, command, command_id, body)
    return ocpi_response()
