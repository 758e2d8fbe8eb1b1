"""The simulated charge points: how each command is answered (OCPI 2.2.1 mod_commands.asciidoc).

A command gets two answers. The synchronous CommandResponse says whether the CPO could pass
it on (ACCEPTED with a ``timeout``; REJECTED, NOT_SUPPORTED, UNKNOWN_SESSION otherwise; an
unknown Location is status 2003 with REJECTED, as the spec's UNLOCK_CONNECTOR diagram shows).
The CommandResult is POSTed later to ``response_url``, after ``result_delay_seconds``: what
the charger did. Decisions are taken when the command arrives (so two RESERVE_NOWs cannot both
win an EVSE); what follows from them (EVSE status PATCHes, the driver) runs after the result.

RESERVE_NOW outcomes, in the order checked:

=====================================================  =======================================
unknown location                                       2003 + REJECTED (sync)
reservation_id live at another location                REJECTED (sync)
unknown EVSE                                           REJECTED (sync)
EVSE without RESERVABLE                                NOT_SUPPORTED (sync)
``result_overrides[evse_uid]``                         that result
EVSE OUTOFORDER / INOPERATIVE / BLOCKED / REMOVED …    EVSE_INOPERATIVE
the reservation is in use (driver charging)            REJECTED
another live reservation holds the EVSE                REJECTED (overlap: it runs to expiry)
a session runs / EVSE CHARGING                         EVSE_OCCUPIED
``reject_evse_uids`` / ``reject_share``                REJECTED
``expiry_date`` not in the future                      REJECTED
otherwise                                              ACCEPTED (same reservation_id = update)
=====================================================  =======================================
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chargebook.cpo_sim import driver, outbound
from chargebook.cpo_sim.simulator import Simulator
from chargebook.cpo_sim.store import CommandRecord, Reservation, ReservationStatus, utcnow
from chargebook.ocpi.v221 import (
    EVSE,
    AuthMethod,
    CancelReservation,
    Capability,
    CommandResponse,
    CommandResponseType,
    CommandResult,
    CommandResultType,
    CommandType,
    DisplayText,
    Location,
    ReserveNow,
    SessionStatus,
    StartSession,
    Status,
    StatusCode,
    StopSession,
    UnlockConnector,
    ci_equal,
    ci_key,
)

Effect = Callable[[], Awaitable[None]]
UNUSABLE = {Status.OUTOFORDER, Status.INOPERATIVE, Status.BLOCKED, Status.REMOVED, Status.PLANNED, Status.UNKNOWN}

MODELS: dict[CommandType, type[Any]] = {
    CommandType.RESERVE_NOW: ReserveNow,
    CommandType.CANCEL_RESERVATION: CancelReservation,
    CommandType.START_SESSION: StartSession,
    CommandType.STOP_SESSION: StopSession,
    CommandType.UNLOCK_CONNECTOR: UnlockConnector,
}


@dataclass
class Decision:
    response: CommandResponseType
    status_code: int = StatusCode.SUCCESS
    result: CommandResultType | None = None  # None: nothing is POSTed later
    message: str | None = None
    effect: Effect | None = None


def _text(message: str | None) -> list[DisplayText] | None:
    return [DisplayText(language="en", text=message)] if message else None


def handle(sim: Simulator, command: CommandType, body: Any) -> tuple[CommandResponse, int]:
    """Decide, record, schedule the result; return the CommandResponse and OCPI status."""
    decide = {
        CommandType.RESERVE_NOW: reserve_now,
        CommandType.CANCEL_RESERVATION: cancel_reservation,
        CommandType.START_SESSION: start_session,
        CommandType.STOP_SESSION: stop_session,
        CommandType.UNLOCK_CONNECTOR: unlock_connector,
    }[command]
    decision = decide(sim, body)
    accepted = decision.response is CommandResponseType.ACCEPTED
    response = CommandResponse(
        result=decision.response,
        timeout=sim.config.commands.timeout_seconds if accepted else 0,
        message=_text(decision.message if not accepted else None),
    )
    record = CommandRecord(
        id=sim.store.next_id("CMD"), command=command.value, received_at=utcnow(),
        request=body.model_dump(mode="json"), response=response.model_dump(mode="json"),
        status_code=decision.status_code,
    )
    sim.store.commands.append(record)
    if accepted and decision.result is not None:
        record.result, record.result_delivery = decision.result.value, "pending"
        sim.spawn(_deliver(sim, record, body.response_url, decision), f"result-{record.id}")
    return response, decision.status_code


async def _deliver(sim: Simulator, record: CommandRecord, url: str, decision: Decision) -> None:
    """The charger's answer after a while; a 'never answered' fault drops the POST only."""
    if not await sim.sleep(sim.config.commands.result_delay_seconds):
        return
    assert decision.result is not None
    if sim.chance(sim.config.faults.never_answer_share):
        record.result_delivery = "withheld"
        sim.store.log("command_result_withheld", command=record.command, command_id=record.id)
    else:
        result = CommandResult(result=decision.result, message=_text(decision.message))
        delivered = await outbound.post_command_result(sim, url, result)
        record.result_delivery = "sent" if delivered else "failed"
    if decision.effect is not None:
        await decision.effect()


