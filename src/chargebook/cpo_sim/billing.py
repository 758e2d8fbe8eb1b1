"""Sessions and CDRs as the simulator sends them, priced with chargebook's tariff engine.

OCPI 2.2.1 mod_sessions.asciidoc § Session Object and mod_cdrs.asciidoc § CDR Object. A CDR
is priced from its own quantities, so an eMSP recomputing it gets the same numbers:

* ``total_energy`` (kWh, 4 decimals), charging time (``total_time`` − ``total_parking_time``),
  ``total_parking_time`` and the reservation time (the RESERVATION_TIME period), all in hours
  with 6 decimals;
* the session starts at the charging period's ``start_date_time`` (local time of the
  Location's ``time_zone``, which CDRs do not carry: issue #517);
* ``SessionProfile(start, energy_kwh, charging_minutes, parking_minutes, reservation_minutes)``
  → ``price_session``. A reservation that expired unused is priced with
  ``reservation_expired`` (RESERVATION_EXPIRES elements); one the eMSP cancelled is priced
  as plain reservation time (RESERVATION elements only, no session start fee).

``total_time`` is the session's own duration (charging + parking); the reservation before it
is not included, although ``start_date_time`` is the reservation's start as the spec asks.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from chargebook.cpo_sim.quirks import CDR_WITHOUT_EVSE_UID
from chargebook.cpo_sim.simulator import Simulator
from chargebook.cpo_sim.store import Reservation, SimSession
from chargebook.domain.tariff import (
    LineType,
    Period,
    PeriodKind,
    SessionProfile,
    TariffPrice,
    parse_tariff,
    price_periods,
    price_session,
)
from chargebook.domain.tariff_restrictions import IDLE
from chargebook.ocpi.v221 import (
    CDR,
    EVSE,
    AuthMethod,
    CdrDimension,
    CdrDimensionType,
    CdrLocation,
    CdrToken,
    ChargingPeriod,
    Connector,
    Location,
    Price,
    Session,
    SessionStatus,
    Tariff,
    Token,
    ci_key,
)
from chargebook.ocpi.v221.types import ci_equal

HOURS = Decimal("0.000001")
KWH = Decimal("0.0001")
_SECONDS_PER_HOUR = Decimal(3600)


def hours(seconds: Decimal | float) -> Decimal:
    return (Decimal(str(seconds)) / _SECONDS_PER_HOUR).quantize(HOURS, ROUND_HALF_UP)


def kwh(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(KWH, ROUND_HALF_UP)


def between(start: datetime, end: datetime) -> Decimal:
    """Seconds from ``start`` to ``end``, exact to the microsecond."""
    delta = end - start
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def dimension(kind: CdrDimensionType, volume: Decimal) -> CdrDimension:
    return CdrDimension(type=kind, volume=volume)


def cdr_token(token: Token) -> CdrToken:
    return CdrToken(
        country_code=token.country_code,
        party_id=token.party_id,
        uid=token.uid,
        type=token.type,
        contract_id=token.contract_id,
    )


def place(
    sim: Simulator, location_id: str, evse_uid: str, connector_id: str
) -> tuple[Location, EVSE, Connector]:
    location = sim.store.location(location_id)
    evse = sim.store.evse(location, evse_uid) if location else None
    connector = next(
        (c for c in (evse.connectors if evse else []) if ci_equal(c.id, connector_id)), None
    )
    if location is None or evse is None or connector is None:
        raise LookupError(f"no connector {location_id}/{evse_uid}/{connector_id}")
    return location, evse, connector


def tariff_for(sim: Simulator, connector: Connector) -> Tariff | None:
    for tariff_id in connector.tariff_ids or []:
        tariff = sim.store.tariffs.get(ci_key(tariff_id))
        if tariff is not None:
            return tariff
    return None


def _local(location: Location, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(location.time_zone))


# --- Session -------------------------------------------------------------------------------


def session_object(sim: Simulator, s: SimSession, total_cost: Price | None = None) -> Session:
    """The Session as it stands (OCPI 2.2.1 mod_sessions.asciidoc § Session Object)."""
    _, _, connector = place(sim, s.location_id, s.evse_uid, s.connector_id)
    tariff = tariff_for(sim, connector)
    fields = {
        "country_code": sim.config.country_code,
        "party_id": sim.config.party_id,
        "id": s.id,
        "start_date_time": s.start,
        "kwh": kwh(s.kwh),
        "cdr_token": cdr_token(s.token),
        "auth_method": s.auth_method,
        "location_id": s.location_id,
        "evse_uid": s.evse_uid,
        "connector_id": s.connector_id,
        "currency": tariff.currency if tariff else "EUR",
        "status": s.status,
        "last_updated": s.end or s.start,
    }
    if s.authorization_reference:
        fields["authorization_reference"] = s.authorization_reference
    if s.end is not None:
        fields["end_date_time"] = s.end
    if s.periods:
        fields["charging_periods"] = list(s.periods)
    if total_cost is not None:
        fields["total_cost"] = total_cost
    return Session.model_validate(fields)


def reservation_session(sim: Simulator, r: Reservation, now: datetime) -> Session:
    """The Session a reservation creates (status RESERVATION, mod_commands § ReserveNow)."""
    s = SimSession(
        id=r.session_id or r.id,
        location_id=r.location_id,
        evse_uid=r.evse_uid,
        connector_id=r.connector_id,
        token=r.token,
        auth_method=AuthMethod.COMMAND,
        authorization_reference=r.authorization_reference,
        start=r.start,
        power_kw=Decimal(0),
        status=SessionStatus.RESERVATION,
    )
    return session_object(sim, s).model_copy(update={"last_updated": now})


# --- pricing -------------------------------------------------------------------------------


def price_of_session(
    tariff: Tariff,
    location: Location,
    start: datetime,
    energy: Decimal,
    charging_h: Decimal,
    parking_h: Decimal,
    reservation_h: Decimal,
) -> TariffPrice:
    profile = SessionProfile(
        start=_local(location, start),
        energy_kwh=energy,
        charging_minutes=charging_h * 60,
        parking_minutes=parking_h * 60,
        reservation_minutes=reservation_h * 60,
    )
    return price_session(parse_tariff(tariff.model_dump(mode="python")), profile)


def price_of_reservation(
    tariff: Tariff,
    location: Location,
    start: datetime,
    end: datetime,
    reservation_h: Decimal,
    *,
    expired: bool,
) -> TariffPrice:
    """An expired reservation is a whole CDR priced by RESERVATION_EXPIRES (then RESERVATION)
    elements; a cancelled one is its reserved time under the RESERVATION elements alone."""
    engine_tariff = parse_tariff(tariff.model_dump(mode="python"))
    if expired:
        profile = SessionProfile(
            start=_local(location, end),
            reservation_minutes=reservation_h * 60,
            reservation_expired=True,
        )
        return price_session(engine_tariff, profile)
    period = Period(
        PeriodKind.RESERVATION,
        _local(location, start),
        reservation_h * _SECONDS_PER_HOUR,
        current_a=IDLE,
        power_kw=IDLE,
    )
    return price_periods(engine_tariff, [period])


def _cost(price: TariffPrice, *kinds: LineType) -> Price | None:
    lines = [ln for ln in price.lines if ln.type in kinds]
    if not lines:
        return None
    excl = sum((ln.excl_vat for ln in lines), Decimal(0))
    incl = (
        None
        if price.incl_vat is None
        else sum((ln.incl_vat or ln.excl_vat for ln in lines), Decimal(0))
    )
    return Price(excl_vat=excl, incl_vat=incl) if incl is not None else Price(excl_vat=excl)


def total(price: TariffPrice) -> Price:
    if price.incl_vat is None:
        return Price(excl_vat=price.excl_vat)
    return Price(excl_vat=price.excl_vat, incl_vat=price.incl_vat)


# --- CDR -----------------------------------------------------------------------------------


def _cdr_location(
    location: Location, evse: EVSE, connector: Connector, *, evse_uid: bool = True
) -> CdrLocation:
    """The CDR's location; ``evse_uid=False`` leaves the EVSE uid out (a field quirk)."""
    fields = {
        "id": location.id,
        "address": location.address[:45],  # CdrLocation keeps string(45) (no erratum there)
        "city": location.city,
        "country": location.country,
        "coordinates": location.coordinates,
        "evse_uid": evse.uid,
        "evse_id": evse.evse_id or evse.uid,
        "connector_id": connector.id,
        "connector_standard": connector.standard,
        "connector_format": connector.format,
        "connector_power_type": connector.power_type,
    }
    if not evse_uid:
        del fields["evse_uid"]
    if location.name:
        fields["name"] = location.name
    if location.postal_code:
        fields["postal_code"] = location.postal_code
    return CdrLocation.model_validate(fields)


