"""CDRs module, Sender interface (OCPI 2.2.1 mod_cdrs.asciidoc § Sender Interface).

The paginated list of every CDR sent (``last_updated`` is the CDR's creation time).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.cpo_sim.protocol import PeerCaller, Sim, paginate
from chargebook.cpo_sim.simulator import VERSION

router = APIRouter()


@router.get(f"/ocpi/cpo/{VERSION}/cdrs")
async def list_cdrs(request: Request, sim: Sim, _caller: PeerCaller) -> Response:
    return paginate(sim, request, sim.store.cdrs)
