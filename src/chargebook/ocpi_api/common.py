"""What every eMSP-side OCPI router shares: the caller's identity, our identity, bodies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from chargebook.db.engine import Database
from chargebook.db.models import Party
from chargebook.domain.errors import InvalidRequest, Unauthenticated
from chargebook.ocpi import transport as t
from chargebook.ocpi.v221.types import load_json, parse_datetime
from chargebook.services.ocpi_parties import Caller, Identity, identify

VERSION = "2.2.1"  # the version every CPO speaks; 2.3.0 routes reuse the same handlers


def ocpi_version(request: Request) -> str:
    """The OCPI version of the URL called (``/ocpi/{version}/…``): where 2.3.0 payloads differ
    from 2.2.1 (Price with taxes, Tariff tax_included), handlers check against its models."""
    path = request.url.path
    return path.split("/ocpi/", 1)[1].split("/", 1)[0] if "/ocpi/" in path else VERSION


async def get_db(request: Request) -> Database:
    # Its own dependency, not the client API's: nothing here imports api/ (which mounts us).
    return request.app.state.db  # type: ignore[no-any-return]  # app.state is untyped


async def caller(request: Request) -> Caller:
    return await identify(request.app.state.db, t.token_candidates(request.headers.get("authorization")))


async def registered_party(request: Request) -> Party:
    found = await caller(request)
    if found.party is None:
        raise Unauthenticated("This token is for registration only")
    return found.party


async def identity(request: Request) -> Identity:
    settings = request.app.state.settings
    return Identity.from_settings(settings, settings.base_url(str(request.base_url)))


async def json_body(request: Request) -> dict[str, Any]:
    """The body with exact numbers (OCPI prices), or 2001."""
    try:
        body = load_json(await request.body())
    except ValueError:
        raise InvalidRequest("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest("body must be a JSON object")
    return body


Db = Annotated[Database, Depends(get_db)]


async def patch_body(request: Request) -> dict[str, Any]:
    """A PATCH body (transport_and_format § PATCH: ``last_updated`` is required), with its
    ``last_updated`` checked here, where the body is read: an impossible date is a 2001, never
    a failure further down."""
    body = await json_body(request)
    stamp = body.get("last_updated")
    if stamp is None:
        raise InvalidRequest("last_updated is required")
    try:
        parse_datetime(stamp)
    except (ValueError, OverflowError):
        raise InvalidRequest(f"last_updated is not an OCPI DateTime: {str(stamp)[:40]!r}") from None
    return body


CallerDep = Annotated[Caller, Depends(caller)]
PartyDep = Annotated[Party, Depends(registered_party)]
Me = Annotated[Identity, Depends(identity)]
Body = Annotated[dict[str, Any], Depends(json_body)]
PatchBody = Annotated[dict[str, Any], Depends(patch_body)]
Version = Annotated[str, Depends(ocpi_version)]
