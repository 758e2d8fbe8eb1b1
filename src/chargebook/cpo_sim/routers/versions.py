"""Versions module (OCPI 2.2.1 version_information_endpoint.asciidoc): both endpoints.

Open to token A (the eMSP reads them before it registers), to our token B while our own
registration is in flight (the eMSP reads them to answer our POST), and to the peer.
Hubs poll versions as a liveness check, so these stay cheap and free of side effects.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from chargebook.cpo_sim.protocol import Sim, VersionsCaller, ok
from chargebook.cpo_sim.simulator import VERSION
from chargebook.ocpi.v221 import Endpoint, InterfaceRole, ModuleID, Version, VersionDetails

router = APIRouter()

#: What we serve: (module, our interface role). The CPO is Sender of the data it owns and
#: Receiver of commands and of the eMSP's tokens; for credentials the role means nothing.
MODULES: list[tuple[ModuleID, InterfaceRole]] = [
    (ModuleID.CREDENTIALS, InterfaceRole.SENDER),
    (ModuleID.LOCATIONS, InterfaceRole.SENDER),
    (ModuleID.TARIFFS, InterfaceRole.SENDER),
    (ModuleID.SESSIONS, InterfaceRole.SENDER),
    (ModuleID.CDRS, InterfaceRole.SENDER),
    (ModuleID.COMMANDS, InterfaceRole.RECEIVER),
    (ModuleID.TOKENS, InterfaceRole.RECEIVER),
]


@router.get("/ocpi/cpo/versions")
async def versions(sim: Sim, _caller: VersionsCaller) -> Response:
    return ok([Version(version=VERSION, url=sim.details_url)])


@router.get(f"/ocpi/cpo/{VERSION}")
async def version_details(sim: Sim, _caller: VersionsCaller) -> Response:
    endpoints = [
        Endpoint(identifier=module, role=role, url=f"{sim.details_url}/{module.value}")
        for module, role in MODULES
    ]
    return ok(VersionDetails(version=VERSION, endpoints=endpoints))
