"""Tariffs module, Sender interface (OCPI 2.2.1 mod_tariffs.asciidoc § Sender Interface).

In 2.3.0 the tariffs carry ``tax_included`` (``editions.py``). Only the paginated list: the Sender interface defines no single-tariff GET.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.cpo_sim import editions
from chargebook.cpo_sim.protocol import VERSIONED, ApiVersion, PeerCaller, Sim, paginate

router = APIRouter(dependencies=VERSIONED)


@router.get("/ocpi/cpo/{version}/tariffs")
async def list_tariffs(
    version: ApiVersion, request: Request, sim: Sim, _caller: PeerCaller
) -> Response:
    tariffs = [editions.for_version(version, t) for t in sim.store.tariffs.values()]
    return paginate(sim, request, tariffs)