def build_cdr(
    sim: Simulator,
    *,
    cdr_id: str,
    place_ids: tuple[str, str, str],
    token: Token,
    auth_method: AuthMethod,
    authorization_reference: str | None,
    session_id: str | None,
    reservation_start: datetime | None,
    session_start: datetime | None,
    parking_start: datetime | None = None,
    end: datetime,
    energy: Decimal = Decimal(0),
    charging_h: Decimal = Decimal(0),
    parking_h: Decimal = Decimal(0),
    expired: bool = False,
    remark: str | None = None,
    now: datetime,
) -> CDR:
    """A final CDR. With ``session_start`` it is a session (after an optional reservation);
    without, a reservation-only CDR (expired, or cancelled by the eMSP)."""
    location, evse, connector = place(sim, *place_ids)
    tariff = tariff_for(sim, connector)
    if tariff is None:
        raise LookupError(f"connector {place_ids} has no known tariff")
    periods: list[ChargingPeriod] = []
    reserved_until = session_start or end
    reservation_h = (
        hours(between(reservation_start, reserved_until)) if reservation_start else Decimal(0)
    )
    if reservation_start is not None:
        periods.append(
            ChargingPeriod(
                start_date_time=reservation_start,
                dimensions=[dimension(CdrDimensionType.RESERVATION_TIME, reservation_h)],
                tariff_id=tariff.id,
            )
        )
    if session_start is not None:
        periods.append(
            ChargingPeriod(
                start_date_time=session_start,
                dimensions=[
                    dimension(CdrDimensionType.ENERGY, energy),
                    dimension(CdrDimensionType.TIME, charging_h),
                ],
                tariff_id=tariff.id,
            )
        )
        if parking_h > 0:
            periods.append(
                ChargingPeriod(
                    start_date_time=parking_start or end,
                    dimensions=[dimension(CdrDimensionType.PARKING_TIME, parking_h)],
                    tariff_id=tariff.id,
                )
            )
        price = price_of_session(
            tariff, location, session_start, energy, charging_h, parking_h, reservation_h
        )
    else:
        assert reservation_start is not None, "a CDR needs a session or a reservation"
        price = price_of_reservation(
            tariff, location, reservation_start, end, reservation_h, expired=expired
        )
    fields = {
        "country_code": sim.config.country_code,
        "party_id": sim.config.party_id,
        "id": cdr_id,
        "start_date_time": reservation_start or session_start,
        "end_date_time": end,
        "cdr_token": cdr_token(token),
        "auth_method": auth_method,
        "cdr_location": _cdr_location(
            location, evse, connector, evse_uid=not sim.quirk(CDR_WITHOUT_EVSE_UID)
        ),
        "currency": tariff.currency,
        "tariffs": [tariff],
        "charging_periods": periods,
        "total_cost": total(price),
        "total_energy": energy,
        "total_time": charging_h + parking_h,
        "last_updated": now,
    }
    optional = {
        "session_id": session_id,
        "authorization_reference": authorization_reference,
        "total_parking_time": parking_h if session_start is not None else None,
        "total_fixed_cost": _cost(price, LineType.FLAT),
        "total_energy_cost": _cost(price, LineType.ENERGY),
        "total_time_cost": _cost(price, LineType.TIME),
        "total_parking_cost": _cost(price, LineType.PARKING_TIME),
        "total_reservation_cost": _cost(
            price, LineType.RESERVATION_FLAT, LineType.RESERVATION_TIME
        ),
        "remark": remark,
    }
    fields.update({k: v for k, v in optional.items() if v is not None})
    return CDR.model_validate(fields)
