"""Locations module, Sender interface (OCPI 2.2.1 mod_locations.asciidoc § Sender Interface).

``GET {locations}`` is paginated; ``GET {locations}/{location_id}[/{evse_uid}[/{connector_id}]]``
returns one object, or HTTP 404 with status 2003 when it does not exist (SHOULD 404).
Pushes to the eMSP's Receiver interface live in ``outbound.py``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.cpo_sim.protocol import VERSIONED, OcpiError, PeerCaller, Sim, ok_back, paginate
from chargebook.ocpi.v221 import StatusCode, ci_key

router = APIRouter(dependencies=VERSIONED)
PATH = "/ocpi/cpo/{version}/locations"


def _unknown(what: str) -> OcpiError:
    return OcpiError(StatusCode.UNKNOWN_LOCATION, f"unknown {what}", http_status=404)


@router.get(PATH)
async def list_locations(request: Request, sim: Sim, _caller: PeerCaller) -> Response:
    # Only locations with EVSEs are sent: one without valid EVSEs counts as expired.
    published = [loc for loc in sim.store.locations.values() if loc.publish and loc.evses]
    return paginate(sim, request, published)


@router.get(PATH + "/{location_id}")
async def get_location(location_id: str, sim: Sim, _caller: PeerCaller) -> Response:
    location = sim.store.location(location_id)
    if location is None:
        raise _unknown(f"location {location_id}")
    return ok_back(sim, location)


@router.get(PATH + "/{location_id}/{evse_uid}")
async def get_evse(location_id: str, evse_uid: str, sim: Sim, _caller: PeerCaller) -> Response:
    location = sim.store.location(location_id)
    evse = sim.store.evse(location, evse_uid) if location else None
    if evse is None:
        raise _unknown(f"EVSE {location_id}/{evse_uid}")
    return ok_back(sim, evse)


@router.get(PATH + "/{location_id}/{evse_uid}/{connector_id}")
async def get_connector(
    location_id: str, evse_uid: str, connector_id: str, sim: Sim, _caller: PeerCaller
) -> Response:
    location = sim.store.location(location_id)
    evse = sim.store.evse(location, evse_uid) if location else None
    connector = next(
        (c for c in (evse.connectors if evse else []) if ci_key(c.id) == ci_key(connector_id)), None
    )
    if connector is None:
        raise _unknown(f"connector {location_id}/{evse_uid}/{connector_id}")
    return ok_back(sim, connector)
