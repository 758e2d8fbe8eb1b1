"""RESERVE_NOW and CANCEL_RESERVATION (OCPI 2.2.1 mod_commands.asciidoc § ReserveNow,
§ CancelReservation): how the simulated chargers decide.

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

from chargebook.cpo_sim import driver
from chargebook.cpo_sim.decisions import (
    UNUSABLE,
    Decision,
    accepted,
    forced_result,
    has,
    rejected_by_rule,
    unknown_location,
)
from chargebook.cpo_sim.simulator import Simulator
from chargebook.cpo_sim.store import Reservation, ReservationStatus, utcnow
from chargebook.ocpi.v221 import (
    EVSE,
    CancelReservation,
    Capability,
    CommandResponseType,
    CommandResultType,
    Location,
    ReserveNow,
    Status,
    ci_equal,
    ci_key,
)


def reserve_now(sim: Simulator, cmd: ReserveNow) -> Decision:
    store, now = sim.store, utcnow()
    location = store.location(cmd.location_id)
    if location is None:
        return unknown_location(cmd.location_id)
    existing = store.reservations.get(ci_key(cmd.reservation_id))
    if existing is not None and not existing.live:
        existing = None  # an ended reservation's id may be used again
    if existing is not None and not ci_equal(existing.location_id, cmd.location_id):
        return Decision(
            CommandResponseType.REJECTED, message="reservation_id is live at another location"
        )
    evse_uid = cmd.evse_uid or (existing.evse_uid if existing else _free_evse(sim, location))
    evse = store.evse(location, evse_uid) if evse_uid else None
    if evse is None:
        if cmd.evse_uid is None:
            return accepted(CommandResultType.EVSE_OCCUPIED, "no reservable EVSE is free here")
        return Decision(CommandResponseType.REJECTED, message=f"unknown EVSE {cmd.evse_uid}")
    if not has(evse, Capability.RESERVABLE):
        return Decision(CommandResponseType.NOT_SUPPORTED, message="this EVSE is not RESERVABLE")
    holder = store.live_reservation_on(location.id, evse.uid)
    verdict = forced_result(sim, evse.uid)
    if verdict is not None and verdict is not CommandResultType.ACCEPTED:
        return accepted(verdict, "the charger says so (result override)")
    if evse.status in UNUSABLE:
        return accepted(CommandResultType.EVSE_INOPERATIVE, f"the EVSE is {evse.status.value}")
    if existing is not None and existing.status is ReservationStatus.IN_USE:
        return accepted(CommandResultType.REJECTED, "the reservation is in use")
    if holder is not None and holder is not existing:
        return accepted(
            CommandResultType.REJECTED,
            f"the EVSE is reserved until {holder.expiry_date:%Y-%m-%dT%H:%M:%SZ}",
        )
    if store.running_session_on(location.id, evse.uid) or evse.status == Status.CHARGING:
        return accepted(CommandResultType.EVSE_OCCUPIED, "a session is running on this EVSE")
    if verdict is None and rejected_by_rule(sim, evse):
        return accepted(CommandResultType.REJECTED, "the charger rejected the reservation")
    if cmd.expiry_date <= now:
        return accepted(CommandResultType.REJECTED, "expiry_date is not in the future")
    return _reserve(sim, cmd, location, evse, existing)


def _free_evse(sim: Simulator, location: Location) -> str | None:
    """Without evse_uid the charger keeps any one EVSE free (mod_commands § ReserveNow)."""
    for evse in location.evses or []:
        if (
            has(evse, Capability.RESERVABLE)
            and evse.status == Status.AVAILABLE
            and not (sim.store.live_reservation_on(location.id, evse.uid))
        ):
            return evse.uid
    return None


def _reserve(
    sim: Simulator, cmd: ReserveNow, location: Location, evse: EVSE, existing: Reservation | None
) -> Decision:
    store, now = sim.store, utcnow()
    released = None
    if existing is None:
        r = Reservation(
            id=store.next_id("R"),
            reservation_id=cmd.reservation_id,
            location_id=location.id,
            evse_uid=evse.uid,
            connector_id=evse.connectors[0].id,
            token=cmd.token,
            expiry_date=cmd.expiry_date,
            response_url=cmd.response_url,
            authorization_reference=cmd.authorization_reference,
            start=now,
            arrive_at=driver.arrival_time(sim, evse.uid, now),
        )
        if sim.config.driver.reservation_sessions:
            r.session_id = store.next_id("S")
        store.reservations[ci_key(cmd.reservation_id)] = r
        store.log(
            "reserved", reservation_id=r.reservation_id, evse_uid=evse.uid, arrive_at=r.arrive_at
        )
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

    return accepted(CommandResultType.ACCEPTED, effect=effect)


def cancel_reservation(sim: Simulator, cmd: CancelReservation) -> Decision:
    r = sim.store.reservations.get(ci_key(cmd.reservation_id))
    if r is None or not r.live:
        return accepted(
            CommandResultType.UNKNOWN_RESERVATION, f"no reservation {cmd.reservation_id}"
        )
    if r.status is ReservationStatus.IN_USE:
        return accepted(CommandResultType.REJECTED, "the reservation is in use: stop the session")
    # Ended now for every later decision; the effect publishes it (EVSE status, CDR).
    driver.close_reservation(sim, r, ReservationStatus.CANCELED)

    async def effect() -> None:
        await driver.publish_reservation_end(sim, r)

    return accepted(CommandResultType.ACCEPTED, effect=effect)
