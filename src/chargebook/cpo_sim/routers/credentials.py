"""Credentials module, the server side (OCPI 2.2.1 credentials.asciidoc § Interfaces).

* GET: the credentials the caller uses towards us (with ``refuse_credentials_get``, token A
  gets HTTP 401 ``{"detail": "Unauthorized"}`` instead).
* POST (token A only): registration. HTTP 405 when the caller is already registered.
* PUT (the peer's token): new token and endpoints. HTTP 405 when not registered.
* DELETE (the peer's token): unregister. HTTP 405 when not registered.

The version in the path is the one the eMSP chose; we use its endpoints of that version.
Errors while we fetch the eMSP's endpoints: 3001 (unreachable / unreadable), 3002 (it does
not offer that version),
3003 (a module we need is missing). Those answers are HTTP 200: the request itself reached
the OCPI layer and was authenticated (transport_and_format.asciidoc § Response format).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from chargebook.cpo_sim import registration
from chargebook.cpo_sim.protocol import (
    VERSIONED,
    ApiVersion,
    Caller,
    CredentialsCaller,
    OcpiError,
    Sim,
    ok,
    read_model,
)
from chargebook.ocpi.v221 import Credentials, StatusCode

router = APIRouter(dependencies=VERSIONED)
PATH = "/ocpi/cpo/{version}/credentials"


def _not_allowed(message: str) -> OcpiError:
    return OcpiError(StatusCode.CLIENT_ERROR, message, http_status=405)


@router.get(PATH)
async def get_credentials(version: ApiVersion, sim: Sim, caller: CredentialsCaller) -> Response:
    if caller is Caller.PEER and sim.store.peer is not None:
        return ok(sim.credentials(sim.store.peer.server_token, version))
    if sim.config.refuse_credentials_get:
        # As CPOs met in the field answer it: a framework's 401, not an OCPI envelope.
        return JSONResponse({"detail": "Unauthorized"}, status_code=401)
    assert sim.store.token_a is not None
    return ok(sim.credentials(sim.store.token_a, version))


@router.post(PATH)
async def post_credentials(
    version: ApiVersion, request: Request, sim: Sim, caller: CredentialsCaller
) -> Response:
    if caller is Caller.PEER:
        raise _not_allowed("already registered: use PUT to update, DELETE to unregister")
    theirs = await read_model(request, Credentials)
    try:
        ours = await registration.accept_registration(sim, theirs, version)
    except registration.RegistrationError as exc:
        sim.store.log("registration_failed", status_code=exc.status_code, error=str(exc))
        raise OcpiError(exc.status_code, str(exc)) from exc
    return ok(ours)


@router.put(PATH)
async def put_credentials(
    version: ApiVersion, request: Request, sim: Sim, caller: CredentialsCaller
) -> Response:
    if caller is not Caller.PEER:
        raise _not_allowed("not registered: POST first")
    theirs = await read_model(request, Credentials)
    try:
        ours = await registration.accept_update(sim, theirs, version)
    except registration.RegistrationError as exc:
        sim.store.log("update_failed", status_code=exc.status_code, error=str(exc))
        raise OcpiError(exc.status_code, str(exc)) from exc
    return ok(ours)


@router.delete(PATH)
async def delete_credentials(sim: Sim, caller: CredentialsCaller) -> Response:
    if caller is not Caller.PEER:
        raise _not_allowed("not registered")
    registration.unregister(sim, "the eMSP deleted its credentials")
    return ok()
