"""Sessions module, Sender interface (OCPI 2.2.1 mod_sessions.asciidoc § Sender Interface).

``GET {sessions}?date_from=…`` (date_from is required here, unlike other modules) lists the
Sessions as last sent, for an eMSP catching up after missed pushes. Charging preferences
need CHARGING_PREFERENCES_CAPABLE, which no simulated EVSE has: HTTP 404 with 2001, as the
module prescribes.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.cpo_sim import editions
from chargebook.cpo_sim.protocol import VERSIONED, ApiVersion, OcpiError, PeerCaller, Sim, paginate
from chargebook.ocpi.v221 import StatusCode

router = APIRouter(dependencies=VERSIONED)
PATH = "/ocpi/cpo/{version}/sessions"


@router.get(PATH)
async def list_sessions(
    version: ApiVersion, request: Request, sim: Sim, _caller: PeerCaller
) -> Response:
    sent = [
        editions.for_version(version, s.ocpi)
        for s in sim.store.sessions.values()
        if s.ocpi is not None
    ]
    return paginate(sim, request, sent, require_date_from=True, recase=sim.config.recase_ids)


@router.put(PATH + "/{session_id}/charging_preferences")
async def charging_preferences(session_id: str, sim: Sim, _caller: PeerCaller) -> Response:
    if sim.store.session(session_id) is None:
        raise OcpiError(StatusCode.CLIENT_ERROR, f"unknown session {session_id}", http_status=404)
    raise OcpiError(
        StatusCode.INVALID_OR_MISSING_PARAMETERS,
        "the EVSE is not CHARGING_PREFERENCES_CAPABLE",
        http_status=404,
    )