def _charger_says(sim: Simulator, evse: EVSE) -> CommandResultType | None:
    """A forced answer from the rules (override or rejection), if any."""
    rules = sim.config.commands
    override = next((v for k, v in rules.result_overrides.items() if ci_equal(k, evse.uid)), None)
    if override is not None:
        return override
    return None


def _rejected_by_rule(sim: Simulator, evse: EVSE) -> bool:
    rules = sim.config.commands
    return ci_key(evse.uid) in {ci_key(u) for u in rules.reject_evse_uids} or sim.chance(rules.reject_share)


def _unknown_location(location_id: str) -> Decision:
    return Decision(
        CommandResponseType.REJECTED, StatusCode.UNKNOWN_LOCATION, message=f"unknown location {location_id}"
    )


def _has(evse: EVSE, capability: Capability) -> bool:
    return capability.value in {str(c) for c in evse.capabilities or []}


# --- RESERVE_NOW and CANCEL_RESERVATION ------------------------------------------------------


def reserve_now(sim: Simulator, cmd: ReserveNow) -> Decision:
    store, now = sim.store, utcnow()
    location = store.location(cmd.location_id)
    if location is None:
        return _unknown_location(cmd.location_id)
    existing = store.reservations.get(ci_key(cmd.reservation_id))
    if existing is not None and not existing.live:
        existing = None  # an ended reservation's id may be used again
    if existing is not None and not ci_equal(existing.location_id, cmd.location_id):
        return Decision(CommandResponseType.REJECTED, message="reservation_id is live at another location")
    evse_uid = cmd.evse_uid or (existing.evse_uid if existing else _free_evse(sim, location))
    evse = store.evse(location, evse_uid) if evse_uid else None
    if evse is None:
        if cmd.evse_uid is None:
            return _accepted(CommandResultType.EVSE_OCCUPIED, "no reservable EVSE is free here")
        return Decision(CommandResponseType.REJECTED, message=f"unknown EVSE {cmd.evse_uid}")
    if not _has(evse, Capability.RESERVABLE):
        return Decision(CommandResponseType.NOT_SUPPORTED, message="this EVSE is not RESERVABLE")
    holder = store.live_reservation_on(location.id, evse.uid)
    verdict = _charger_says(sim, evse)
    if verdict is not None and verdict is not CommandResultType.ACCEPTED:
        return _accepted(verdict, "the charger says so (result override)")
    if evse.status in UNUSABLE:
        return _accepted(CommandResultType.EVSE_INOPERATIVE, f"the EVSE is {evse.status.value}")
    if existing is not None and existing.status is ReservationStatus.IN_USE:
        return _accepted(CommandResultType.REJECTED, "the reservation is in use")
    if holder is not None and holder is not existing:
        return _accepted(CommandResultType.REJECTED, f"the EVSE is reserved until {holder.expiry_date:%Y-%m-%dT%H:%M:%SZ}")
    if store.running_session_on(location.id, evse.uid) or evse.status == Status.CHARGING:
        return _accepted(CommandResultType.EVSE_OCCUPIED, "a session is running on this EVSE")
    if verdict is None and _rejected_by_rule(sim, evse):
        return _accepted(CommandResultType.REJECTED, "the charger rejected the reservation")
    if cmd.expiry_date <= now:
        return _accepted(CommandResultType.REJECTED, "expiry_date is not in the future")
    return _reserve(sim, cmd, location, evse, existing)


