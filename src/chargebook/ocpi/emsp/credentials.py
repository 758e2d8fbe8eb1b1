"""Versions, version details and credentials (OCPI 2.2.1 version_information_endpoint.asciidoc,
credentials.asciidoc): the doors a CPO comes through with token A, then with its own token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.ocpi.emsp.common import VERSION, Body, CallerDep, Db, Me
from chargebook.ocpi.transport import ocpi_response, token_from_authorization
from chargebook.services import ocpi_parties as svc

router = APIRouter()


@router.get("/versions")
async def versions(_: CallerDep, me: Me) -> Response:
    return ocpi_response([{"version": VERSION, "url": f"{me.base_url}/ocpi/{VERSION}"}])


@router.get(f"/{VERSION}")
async def details(_: CallerDep, me: Me) -> Response:
    base = f"{me.base_url}/ocpi/{VERSION}"
    return ocpi_response({
        "version": VERSION,
        "endpoints": [{"identifier": module, "role": role, "url": f"{base}/{module}"}
                      for module, role in svc.OUR_MODULES.items()],
    })


@router.get(f"/{VERSION}/credentials")
async def get_credentials(_: CallerDep, me: Me, request: Request) -> Response:
    # We keep only a hash of the caller's token, so we echo the one it presented.
    return ocpi_response(me.credentials(token_from_authorization(request.headers.get("authorization")) or ""))


@router.post(f"/{VERSION}/credentials")
async def register(who: CallerDep, body: Body, db: Db, me: Me) -> Response:
    return ocpi_response(await svc.accept_registration(db, who, body, me, update=False))


@router.put(f"/{VERSION}/credentials")
async def update(who: CallerDep, body: Body, db: Db, me: Me) -> Response:
    return ocpi_response(await svc.accept_registration(db, who, body, me, update=True))


@router.delete(f"/{VERSION}/credentials")
async def unregister(who: CallerDep, db: Db) -> Response:
    if who.party is None:
        return ocpi_response(status_code=2000, message="not registered", http_status=405)
    await svc.unregister(db, who.party)
    return ocpi_response()
