"""Locations and Tariffs receiver (OCPI 2.2.1 mod_locations.asciidoc / mod_tariffs.asciidoc
§ Receiver Interface): CPOs push their catalogue; each writes only its own objects."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from chargebook.ocpi.transport import ocpi_response
from chargebook.ocpi_api.common import Body, Db, PartyDep, PatchBody, Version
from chargebook.services import ocpi_catalogue as svc

router = APIRouter()  # mounted under each version (ocpi_api/__init__.py)
LOC = "/locations/{country_code}/{party_id}/{location_id}"


def _paths(base: str) -> list[str]:
    return [base, base + "/{evse_uid}", base + "/{evse_uid}/{connector_id}"]


for path in _paths(LOC):

    @router.get(path)
    async def get_location(party: PartyDep, db: Db, country_code: str, party_id: str, location_id: str,
                           evse_uid: str | None = None, connector_id: str | None = None) -> Response:
        svc.check_owner(party, country_code, party_id)
        return ocpi_response(await svc.get_object(db, party, location_id, evse_uid, connector_id))

    @router.put(path)
    async def put_location(party: PartyDep, db: Db, body: Body, country_code: str, party_id: str,
                           location_id: str, evse_uid: str | None = None,
                           connector_id: str | None = None) -> Response:
        svc.check_owner(party, country_code, party_id, body if evse_uid is None else None)
        await svc.put_object(db, party, location_id, evse_uid, connector_id, body)
        return ocpi_response()

    @router.patch(path)
    async def patch_location(party: PartyDep, db: Db, body: PatchBody, country_code: str, party_id: str,
                             location_id: str, evse_uid: str | None = None,
                             connector_id: str | None = None) -> Response:
        svc.check_owner(party, country_code, party_id)
        applied = await svc.patch_object(db, party, location_id, evse_uid, connector_id, body)
        return ocpi_response(message=None if applied else "ignored: older than the stored object")


@router.put("/tariffs/{country_code}/{party_id}/{tariff_id}")
async def put_tariff(party: PartyDep, db: Db, body: Body, version: Version, country_code: str, party_id: str,
                     tariff_id: str) -> Response:
    svc.check_owner(party, country_code, party_id, body)
    await svc.put_tariff(db, party, tariff_id, body, version)
    return ocpi_response()


@router.delete("/tariffs/{country_code}/{party_id}/{tariff_id}")
async def delete_tariff(party: PartyDep, db: Db, country_code: str, party_id: str, tariff_id: str) -> Response:
    svc.check_owner(party, country_code, party_id)
    await svc.delete_tariff(db, party, tariff_id)
    return ocpi_response()