def _free_evse(sim: Simulator, location: Location) -> str | None:
    """Without evse_uid the charger keeps any one EVSE free (mod_commands § ReserveNow)."""
    for evse in location.evses or []:
        if _has(evse, Capability.RESERVABLE) and evse.status == Status.AVAILABLE and not (
            sim.store.live_reservation_on(location.id, evse.uid)
        ):
            return evse.uid
    return None


def _accepted(result: CommandResultType, message: str | None = None, effect: Effect | None = None) -> Decision:
    return Decision(CommandResponseType.ACCEPTED, result=result, message=message, effect=effect)


def _reserve(sim: Simulator, cmd: ReserveNow, location: Location, evse: EVSE, existing: Reservation | None) -> Decision:
    store, now = sim.store, utcnow()
    released = None
    if existing is None:
        r = Reservation(
            id=store.next_id("R"), reservation_id=cmd.reservation_id, location_id=location.id,
            evse_uid=evse.uid, connector_id=evse.connectors[0].id, token=cmd.token,
            expiry_date=cmd.expiry_date, response_url=cmd.response_url,
            authorization_reference=cmd.authorization_reference, start=now,
            arrive_at=driver.arrival_time(sim, evse.uid, now),
        )
        if sim.config.driver.reservation_sessions:
            r.session_id = store.next_id("S")
        store.reservations[ci_key(cmd.reservation_id)] = r
        store.log("reserved", reservation_id=r.reservation_id, evse_uid=evse.uid, arrive_at=r.arrive_at)
    else:
        # "A reservation can be replaced/updated by sending a RESERVE_NOW request with the
        # same Location and the same reservation_id."
        r = existing
        if not ci_equal(r.evse_uid, evse.uid):
            released = (r.location_id, r.evse_uid)
            r.evse_uid, r.connector_id = evse.uid, evse.connectors[0].id
        r.token, r.expiry_date, r.response_url = cmd.token, cmd.expiry_date, cmd.response_url
        r.authorization_reference = cmd.authorization_reference
        r.changed.set()
        store.log("reservation_updated", reservation_id=r.reservation_id, evse_uid=evse.uid)
    store.set_evse_status(location, evse, Status.RESERVED, now)
    new = existing is None

    async def effect() -> None:
        await driver.on_reserved(sim, r, new=new, released=released)

    return _accepted(CommandResultType.ACCEPTED, effect=effect)


def cancel_reservation(sim: Simulator, cmd: CancelReservation) -> Decision:
    r = sim.store.reservations.get(ci_key(cmd.reservation_id))
    if r is None or not r.live:
        return _accepted(CommandResultType.UNKNOWN_RESERVATION, f"no reservation {cmd.reservation_id}")
    if r.status is ReservationStatus.IN_USE:
        return _accepted(CommandResultType.REJECTED, "the reservation is in use: stop the session")
    # Ended now for every later decision; the effect publishes it (EVSE status, CDR).
    driver.close_reservation(sim, r, ReservationStatus.CANCELED)

    async def effect() -> None:
        await driver.publish_reservation_end(sim, r)

    return _accepted(CommandResultType.ACCEPTED, effect=effect)


# --- START_SESSION, STOP_SESSION, UNLOCK_CONNECTOR -------------------------------------------


