"""What every eMSP-side OCPI router shares: the caller's identity, our identity, bodies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from chargebook.db.engine import Database
from chargebook.db.models import Party
from chargebook.domain.errors import InvalidRequest, Unauthenticated
from chargebook.ocpi import transport as t
from chargebook.ocpi.v221.types import load_json
from chargebook.services.ocpi_parties import Caller, Identity, identify

VERSION = "2.2.1"


async def caller(request: Request) -> Caller:
    return await identify(request.app.state.db, t.token_candidates(request.headers.get("authorization")))


async def registered_party(request: Request) -> Party:
    found = await caller(request)
    if found.party is None:
        raise Unauthenticated("This token is for registration only")
    return found.party


async def database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


async def identity(request: Request) -> Identity:
    settings = request.app.state.settings
    base = settings.public_url or str(request.base_url)
    return Identity(settings.ocpi_country_code, settings.ocpi_party_id, "chargebook", base.rstrip("/"))


async def json_body(request: Request) -> dict[str, Any]:
    """The body with exact numbers (OCPI prices), or 2001."""
    try:
        body = load_json(await request.body())
    except ValueError:
        raise InvalidRequest("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest("body must be a JSON object")
    return body


CallerDep = Annotated[Caller, Depends(caller)]
PartyDep = Annotated[Party, Depends(registered_party)]
Db = Annotated[Database, Depends(database)]
Me = Annotated[Identity, Depends(identity)]
Body = Annotated[dict[str, Any], Depends(json_body)]
