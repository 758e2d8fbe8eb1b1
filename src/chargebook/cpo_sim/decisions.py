"""What a command decision is, and the checks every command shares.

A :class:`Decision` holds the synchronous CommandResponse, the CommandResult to POST later
(if any) and the effect to run after it (EVSE status PATCHes, the driver). Used by
``chargepoints.py`` (dispatch, START/STOP/UNLOCK) and ``reservations.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chargebook.cpo_sim.simulator import Simulator
from chargebook.ocpi.v221 import (
    EVSE,
    Capability,
    CommandResponseType,
    CommandResultType,
    DisplayText,
    Status,
    StatusCode,
    ci_equal,
    ci_key,
)

Effect = Callable[[], Awaitable[None]]
UNUSABLE = {
    Status.OUTOFORDER,
    Status.INOPERATIVE,
    Status.BLOCKED,
    Status.REMOVED,
    Status.PLANNED,
    Status.UNKNOWN,
}


@dataclass
class Decision:
    response: CommandResponseType
    status_code: int = StatusCode.SUCCESS
    result: CommandResultType | None = None  # None: nothing is POSTed later
    message: str | None = None
    effect: Effect | None = None


def text(message: str | None) -> dict[str, list[DisplayText]]:
    """The optional ``message`` field: left out (not null) when there is nothing to say."""
    return {"message": [DisplayText(language="en", text=message)]} if message else {}


def accepted(
    result: CommandResultType, message: str | None = None, effect: Effect | None = None
) -> Decision:
    return Decision(CommandResponseType.ACCEPTED, result=result, message=message, effect=effect)


def forced_result(sim: Simulator, evse_uid: str) -> CommandResultType | None:
    """The result ``result_overrides`` forces for this EVSE's charger, if any."""
    overrides = sim.config.commands.result_overrides
    return next((v for k, v in overrides.items() if ci_equal(k, evse_uid)), None)


def rejected_by_rule(sim: Simulator, evse: EVSE) -> bool:
    rules = sim.config.commands
    return ci_key(evse.uid) in {ci_key(u) for u in rules.reject_evse_uids} or sim.chance(
        rules.reject_share
    )


def unknown_location(location_id: str) -> Decision:
    return Decision(
        CommandResponseType.REJECTED,
        StatusCode.UNKNOWN_LOCATION,
        message=f"unknown location {location_id}",
    )


def has(evse: EVSE, capability: Capability) -> bool:
    return capability.value in {str(c) for c in evse.capabilities or []}
