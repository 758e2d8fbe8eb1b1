"""Versions, version details and credentials (OCPI 2.2.1 and 2.3.0
version_information_endpoint.asciidoc, credentials.asciidoc): the doors a CPO comes through
with token A, then with its own token. Both versions are served side by side; the version
of the credentials URL a CPO calls is the version we speak with it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.ocpi.transport import ocpi_response, token_from_authorization
from chargebook.ocpi_api.common import Body, CallerDep, Db, Me, Version
from chargebook.services import ocpi_parties as svc

router = APIRouter()


@router.get("/versions")
async def versions(_: CallerDep, me: Me) -> Response:
    return ocpi_response([{"version": v, "url": f"{me.base_url}/ocpi/{v}"} for v in svc.SUPPORTED_VERSIONS])


versioned = APIRouter()  # mounted once per version, with the version as prefix


@versioned.get("")
async def details(_: CallerDep, me: Me, version: Version) -> Response:
    base = f"{me.base_url}/ocpi/{version}"
    paths = {svc.BOOKINGS_MODULE: "bookings"}
    return ocpi_response({
        "version": version,
        "endpoints": [{"identifier": module, "role": role, "url": f"{base}/{paths.get(module, module)}"}
                      for module, role in svc.modules_for(version).items()],
    })


@versioned.get("/credentials")
async def get_credentials(_: CallerDep, me: Me, request: Request) -> Response:
    # We keep only a hash of the caller's token, so we echo the one it presented.
    return ocpi_response(me.credentials(token_from_authorization(request.headers.get("authorization")) or ""))


@versioned.post("/credentials")
async def register(who: CallerDep, body: Body, db: Db, me: Me, version: Version) -> Response:
    return ocpi_response(await svc.accept_registration(db, who, body, me, update=False, version=version))


@versioned.put("/credentials")
async def update(who: CallerDep, body: Body, db: Db, me: Me, version: Version) -> Response:
    return ocpi_response(await svc.accept_registration(db, who, body, me, update=True, version=version))


@versioned.delete("/credentials")
async def unregister(who: CallerDep, db: Db) -> Response:
    if who.party is None or who.registration is not None:  # token B of a handshake in flight
        return ocpi_response(status_code=2000, message="not registered", http_status=405)
    await svc.unregister(db, who.party)
    return ocpi_response()
