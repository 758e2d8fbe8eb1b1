"""The simulated driver and the session life cycle, as background tasks.

Timeline of a reservation (see docs/cpo-simulator.md):

1. RESERVE_NOW accepted: the EVSE is held (status RESERVED, PATCHed to the eMSP after the
   CommandResult). The reservation starts now: OCPI 2.2.1 reserves "starting now" until
   ``expiry_date``. Optionally a Session with status RESERVATION is PUT.
2. The driver arrives at ``start + arrive_after_seconds`` (default: at once), unless the
   no-show rules say they never come, or the reservation is cancelled or expires first.
3. Arrival: real-time authorization at the eMSP when the token's whitelist asks for it
   (``POST {tokens}/{uid}/authorize?type=…`` with LocationReferences). Only ALLOWED starts a
   session; otherwise the driver leaves and the reservation runs out.
4. The session: EVSE → CHARGING; Session PUT (ACTIVE, kWh 0); every meter interval a PATCH
   with the kWh so far and one appended ChargingPeriod; then optional parking; then a PATCH
   to COMPLETED with ``end_date_time`` and ``total_cost``; EVSE → AVAILABLE; the CDR is POSTed.
5. No-show: at ``expiry_date`` the EVSE → AVAILABLE and, by default, a reservation-only CDR
   (RESERVATION_EXPIRES pricing) is POSTed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

from chargebook.cpo_sim import billing, outbound
from chargebook.cpo_sim.simulator import Simulator
from chargebook.cpo_sim.store import Reservation, ReservationStatus, SimSession, utcnow
from chargebook.ocpi.v221 import (
    CDR,
    EVSE,
    AllowedType,
    AuthMethod,
    CdrDimension,
    CdrDimensionType,
    ChargingPeriod,
    CommandResult,
    CommandResultType,
    DisplayText,
    Location,
    SessionPatch,
    SessionStatus,
    Status,
    Token,
    WhitelistType,
    ci_key,
)


async def set_status(sim: Simulator, location: Location, evse: EVSE, status: Status) -> None:
    """Change an EVSE's status and PATCH it to the eMSP (with ``last_updated``)."""
    if evse.status == status:
        return
    sim.store.set_evse_status(location, evse, status, utcnow())
    sim.store.log("evse_status", location_id=location.id, evse_uid=evse.uid, status=status.value)
    await outbound.patch_evse_status(sim, location, evse)


def arrival_time(sim: Simulator, evse_uid: str, start: datetime) -> datetime | None:
    rules = sim.config.driver
    no_show = {ci_key(uid) for uid in rules.no_show_evse_uids}
    if ci_key(evse_uid) in no_show or sim.chance(rules.no_show_share):
        return None
    return start + timedelta(seconds=rules.arrive_after_seconds or 0)


# --- reservations --------------------------------------------------------------------------


async def on_reserved(
    sim: Simulator, r: Reservation, *, new: bool, released: tuple[str, str] | None
) -> None:
    """After the RESERVE_NOW CommandResult: publish the EVSE states, start following."""
    if released is not None:
        await release(sim, *released)
    location = sim.store.location(r.location_id)
    evse = sim.store.evse(location, r.evse_uid) if location else None
    if location is not None and evse is not None and r.live:
        await outbound.patch_evse_status(sim, location, evse)
    if new and sim.config.driver.reservation_sessions and r.session_id:
        await outbound.put_session(sim, billing.reservation_session(sim, r, utcnow()))
    if new:
        sim.spawn(follow_reservation(sim, r), f"driver-{r.id}")


async def release(sim: Simulator, location_id: str, evse_uid: str) -> None:
    """The EVSE is free again, unless something else holds it or it is out of order."""
    location = sim.store.location(location_id)
    evse = sim.store.evse(location, evse_uid) if location else None
    if location is None or evse is None or evse.status not in (Status.RESERVED, Status.CHARGING):
        return
    store = sim.store
    if store.live_reservation_on(location_id, evse_uid) or store.running_session_on(
        location_id, evse_uid
    ):
        return
    await set_status(sim, location, evse, Status.AVAILABLE)