def start_session(sim: Simulator, cmd: StartSession) -> Decision:
    store = sim.store
    location = store.location(cmd.location_id)
    if location is None:
        return _unknown_location(cmd.location_id)
    mine = next(
        (r for r in store.reservations.values()
         if r.status is ReservationStatus.ACTIVE and ci_equal(r.location_id, location.id)
         and ci_equal(r.token.uid, cmd.token.uid)),
        None,
    )
    evse_uid = cmd.evse_uid or (mine.evse_uid if mine else _startable_evse(sim, location))
    evse = store.evse(location, evse_uid) if evse_uid else None
    if evse is None:
        if cmd.evse_uid is None:
            return _accepted(CommandResultType.EVSE_OCCUPIED, "no EVSE is free here")
        return Decision(CommandResponseType.REJECTED, message=f"unknown EVSE {cmd.evse_uid}")
    connector = evse.connectors[0] if cmd.connector_id is None else next(
        (c for c in evse.connectors if ci_equal(c.id, cmd.connector_id)), None
    )
    if connector is None:
        return Decision(CommandResponseType.REJECTED, message=f"unknown connector {cmd.connector_id}")
    if not _has(evse, Capability.REMOTE_START_STOP_CAPABLE):
        return Decision(CommandResponseType.NOT_SUPPORTED, message="this EVSE cannot be started remotely")
    holder = store.live_reservation_on(location.id, evse.uid)
    verdict = _charger_says(sim, evse)
    if verdict is not None and verdict is not CommandResultType.ACCEPTED:
        return _accepted(verdict, "the charger says so (result override)")
    if evse.status in UNUSABLE:
        return _accepted(CommandResultType.EVSE_INOPERATIVE, f"the EVSE is {evse.status.value}")
    if store.running_session_on(location.id, evse.uid) or evse.status == Status.CHARGING:
        return _accepted(CommandResultType.EVSE_OCCUPIED, "a session is running on this EVSE")
    if holder is not None and not ci_equal(holder.token.uid, cmd.token.uid):
        return _accepted(CommandResultType.EVSE_OCCUPIED, "the EVSE is reserved for another driver")
    if verdict is None and _rejected_by_rule(sim, evse):
        return _accepted(CommandResultType.REJECTED, "the charger rejected the remote start")
    if holder is not None:
        holder.status = ReservationStatus.IN_USE  # the reservation is used by this start
        holder.changed.set()
    # The token was authorized by the eMSP: the CPO SHALL NOT check it again.
    session = driver.new_session(
        sim, location.id, evse.uid, connector.id, cmd.token, AuthMethod.COMMAND,
        cmd.authorization_reference, reservation=holder,
    )

    async def effect() -> None:
        await driver.run_session(sim, session)

    return _accepted(CommandResultType.ACCEPTED, effect=effect)


def _startable_evse(sim: Simulator, location: Location) -> str | None:
    for evse in location.evses or []:
        if evse.status == Status.AVAILABLE and _has(evse, Capability.REMOTE_START_STOP_CAPABLE):
            return evse.uid
    return None


def stop_session(sim: Simulator, cmd: StopSession) -> Decision:
    session = sim.store.session(cmd.session_id)
    if session is None:
        return Decision(CommandResponseType.UNKNOWN_SESSION, message=f"unknown session {cmd.session_id}")
    if session.status not in (SessionStatus.ACTIVE, SessionStatus.PENDING):
        return Decision(CommandResponseType.REJECTED, message=f"session {session.id} has ended")
    evse_uid = session.evse_uid
    verdict = next((v for k, v in sim.config.commands.result_overrides.items() if ci_equal(k, evse_uid)), None)
    if verdict is not None and verdict is not CommandResultType.ACCEPTED:
        return _accepted(verdict, "the charger says so (result override)")

    async def effect() -> None:
        session.stop.set()

    return _accepted(CommandResultType.ACCEPTED, effect=effect)


def unlock_connector(sim: Simulator, cmd: UnlockConnector) -> Decision:
    location = sim.store.location(cmd.location_id)
    if location is None:
        return _unknown_location(cmd.location_id)
    evse = sim.store.evse(location, cmd.evse_uid)
    if evse is None or not any(ci_equal(c.id, cmd.connector_id) for c in evse.connectors):
        return Decision(CommandResponseType.REJECTED, message="unknown EVSE or connector")
    if not _has(evse, Capability.UNLOCK_CAPABLE):
        return Decision(CommandResponseType.NOT_SUPPORTED, message="this EVSE is not UNLOCK_CAPABLE")
    verdict = _charger_says(sim, evse)
    if verdict is not None:
        return _accepted(verdict)
    if evse.status in UNUSABLE:
        return _accepted(CommandResultType.EVSE_INOPERATIVE, f"the EVSE is {evse.status.value}")
    return _accepted(CommandResultType.ACCEPTED)
