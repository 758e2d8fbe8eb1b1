"""Commands module, Receiver interface (OCPI 2.2.1 mod_commands.asciidoc § Receiver Interface).

``POST {commands}/{command}`` with the command's object; the answer's ``data`` is a
CommandResponse. What the simulated chargers decide lives in ``chargepoints.py``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from chargebook.cpo_sim import chargepoints
from chargebook.cpo_sim.protocol import VERSIONED, OcpiError, PeerCaller, Sim, ok, read_model
from chargebook.ocpi.transport import CORRELATION_ID, REQUEST_ID
from chargebook.ocpi.v221 import (
    CommandResponse,
    CommandResponseType,
    CommandType,
    StatusCode,
    ci_equal,
)

router = APIRouter(dependencies=VERSIONED)


@router.post("/ocpi/cpo/{version}/commands/{command}")
async def post_command(command: str, request: Request, sim: Sim, _caller: PeerCaller) -> Response:
    try:
        kind = CommandType(command.upper())
    except ValueError:
        return ok(CommandResponse(result=CommandResponseType.NOT_SUPPORTED, timeout=0))
    body = await read_model(request, chargepoints.MODELS[kind])
    ids = (request.headers.get(REQUEST_ID), request.headers.get(CORRELATION_ID))
    response, status_code = chargepoints.handle(sim, kind, body, ids)
    if status_code != StatusCode.SUCCESS:
        message = response.message[0].text if response.message else "command refused"
        raise OcpiError(status_code, message, data=response)
    evse_uid = getattr(body, "evse_uid", None)
    answers = sim.config.faults.command_answers
    replaced = next((v for k, v in answers.items() if evse_uid and ci_equal(k, evse_uid)), None)
    if replaced is not None:  # a malformed answer, as CPOs in the field send (faults)
        sim.store.log("fault", fault="command_answer", command=kind.value, evse_uid=evse_uid)
        return ok(replaced)
    return ok(response)
