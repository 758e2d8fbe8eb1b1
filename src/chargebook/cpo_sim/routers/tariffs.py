"""Tariffs module, Sender interface (OCPI 2.2.1 mod_tariffs.asciidoc § Sender Interface).

Only the paginated list: the Sender interface defines no single-tariff GET.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.cpo_sim.protocol import PeerCaller, Sim, paginate
from chargebook.cpo_sim.simulator import VERSION

router = APIRouter()


@router.get(f"/ocpi/cpo/{VERSION}/tariffs")
async def list_tariffs(request: Request, sim: Sim, _caller: PeerCaller) -> Response:
    return paginate(sim, request, list(sim.store.tariffs.values()))