async def follow_reservation(sim: Simulator, r: Reservation) -> None:
    """Wait for the driver's arrival or the expiry, whichever comes first (re-read on every
    change: a RESERVE_NOW update may move the expiry, a cancellation ends it)."""
    while r.status is ReservationStatus.ACTIVE:
        now = utcnow()
        if r.arrive_at is not None and r.arrive_at <= now < r.expiry_date:
            if await arrive(sim, r):
                return
            r.arrive_at = None  # refused: the driver leaves, the reservation runs out
            continue
        if now >= r.expiry_date:
            await end_reservation(sim, r, ReservationStatus.EXPIRED)
            return
        wake = min(t for t in (r.arrive_at, r.expiry_date) if t is not None and t > now)
        r.changed.clear()
        try:
            await asyncio.wait_for(r.changed.wait(), timeout=(wake - now).total_seconds())
        except TimeoutError:
            pass


def close_reservation(sim: Simulator, r: Reservation, status: ReservationStatus) -> bool:
    """End a live reservation in the store (expired or cancelled); False if it had ended."""
    if r.status is not ReservationStatus.ACTIVE:
        return False
    r.status, r.ended_at = status, utcnow()
    r.changed.set()
    sim.store.log("reservation_ended", reservation_id=r.reservation_id, status=status.value)
    return True


async def end_reservation(
    sim: Simulator, r: Reservation, status: ReservationStatus, *, cdr: bool = True
) -> None:
    if close_reservation(sim, r, status):
        await publish_reservation_end(sim, r, cdr=cdr)


async def publish_reservation_end(sim: Simulator, r: Reservation, *, cdr: bool = True) -> None:
    """Free the EVSE, close a RESERVATION session, send the reservation-only CDR."""
    assert r.ended_at is not None
    now, status = r.ended_at, r.status
    await release(sim, r.location_id, r.evse_uid)
    if sim.config.driver.reservation_sessions and r.session_id:
        patch = SessionPatch(status=SessionStatus.COMPLETED, end_date_time=now, last_updated=now)
        await outbound.patch_session(sim, r.session_id, patch)
    if cdr and sim.config.driver.reservation_cdrs:
        expired = status is ReservationStatus.EXPIRED
        record = billing.build_cdr(
            sim,
            cdr_id=sim.store.next_id("CDR"),
            place_ids=(r.location_id, r.evse_uid, r.connector_id),
            token=r.token,
            auth_method=AuthMethod.COMMAND,
            authorization_reference=r.authorization_reference,
            session_id=r.session_id if sim.config.driver.reservation_sessions else None,
            reservation_start=r.start,
            session_start=None,
            end=min(r.expiry_date, now) if expired else now,
            expired=expired,
            remark="reservation expired unused" if expired else "reservation cancelled",
            now=now,
        )
        await send_cdr(sim, record)


async def cancel_by_cpo(sim: Simulator, r: Reservation, why: str) -> bool:
    """We cancel (a defect, road works): CANCELED_RESERVATION to the RESERVE_NOW response_url
    (mod_commands.asciidoc § Reservation canceled by the CPO). No CDR: not the driver's fault."""
    if r.status is not ReservationStatus.ACTIVE:
        return False
    await end_reservation(sim, r, ReservationStatus.CANCELED, cdr=False)
    result = CommandResult(
        result=CommandResultType.CANCELED_RESERVATION,
        message=[DisplayText(language="en", text=why)],
    )
    return await outbound.post_command_result(sim, r.response_url, result)


# --- arrival and the session ---------------------------------------------------------------


def _needs_authorization(sim: Simulator, token: Token) -> bool:
    mode = sim.config.driver.authorize
    if mode != "whitelist":
        return mode == "always"
    # mod_tokens.asciidoc § WhitelistType: ALWAYS may not be asked real-time; NEVER must be;
    # ALLOWED lets the CPO choose (we ask); ALLOWED_OFFLINE asks, and allows when unreachable.
    return token.whitelist != WhitelistType.ALWAYS


