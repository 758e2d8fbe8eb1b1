"""The simulator's own admin API under ``/sim`` (not OCPI): state, rules, triggers.

Plain JSON in and out (errors as ``{"error": "…"}``). When ``admin_token`` is configured every
call needs ``Authorization: Bearer <admin_token>``; ``admin_enabled=False`` removes the API.
Faults never apply here, so a test can always read the state and change the rules.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from chargebook.cpo_sim import bookings, driver, outbound, registration
from chargebook.cpo_sim.config import updated
from chargebook.cpo_sim.decisions import UNUSABLE
from chargebook.cpo_sim.protocol import Sim, get_sim, read_json
from chargebook.cpo_sim.simulator import NotRegistered, Simulator
from chargebook.cpo_sim.store import ReservationStatus
from chargebook.ocpi.transport import new_token
from chargebook.ocpi.v221 import Status, ci_key, dump_json


def _admin(request: Request) -> None:
    expected = get_sim(request).config.admin_token
    if expected is None:
        return
    given = request.headers.get("Authorization", "")
    if not secrets.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        raise HTTPException(401, "admin token required: Authorization: Bearer <admin_token>")


router = APIRouter(prefix="/sim", dependencies=[Depends(_admin)], tags=["simulator admin"])


def jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python", exclude_unset=True)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def reply(data: Any, status: int = 200) -> Response:
    return Response(dump_json(jsonable(data)), status_code=status, media_type="application/json")


def _fail(status: int, message: str) -> Response:
    return reply({"error": message}, status)


def _peer_view(sim: Simulator) -> dict[str, Any] | None:
    peer = sim.store.peer
    if peer is None:
        return None
    return {
        "versions_url": peer.versions_url,
        "version": peer.version,
        "party": {"country_code": peer.party.country_code, "party_id": peer.party.party_id},
        "endpoints": [
            {"identifier": m, "role": r, "url": u} for (m, r), u in peer.endpoints.items()
        ],
        "registered_at": peer.registered_at,
    }


# --- reading ---------------------------------------------------------------------------------


@router.get("/state")
async def state(sim: Sim) -> Response:
    store = sim.store
    return reply(
        {
            "versions_url": sim.config.versions_url,
            "token_a": store.token_a,
            "ocpi_versions": sim.config.ocpi_versions,
            "registered": store.peer is not None,
            "peer": _peer_view(sim),
            "counts": {
                "locations": len(store.locations),
                "tariffs": len(store.tariffs),
                "reservations": len(store.reservations),
                "bookings": len(store.bookings),
                "sessions": len(store.sessions),
                "cdrs": len(store.cdrs),
                "commands": len(store.commands),
                "tokens": len(store.tokens),
            },
            "background_tasks": sim.busy,
        }
    )


@router.get("/config")
async def get_config(sim: Sim) -> Response:
    return reply(sim.config.model_dump(mode="json"))


@router.post("/config")
async def set_config(request: Request, sim: Sim) -> Response:
    """Change ``commands``, ``driver`` or ``faults``: ``{"faults": {"error_share": 1}}``."""
    changes = await read_json(request)
    if not isinstance(changes, dict):
        return _fail(400, "send a JSON object")
    try:
        sim.config = updated(sim.config, jsonable(changes))
    except (TypeError, ValueError, ValidationError) as exc:
        return _fail(400, str(exc))
    sim.store.log("config_changed", sections=sorted(changes))
    return reply(sim.config.model_dump(mode="json"))


@router.get("/evses")
async def evses(request: Request, sim: Sim) -> Response:
    """EVSEs, optionally filtered: ``?status=AVAILABLE&capability=RESERVABLE``."""
    status, capability = request.query_params.get("status"), request.query_params.get("capability")
    rows = []
    for location in sim.store.locations.values():
        for evse in location.evses or []:
            caps = [str(c) for c in evse.capabilities or []]
            if (status and evse.status.value != status) or (capability and capability not in caps):
                continue
            rows.append(
                {
                    "location_id": location.id,
                    "evse_uid": evse.uid,
                    "status": evse.status.value,
                    "capabilities": caps,
                    "connectors": [c.id for c in evse.connectors],
                    "tariff_ids": evse.connectors[0].tariff_ids,
                    "city": location.city,
                }
            )
    return reply(rows)


@router.get("/reservations")
async def reservations(sim: Sim) -> Response:
    return reply([r.view() for r in sim.store.reservations.values()])


@router.get("/sessions")
async def sessions(sim: Sim) -> Response:
    return reply(
        [
            {
                "id": s.id,
                "status": s.status.value,
                "kwh": s.kwh,
                "cdr_id": s.cdr_id,
                "session": s.ocpi,
            }
            for s in sim.store.sessions.values()
        ]
    )


@router.get("/cdrs")
async def cdrs(sim: Sim) -> Response:
    return reply(
        [{"cdr": c, "emsp_location": sim.store.cdr_urls.get(c.id)} for c in sim.store.cdrs]
    )


@router.get("/commands")
async def commands(sim: Sim) -> Response:
    return reply([c.view() for c in sim.store.commands])


@router.get("/events")
async def events(request: Request, sim: Sim) -> Response:
    kind = request.query_params.get("kind")
    return reply([e for e in sim.store.events if kind is None or e["kind"] == kind])


# --- triggers --------------------------------------------------------------------------------


@router.post("/push")
async def push(sim: Sim) -> Response:
    """Push every tariff and location to the eMSP now; answers with the counts."""
    try:
        return reply(await outbound.push_catalogue(sim))
    except NotRegistered as exc:
        return _fail(409, str(exc))


@router.post("/evses/{location_id}/{evse_uid}/status")
async def set_evse_status(location_id: str, evse_uid: str, request: Request, sim: Sim) -> Response:
    """``{"status": "OUTOFORDER"}``: change and PATCH it. A live reservation on an EVSE that
    becomes unusable is cancelled by us (CANCELED_RESERVATION), and so are its PENDING and
    RESERVED bookings (CANCELED, BROKEN_CHARGER)."""
    body = await read_json(request)
    location = sim.store.location(location_id)
    evse = sim.store.evse(location, evse_uid) if location else None
    if location is None or evse is None:
        return _fail(404, f"no EVSE {location_id}/{evse_uid}")
    try:
        status = Status(str((body or {}).get("status")))
    except ValueError:
        return _fail(400, "status must be an OCPI EVSE Status")
    held = sim.store.live_reservation_on(location.id, evse.uid)
    await driver.set_status(sim, location, evse, status)
    if held is not None and held.status is ReservationStatus.ACTIVE and status in UNUSABLE:
        await driver.cancel_by_cpo(sim, held, f"the EVSE became {status.value}")
    if status in UNUSABLE:  # bookings on a broken charger are cancelled (BROKEN_CHARGER)
        for booking in sim.store.bookings_on(location.id, evse.uid):
            await bookings.cancel_by_cpo(sim, booking, "BROKEN_CHARGER")
    return reply({"location_id": location.id, "evse_uid": evse.uid, "status": evse.status.value})


@router.post("/reservations/{reservation_id}/cancel")
async def cancel_reservation(reservation_id: str, sim: Sim) -> Response:
    """We cancel a reservation: CANCELED_RESERVATION to its response_url."""
    r = sim.store.reservations.get(ci_key(reservation_id))
    if r is None or r.status is not ReservationStatus.ACTIVE:
        return _fail(404, f"no active reservation {reservation_id}")
    delivered = await driver.cancel_by_cpo(sim, r, "cancelled by the operator")
    return reply({"reservation": r.view(), "result_delivered": delivered})


@router.post("/sessions/{session_id}/stop")
async def stop_session(session_id: str, sim: Sim) -> Response:
    """The driver unplugs now: the session completes and its CDR is sent."""
    session = sim.store.session(session_id)
    if session is None:
        return _fail(404, f"no session {session_id}")
    session.stop.set()
    return reply({"id": session.id, "status": session.status.value})


@router.post("/invite")
async def invite(request: Request, sim: Sim) -> Response:
    """A fresh token A (or ``{"token_a": "…"}``) for an eMSP to register with us."""
    if sim.store.peer is not None:
        return _fail(409, "already registered; unregister first")
    body = await read_json(request) if await request.body() else {}
    sim.store.token_a = str((body or {}).get("token_a") or new_token())
    return reply({"token_a": sim.store.token_a, "versions_url": sim.config.versions_url})


@router.post("/register")
async def register(request: Request, sim: Sim) -> Response:
    """We register with an eMSP: ``{"versions_url": "…", "token": "<the eMSP's token A>"}``."""
    body = await read_json(request)
    if not isinstance(body, dict) or not body.get("versions_url") or not body.get("token"):
        return _fail(400, "send versions_url and token")
    try:
        await registration.register_with(sim, str(body["versions_url"]), str(body["token"]))
    except registration.RegistrationError as exc:
        return _fail(409 if sim.store.peer else 502, f"OCPI {exc.status_code}: {exc}")
    return reply(_peer_view(sim))


@router.post("/rotate")
async def rotate(sim: Sim) -> Response:
    """We renew our credentials at the eMSP (PUT {credentials})."""
    try:
        await registration.rotate(sim)
    except NotRegistered as exc:
        return _fail(409, str(exc))
    except registration.RegistrationError as exc:
        return _fail(502, f"OCPI {exc.status_code}: {exc}")
    return reply(_peer_view(sim))


@router.post("/unregister")
async def unregister(sim: Sim) -> Response:
    """We end the connection (DELETE {credentials} at the eMSP)."""
    try:
        await registration.unregister_at_emsp(sim)
    except NotRegistered as exc:
        return _fail(409, str(exc))
    except registration.RegistrationError as exc:
        return _fail(502, f"OCPI {exc.status_code}: {exc}")
    return reply({"registered": False})


@router.post("/tokens/pull")
async def pull_tokens(sim: Sim) -> Response:
    try:
        return reply({"tokens": await outbound.pull_tokens(sim)})
    except NotRegistered as exc:
        return _fail(409, str(exc))
