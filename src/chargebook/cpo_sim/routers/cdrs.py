"""CDRs module, Sender interface (OCPI 2.2.1 mod_cdrs.asciidoc § Sender Interface).

The paginated list of every CDR sent (``last_updated`` is the CDR's creation time).
In 2.3.0 they carry the 2.3.0 Price and, for a booked session, ``booking_id``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.cpo_sim import editions
from chargebook.cpo_sim.protocol import VERSIONED, ApiVersion, PeerCaller, Sim, paginate

router = APIRouter(dependencies=VERSIONED)


@router.get("/ocpi/cpo/{version}/cdrs")
async def list_cdrs(
    version: ApiVersion, request: Request, sim: Sim, _caller: PeerCaller
) -> Response:
    store = sim.store
    cdrs = [
        editions.for_version(version, c, booking_id=store.cdr_bookings.get(c.id))
        for c in store.cdrs
    ]
    return paginate(sim, request, cdrs, recase=sim.config.recase_ids)