async def arrive(sim: Simulator, r: Reservation) -> bool:
    """The driver presents the reservation's token at the EVSE. True when charging started."""
    token = sim.store.tokens.get((ci_key(r.token.uid), str(r.token.type)), r.token)
    auth_method, reference = AuthMethod.WHITELIST, r.authorization_reference
    if _needs_authorization(sim, token):
        info, why = await outbound.authorize(sim, token, r.location_id, r.evse_uid)
        if (
            info is None
            and why == "unreachable"
            and token.whitelist == WhitelistType.ALLOWED_OFFLINE
        ):
            pass  # the eMSP is offline and the token may then be used: allow locally
        elif (
            info is None
            or info.allowed != AllowedType.ALLOWED
            or not _evse_allowed(info.location, r.evse_uid)
        ):
            outcome = info.allowed.value if info is not None else why
            sim.store.log("driver_refused", reservation_id=r.reservation_id, outcome=outcome)
            return False
        else:
            auth_method = AuthMethod.AUTH_REQUEST
            token = info.token
            reference = info.authorization_reference or reference
    if r.status is not ReservationStatus.ACTIVE:
        return False  # cancelled while we waited for the eMSP
    if sim.config.driver.authorize == "never":
        auth_method = AuthMethod.COMMAND
    r.status = ReservationStatus.IN_USE
    r.changed.set()
    session = new_session(
        sim, r.location_id, r.evse_uid, r.connector_id, token, auth_method, reference, reservation=r
    )
    sim.store.log("driver_arrived", reservation_id=r.reservation_id, session_id=session.id)
    await run_session(sim, session)
    return True


def _evse_allowed(location: object, evse_uid: str) -> bool:
    """AuthorizationInfo.location lists only the EVSEs the driver may use (when given)."""
    uids = getattr(location, "evse_uids", None)
    return not uids or ci_key(evse_uid) in {ci_key(u) for u in uids}


def new_session(
    sim: Simulator,
    location_id: str,
    evse_uid: str,
    connector_id: str,
    token: Token,
    auth_method: AuthMethod,
    reference: str | None,
    *,
    reservation: Reservation | None = None,
) -> SimSession:
    _, _, connector = billing.place(sim, location_id, evse_uid, connector_id)
    rules = sim.config.driver
    power = rules.power_kw or (connector.max_electric_power or 11000) / 1000
    session_id = (reservation.session_id if reservation else None) or sim.store.next_id("S")
    session = SimSession(
        id=session_id,
        location_id=location_id,
        evse_uid=evse_uid,
        connector_id=connector_id,
        token=token,
        auth_method=auth_method,
        authorization_reference=reference,
        start=utcnow(),
        power_kw=Decimal(str(power)),
        reservation=reservation,
        status=SessionStatus.PENDING,
    )
    sim.store.sessions[session.id] = session
    if reservation is not None:
        reservation.session_id = session.id
    return session


async def run_session(
    sim: Simulator, s: SimSession, *, started: Callable[[], Awaitable[None]] | None = None
) -> None:
    """Charge, park, complete, bill (the whole of step 4 above). ``started`` runs once the
    Session was PUT as ACTIVE (a booking is then FULFILLED)."""
    location, evse, connector = billing.place(sim, s.location_id, s.evse_uid, s.connector_id)
    tariff = billing.tariff_for(sim, connector)
    rules = sim.config.driver
    s.start, s.status = utcnow(), SessionStatus.ACTIVE
    await set_status(sim, location, evse, Status.CHARGING)
    s.ocpi = billing.session_object(sim, s)
    await outbound.put_session(sim, s.ocpi)
    if started is not None:
        await started()

    rate = s.power_kw  # kW
    if rules.session_kwh:  # a fixed amount spread over the charging time
        rate = Decimal(str(rules.session_kwh)) * 3600 / Decimal(str(rules.session_seconds))
    tariff_id = tariff.id if tariff else None
    last, charged_until = s.start, s.start + timedelta(seconds=rules.session_seconds)
    while not s.stop.is_set() and last < charged_until:
        step = min(rules.meter_interval_seconds, (charged_until - last).total_seconds())
        await _wait(s.stop, step)
        now = min(utcnow(), charged_until)
        seconds = billing.between(last, now)
        energy = billing.kwh(rate * seconds / 3600)
        s.kwh += energy
        s.charging_seconds += seconds
        dims = [
            billing.dimension(CdrDimensionType.ENERGY, energy),
            billing.dimension(CdrDimensionType.TIME, billing.hours(seconds)),
        ]
        await _append(sim, s, last, now, dims, tariff_id)
        last = now
    parking_start = None
    if not s.stop.is_set() and rules.parking_seconds > 0:
        parking_start = last
        await _wait(s.stop, rules.parking_seconds)
        now = utcnow()
        s.parking_seconds = billing.between(parking_start, now)
        parked = billing.dimension(CdrDimensionType.PARKING_TIME, billing.hours(s.parking_seconds))
        await _append(sim, s, parking_start, now, [parked], tariff_id)
        last = now
    await complete(sim, s, last, parking_start)


