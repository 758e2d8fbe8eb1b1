"""Versions module (version_information_endpoint.asciidoc of 2.2.1 and 2.3.0): both endpoints.

Open to token A (the eMSP reads them before it registers), to our token B while our own
registration is in flight (the eMSP reads them to answer our POST), and to the peer.
Hubs poll versions as a liveness check, so these stay cheap and free of side effects.

``config.ocpi_versions`` decides what is listed: 2.2.1 (the default), 2.3.0, or both, each
with its own details URL. 2.3.0 has the same modules as 2.2.1 plus the Bookings module 1.1,
published under the identifier the Bookings text gives, ``Booking`` (mod_bookings.asciidoc
header; it is missing from the ModuleID table, and some peers use ``bookings``).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from chargebook.cpo_sim.protocol import ApiVersion, Sim, VersionsCaller, ok
from chargebook.cpo_sim.simulator import V230
from chargebook.ocpi.v221 import Endpoint, InterfaceRole, ModuleID, Version, VersionDetails

router = APIRouter()

#: What we serve: (module, our interface role). The CPO is Sender of the data it owns and
#: Receiver of commands and of the eMSP's tokens; for credentials the role means nothing.
MODULES: list[tuple[str, InterfaceRole]] = [
    (ModuleID.CREDENTIALS, InterfaceRole.SENDER),
    (ModuleID.LOCATIONS, InterfaceRole.SENDER),
    (ModuleID.TARIFFS, InterfaceRole.SENDER),
    (ModuleID.SESSIONS, InterfaceRole.SENDER),
    (ModuleID.CDRS, InterfaceRole.SENDER),
    (ModuleID.COMMANDS, InterfaceRole.RECEIVER),
    (ModuleID.TOKENS, InterfaceRole.RECEIVER),
]
#: The Bookings module's identifier and the path segment of its URL.
BOOKING_MODULE = "Booking"
BOOKINGS_PATH = "bookings"
#: 2.3.0 = 2.2.1's modules + Bookings, where the CPO is the Sender (data owner).
MODULES_230: list[tuple[str, InterfaceRole]] = [
    *MODULES,
    (BOOKING_MODULE, InterfaceRole.SENDER),
]


def module_path(module: str) -> str:
    return BOOKINGS_PATH if module == BOOKING_MODULE else str(module)


@router.get("/ocpi/cpo/versions")
async def versions(sim: Sim, _caller: VersionsCaller) -> Response:
    return ok([Version(version=v, url=sim.details_url(v)) for v in sim.config.ocpi_versions])


@router.get("/ocpi/cpo/{version}")
async def version_details(version: ApiVersion, sim: Sim, _caller: VersionsCaller) -> Response:
    modules = MODULES_230 if version == V230 else MODULES
    base = sim.details_url(version)
    endpoints = [
        Endpoint(identifier=module, role=role, url=f"{base}/{module_path(module)}")
        for module, role in modules
    ]
    return ok(VersionDetails(version=version, endpoints=endpoints))
