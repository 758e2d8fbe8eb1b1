"""The simulated charge points: how each command is answered (OCPI 2.2.1 mod_commands.asciidoc).

A command gets two answers. The synchronous CommandResponse says whether the CPO could pass
it on (ACCEPTED with a ``timeout``; REJECTED, NOT_SUPPORTED, UNKNOWN_SESSION otherwise; an
unknown Location is status 2003 with REJECTED, as the spec's UNLOCK_CONNECTOR diagram shows).
The CommandResult is POSTed later to ``response_url``, after ``result_delay_seconds``: what
the charger did. Decisions are taken when the command arrives (so two RESERVE_NOWs cannot both
win an EVSE); what follows from them (EVSE status PATCHes, the driver) runs after the result.

The reservation commands are in ``reservations.py``; shared pieces in ``decisions.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chargebook.cpo_sim import driver, outbound
from chargebook.cpo_sim.decisions import (
    UNUSABLE,
    Decision,
    accepted,
    forced_result,
    has,
    rejected_by_rule,
    text,
    unknown_location,
)
from chargebook.cpo_sim.reservations import cancel_reservation, reserve_now
from chargebook.cpo_sim.simulator import Simulator
from chargebook.cpo_sim.store import CommandRecord, ReservationStatus, utcnow
from chargebook.ocpi.v221 import (
    AuthMethod,
    CancelReservation,
    Capability,
    CommandResponse,
    CommandResponseType,
    CommandResult,
    CommandResultType,
    CommandType,
    Location,
    ReserveNow,
    SessionStatus,
    StartSession,
    Status,
    StopSession,
    UnlockConnector,
    ci_equal,
)

MODELS: dict[CommandType, type[Any]] = {
    CommandType.RESERVE_NOW: ReserveNow,
    CommandType.CANCEL_RESERVATION: CancelReservation,
    CommandType.START_SESSION: StartSession,
    CommandType.STOP_SESSION: StopSession,
    CommandType.UNLOCK_CONNECTOR: UnlockConnector,
}


def handle(
    sim: Simulator, command: CommandType, body: Any, ids: tuple[str | None, str | None] = (None, None)
) -> tuple[CommandResponse, int]:
    """Decide, record, schedule the result; return the CommandResponse and OCPI status.
    ``ids`` are the call's (X-Request-ID, X-Correlation-ID), kept on the record."""
    deciders: dict[CommandType, Callable[[Simulator, Any], Decision]] = {
        CommandType.RESERVE_NOW: reserve_now,
        CommandType.CANCEL_RESERVATION: cancel_reservation,
        CommandType.START_SESSION: start_session,
        CommandType.STOP_SESSION: stop_session,
        CommandType.UNLOCK_CONNECTOR: unlock_connector,
    }
    decision = deciders[command](sim, body)
    passed_on = decision.response is CommandResponseType.ACCEPTED
    response = CommandResponse(
        result=decision.response,
        timeout=sim.config.commands.timeout_seconds if passed_on else 0,
        **text(None if passed_on else decision.message),
    )
    record = CommandRecord(
        id=sim.store.next_id("CMD"),
        command=command.value,
        received_at=utcnow(),
        request=body.model_dump(mode="json", exclude_unset=True),
        response=response.model_dump(mode="json", exclude_unset=True),
        status_code=decision.status_code,
        request_id=ids[0],
        correlation_id=ids[1],
    )
    sim.store.commands.append(record)
    if passed_on and decision.result is not None:
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
        result = CommandResult(result=decision.result, **text(decision.message))
        delivered = await outbound.post_command_result(sim, url, result)
        record.result_delivery = "sent" if delivered else "failed"
    if decision.effect is not None:
        await decision.effect()


# --- START_SESSION, STOP_SESSION, UNLOCK_CONNECTOR ------------------------------------------