async def _wait(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout=max(seconds, 0))
    except TimeoutError:
        pass


async def _append(
    sim: Simulator,
    s: SimSession,
    start: datetime,
    now: datetime,
    dims: list[CdrDimension],
    tariff_id: str | None,
) -> None:
    """One more ChargingPeriod: PATCHed alone, since a Session PATCH appends periods."""
    period = ChargingPeriod(start_date_time=start, dimensions=dims, tariff_id=tariff_id)
    s.periods.append(period)
    patch = SessionPatch(kwh=billing.kwh(s.kwh), charging_periods=[period], last_updated=now)
    await outbound.patch_session(sim, s.id, patch)
    s.ocpi = billing.session_object(sim, s).model_copy(update={"last_updated": now})


async def complete(
    sim: Simulator, s: SimSession, end: datetime, parking_start: datetime | None
) -> None:
    location, evse, _ = billing.place(sim, s.location_id, s.evse_uid, s.connector_id)
    r = s.reservation
    energy = billing.kwh(s.kwh)
    charging_h, parking_h = billing.hours(s.charging_seconds), billing.hours(s.parking_seconds)
    cdr = billing.build_cdr(
        sim,
        cdr_id=sim.store.next_id("CDR"),
        place_ids=(s.location_id, s.evse_uid, s.connector_id),
        token=s.token,
        auth_method=s.auth_method,
        authorization_reference=s.authorization_reference,
        session_id=s.id,
        reservation_start=r.start if r else None,
        session_start=s.start,
        parking_start=parking_start,
        end=end,
        energy=energy,
        charging_h=charging_h,
        parking_h=parking_h,
        now=end,
    )
    s.end, s.status = end, SessionStatus.COMPLETED
    patch = SessionPatch(
        status=SessionStatus.COMPLETED,
        end_date_time=end,
        kwh=energy,
        total_cost=cdr.total_cost,
        last_updated=end,
    )
    await outbound.patch_session(sim, s.id, patch)
    s.ocpi = billing.session_object(sim, s, total_cost=cdr.total_cost)
    if r is not None:
        r.status, r.ended_at = ReservationStatus.USED, end
        r.changed.set()
    await release(sim, location.id, evse.uid)
    s.cdr_id = cdr.id
    if s.booking_id is not None:
        sim.store.cdr_bookings[cdr.id] = s.booking_id  # 2.3.0 CDR.booking_id
        booking = sim.store.booking(s.booking_id)
        if booking is not None:
            booking.cdr_id = cdr.id
    await send_cdr(sim, cdr)


async def send_cdr(sim: Simulator, cdr: CDR) -> None:
    sim.store.cdrs.append(cdr)
    delivered, where = await outbound.post_cdr(sim, cdr)
    sim.store.cdr_urls[cdr.id] = where
    sim.store.log(
        "cdr",
        cdr_id=cdr.id,
        delivered=delivered,
        location=where,
        total_cost=str(cdr.total_cost.excl_vat),
    )
