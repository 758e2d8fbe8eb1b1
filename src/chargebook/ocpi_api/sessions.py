"""Sessions and CDRs receiver (OCPI 2.2.1 mod_sessions.asciidoc, mod_cdrs.asciidoc)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from chargebook.ocpi.transport import ocpi_response
from chargebook.ocpi_api.common import Body, Db, Me, PartyDep, PatchBody, Version
from chargebook.services import ocpi_sessions as svc
from chargebook.services.ocpi_catalogue import check_owner

router = APIRouter()  # mounted under each version (ocpi_api/__init__.py)
SESSION = "/sessions/{country_code}/{party_id}/{session_id}"


@router.get(SESSION)
async def get_session(party: PartyDep, db: Db, country_code: str, party_id: str, session_id: str) -> Response:
    check_owner(party, country_code, party_id)
    return ocpi_response(await svc.get_session(db, party, session_id))


@router.put(SESSION)
async def put_session(party: PartyDep, db: Db, body: Body, version: Version, country_code: str, party_id: str,
                      session_id: str) -> Response:
    check_owner(party, country_code, party_id, body)
    await svc.put_session(db, party, session_id, body, patch=False, version=version)
    return ocpi_response()


@router.patch(SESSION)
async def patch_session(party: PartyDep, db: Db, body: PatchBody, version: Version, country_code: str, party_id: str,
                        session_id: str) -> Response:
    check_owner(party, country_code, party_id)
    await svc.put_session(db, party, session_id, body, patch=True, version=version)
    return ocpi_response()


@router.post("/cdrs")
async def post_cdr(party: PartyDep, db: Db, body: Body, me: Me, version: Version) -> Response:
    check_owner(party, str(body.get("country_code", party.country_code)), str(body.get("party_id", party.party_id)))
    cdr_id = await svc.receive_cdr(db, party, body, version)
    # 2.2.1 mod_cdrs § POST: answer with the URL where the CDR can be read back.
    return ocpi_response(headers={"Location": f"{me.base_url}/ocpi/{version}/cdrs/{party.country_code}/{party.party_id}/{cdr_id}"})


@router.get("/cdrs/{country_code}/{party_id}/{cdr_id}")
async def get_cdr(party: PartyDep, db: Db, country_code: str, party_id: str, cdr_id: str) -> Response:
    check_owner(party, country_code, party_id)
    return ocpi_response(await svc.get_cdr(db, party, cdr_id))
