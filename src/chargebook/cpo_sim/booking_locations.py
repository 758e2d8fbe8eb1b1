"""What the simulated CPO offers for booking (OCPI 2.3.0 Bookings 1.1 mod_bookings.asciidoc
§ BookingLocation Object, § Calendar Object).

One BookingLocation per bookable EVSE (an EVSE with the ``RESERVABLE`` capability), with the
EVSE in ``booking_option``, the connector's tariffs, the terms from ``config.bookings`` and
one Calendar (id ``C1``). The calendar opens at now (rounded down to the timeslot increment)
for ``horizon_days``; its ``available_timeslots`` are that window minus the slots bookings
hold (a booked slot disappears from the calendar), each with the connector's power as
``max_power`` (W). Built on demand from the store, so it is always current.

``last_updated`` of a BookingLocation is the latest change of its EVSE or of a booking on
it, so a ``date_from`` pull finds calendars that bookings changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from chargebook.cpo_sim.config import BookingRules
from chargebook.cpo_sim.decisions import has
from chargebook.cpo_sim.simulator import Simulator
from chargebook.cpo_sim.store import utcnow
from chargebook.ocpi.v221 import EVSE, Capability, Location
from chargebook.ocpi.v230 import (
    AccessMethod,
    BookingLocation,
    BookingOption,
    BookingTerms,
    Calendar,
    Policy,
    Timeslot,
    ci_key,
)

CALENDAR_ID = "C1"
PREFIX = "BL-"


def booking_location_id(evse_uid: str) -> str:
    """``BL-`` + the EVSE uid with ``*`` as ``-`` (ids travel in URL paths)."""
    return PREFIX + evse_uid.replace("*", "-")


@dataclass
class Bookable:
    """A bookable EVSE, where it is, and its BookingLocation id."""

    id: str
    location: Location
    evse: EVSE

    @property
    def max_power(self) -> Decimal | None:
        watts = self.evse.connectors[0].max_electric_power
        return Decimal(watts) if watts else None

    @property
    def tariff_ids(self) -> list[str]:
        return list(self.evse.connectors[0].tariff_ids or [])


def bookables(sim: Simulator) -> list[Bookable]:
    """Every bookable EVSE in catalogue order."""
    return [
        Bookable(booking_location_id(evse.uid), location, evse)
        for location in sim.store.locations.values()
        if location.publish
        for evse in location.evses or []
        if has(evse, Capability.RESERVABLE)
    ]


def find(sim: Simulator, booking_location_id: str) -> Bookable | None:
    key = ci_key(booking_location_id)
    return next((b for b in bookables(sim) if ci_key(b.id) == key), None)


def terms(rules: BookingRules) -> BookingTerms:
    """BookingTerms from the rules (mod_bookings.asciidoc § BookingTerms class, minutes)."""
    fields: dict[str, Any] = {
        "rfid_auth_required": False,
        "token_groups_supported": False,
        "remote_auth_supported": True,
        "supported_access_methods": [AccessMethod.TOKEN],
        "change_until_minutes": _minutes(rules.change_until_minutes),
        "cancel_until_minutes": _minutes(rules.cancel_until_minutes),
        "change_not_allowed": rules.change_not_allowed,
        "early_start_allowed": rules.early_start_minutes > 0,
        "early_start_time": _minutes(rules.early_start_minutes),
        "noshow_fee": rules.noshow_cdrs,
        "late_stop_allowed": False,
        "overlapping_bookings_allowed": False,
        "min_booking_duration": _minutes(rules.min_booking_minutes),
        "max_booking_duration": _minutes(rules.max_booking_minutes),
    }
    if rules.noshow_timeout_minutes is not None:
        fields["noshow_timeout"] = _minutes(rules.noshow_timeout_minutes)
    return BookingTerms.model_validate(fields)


def _minutes(value: float) -> Decimal:
    return Decimal(str(value)).normalize() if value % 1 else Decimal(int(value))


def window(rules: BookingRules, now: datetime) -> tuple[datetime, datetime]:
    """The calendar's [begin_from, end_before): now rounded down to the increment, for
    ``horizon_days``."""
    step = rules.timeslot_increment_minutes * 60
    epoch = int(now.timestamp())
    begin = datetime.fromtimestamp(epoch - epoch % step if step else epoch, UTC)
    return begin, begin + timedelta(days=rules.horizon_days)


def free_spans(
    begin: datetime, end: datetime, held: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """[begin, end) minus the ``held`` spans, as ordered disjoint spans."""
    spans, cursor = [], begin
    for start, stop in sorted(held):
        if stop <= cursor or start >= end:
            continue
        if start > cursor:
            spans.append((cursor, start))
        cursor = max(cursor, stop)
    if cursor < end:
        spans.append((cursor, end))
    return spans


def held_on(
    sim: Simulator, b: Bookable, *, exclude: str | None = None
) -> list[tuple[datetime, datetime]]:
    """The spans bookings hold on this EVSE (``exclude``: a booking id left out)."""
    return [
        span
        for booking in sim.store.bookings_on(b.location.id, b.evse.uid)
        if exclude is None or ci_key(booking.id) != ci_key(exclude)
        for span in booking.holds()
    ]


def calendar(sim: Simulator, b: Bookable, now: datetime) -> Calendar | None:
    """The EVSE's calendar; None when nothing is free in the whole window."""
    rules = sim.config.bookings
    begin, end = window(rules, now)
    slots = [
        Timeslot.model_validate(
            {"start_date_time": s, "end_date_time": e}
            | ({"max_power": b.max_power} if b.max_power else {})
        )
        for s, e in free_spans(begin, end, held_on(sim, b))
    ]
    if not slots:
        return None
    fields: dict[str, Any] = {
        "id": CALENDAR_ID,
        "begin_from": begin,
        "end_before": end,
        "available_timeslots": slots,
        "last_updated": last_updated(sim, b),
    }
    if rules.timeslot_increment_minutes:
        fields["timeslot_increment"] = rules.timeslot_increment_minutes
    return Calendar.model_validate(fields)


def last_updated(sim: Simulator, b: Bookable) -> datetime:
    stamps = [b.evse.last_updated, b.location.last_updated]
    stamps += [bk.last_updated for bk in sim.store.bookings_on(b.location.id, b.evse.uid)]
    return max(stamps)


def booking_location(sim: Simulator, b: Bookable, now: datetime | None = None) -> BookingLocation:
    now = now or utcnow()
    cal = calendar(sim, b, now)
    fields: dict[str, Any] = {
        "country_code": b.location.country_code,
        "party_id": b.location.party_id,
        "id": b.id,
        "location_id": b.location.id,
        "booking_option": BookingOption(
            evse_uid=b.evse.uid,
            connector_id=b.evse.connectors[0].id,
            connector_types=[b.evse.connectors[0].standard],
            power_types=[b.evse.connectors[0].power_type],
        ),
        "policy": Policy(reservation_required=False),
        "booking_terms": terms(sim.config.bookings),
        "calendars": [cal] if cal is not None else [],
        "last_updated": last_updated(sim, b),
    }
    if b.tariff_ids:
        fields["tariff_ids"] = b.tariff_ids
    return BookingLocation.model_validate(fields)


def overlaps(bl: BookingLocation, since: datetime | None, until: datetime | None) -> bool:
    """``timeslot_from`` (inclusive) / ``timeslot_to`` (exclusive): does any available
    timeslot reach into [since, until)?"""
    return any(
        (since is None or slot.end_date_time > since)
        and (until is None or slot.start_date_time < until)
        for cal in bl.calendars or []
        for slot in cal.available_timeslots
    )