def start_session(sim: Simulator, cmd: StartSession) -> Decision:
    store = sim.store
    location = store.location(cmd.location_id)
    if location is None:
        return unknown_location(cmd.location_id)
    mine = next(
        (
            r
            for r in store.reservations.values()
            if r.status is ReservationStatus.ACTIVE
            and ci_equal(r.location_id, location.id)
            and ci_equal(r.token.uid, cmd.token.uid)
        ),
        None,
    )
    evse_uid = cmd.evse_uid or (mine.evse_uid if mine else _startable_evse(sim, location))
    evse = store.evse(location, evse_uid) if evse_uid else None
    if evse is None:
        if cmd.evse_uid is None:
            return accepted(CommandResultType.EVSE_OCCUPIED, "no EVSE is free here")
        return Decision(CommandResponseType.REJECTED, message=f"unknown EVSE {cmd.evse_uid}")
    connector = (
        evse.connectors[0]
        if cmd.connector_id is None
        else next((c for c in evse.connectors if ci_equal(c.id, cmd.connector_id)), None)
    )
    if connector is None:
        return Decision(
            CommandResponseType.REJECTED, message=f"unknown connector {cmd.connector_id}"
        )
    if not has(evse, Capability.REMOTE_START_STOP_CAPABLE):
        return Decision(
            CommandResponseType.NOT_SUPPORTED, message="this EVSE cannot be started remotely"
        )
    holder = store.live_reservation_on(location.id, evse.uid)
    verdict = forced_result(sim, evse.uid)
    if verdict is not None and verdict is not CommandResultType.ACCEPTED:
        return accepted(verdict, "the charger says so (result override)")
    if evse.status in UNUSABLE:
        return accepted(CommandResultType.EVSE_INOPERATIVE, f"the EVSE is {evse.status.value}")
    if store.running_session_on(location.id, evse.uid) or evse.status == Status.CHARGING:
        return accepted(CommandResultType.EVSE_OCCUPIED, "a session is running on this EVSE")
    if holder is not None and not ci_equal(holder.token.uid, cmd.token.uid):
        return accepted(CommandResultType.EVSE_OCCUPIED, "the EVSE is reserved for another driver")
    if verdict is None and rejected_by_rule(sim, evse):
        return accepted(CommandResultType.REJECTED, "the charger rejected the remote start")
    if holder is not None:
        holder.status = ReservationStatus.IN_USE  # the reservation is used by this start
        holder.changed.set()
    # The token was authorized by the eMSP: the CPO SHALL NOT check it again.
    session = driver.new_session(
        sim,
        location.id,
        evse.uid,
        connector.id,
        cmd.token,
        AuthMethod.COMMAND,
        cmd.authorization_reference,
        reservation=holder,
    )

    async def effect() -> None:
        await driver.run_session(sim, session)

    return accepted(CommandResultType.ACCEPTED, effect=effect)


def _startable_evse(sim: Simulator, location: Location) -> str | None:
    for evse in location.evses or []:
        if evse.status == Status.AVAILABLE and has(evse, Capability.REMOTE_START_STOP_CAPABLE):
            return evse.uid
    return None


def stop_session(sim: Simulator, cmd: StopSession) -> Decision:
    session = sim.store.session(cmd.session_id)
    if session is None:
        return Decision(
            CommandResponseType.UNKNOWN_SESSION, message=f"unknown session {cmd.session_id}"
        )
    if session.status not in (SessionStatus.ACTIVE, SessionStatus.PENDING):
        return Decision(CommandResponseType.REJECTED, message=f"session {session.id} has ended")
    evse_uid = session.evse_uid
    verdict = forced_result(sim, evse_uid)
    if verdict is not None and verdict is not CommandResultType.ACCEPTED:
        return accepted(verdict, "the charger says so (result override)")

    async def effect() -> None:
        session.stop.set()

    return accepted(CommandResultType.ACCEPTED, effect=effect)


def unlock_connector(sim: Simulator, cmd: UnlockConnector) -> Decision:
    location = sim.store.location(cmd.location_id)
    if location is None:
        return unknown_location(cmd.location_id)
    evse = sim.store.evse(location, cmd.evse_uid)
    if evse is None or not any(ci_equal(c.id, cmd.connector_id) for c in evse.connectors):
        return Decision(CommandResponseType.REJECTED, message="unknown EVSE or connector")
    if not has(evse, Capability.UNLOCK_CAPABLE):
        return Decision(
            CommandResponseType.NOT_SUPPORTED, message="this EVSE is not UNLOCK_CAPABLE"
        )
    verdict = forced_result(sim, evse.uid)
    if verdict is not None:
        return accepted(verdict)
    if evse.status in UNUSABLE:
        return accepted(CommandResultType.EVSE_INOPERATIVE, f"the EVSE is {evse.status.value}")
    return accepted(CommandResultType.ACCEPTED)
