"""How the simulated CPO answers BookingRequests (OCPI 2.3.0 Bookings 1.1 mod_bookings.asciidoc
§ Flow and Lifecycle, § BookingRequest class).

``POST {bookings}`` carries a BookingRequest. A new ``request_id`` creates a booking; the same
``request_id`` again changes it, or cancels it when ``canceled`` is set. Each request is
decided when it arrives (``decide_*``), answered at once with the Booking (``PENDING``, or
``RESERVED`` with the new request ``PENDING`` during a change), and published after
``processing_delay_seconds``: the decision is applied and the Booking pushed to the eMSP.

Decisions, in the order checked (the tables in docs/cpo-simulator.md):

* every request: ``never_answer_share`` (stays PENDING, nothing pushed), ``fail_share``
  (request FAILED; a new booking FAILED);
* create: EVSE unusable, period before the calendar's ``begin_from`` or ended / beyond it, shorter or longer than
  the terms allow, overlapping a held slot, ``reject_evse_uids`` / ``reject_share`` →
  REJECTED (request DECLINED); otherwise RESERVED (request ACCEPTED);
* change: only a RESERVED booking, not with ``change_not_allowed``, not later than
  ``change_until_minutes`` before the start, same booking location, and the new period must
  pass the create checks (ignoring the booking's own slot) → ACCEPTED (period, tokens,
  access information updated; the booking stays RESERVED), else DECLINED;
* cancel: a PENDING or RESERVED booking → CANCELED with the eMSP's Cancellation (also after
  ``cancel_until_minutes``: then a late cancellation), else DECLINED.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chargebook.cpo_sim import booking_driver, booking_locations, outbound
from chargebook.cpo_sim.booked import FINAL, LIVE, RequestRecord, SimBooking
from chargebook.cpo_sim.booking_locations import Bookable
from chargebook.cpo_sim.decisions import UNUSABLE
from chargebook.cpo_sim.simulator import Simulator
from chargebook.cpo_sim.store import utcnow
from chargebook.ocpi.v230 import (
    BookingRequest,
    Cancellation,
    ReservationRequestStatus,
    ReservationStatus,
    Role,
    StatusCode,
    ci_equal,
    ci_key,
)

ACCEPTED = ReservationRequestStatus.ACCEPTED
DECLINED = ReservationRequestStatus.DECLINED
FAILED = ReservationRequestStatus.FAILED
Decision = tuple[ReservationRequestStatus | None, str | None, dict[str, Any]]


class BookingError(Exception):
    """A request we answer with an OCPI error and no booking change."""

    def __init__(self, status_code: int, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.status_code, self.http_status = status_code, http_status


# --- receiving ---------------------------------------------------------------------------


def receive(sim: Simulator, request: BookingRequest) -> SimBooking:
    """Record and decide a BookingRequest; its publication is scheduled."""
    store, now = sim.store, utcnow()
    booking = store.booking_by_request(request.country_code, request.party_id, request.request_id)
    if booking is None:
        if request.canceled is not None:
            raise BookingError(
                StatusCode.INVALID_OR_MISSING_PARAMETERS,
                f"no booking with request_id {request.request_id} to cancel",
                404,
            )
        booking, record = _create(sim, request, now)
    else:
        kind = "cancel" if request.canceled is not None else "change"
        decide = decide_cancel if kind == "cancel" else decide_change
        outcome, reason, effect = _unless_faulty(sim, kind) or decide(sim, booking, request, now)
        record = RequestRecord(kind, request, now, outcome, reason, effect)
        booking.requests.append(record)
    store.log(
        "booking_request",
        booking_id=booking.id,
        request_id=request.request_id,
        request_kind=record.kind,
        decided=record.outcome.value if record.outcome else "never",
        reason=record.reason,
    )
    sim.spawn(publish(sim, booking, record), f"booking-{booking.id}")
    return booking


def _create(
    sim: Simulator, request: BookingRequest, now: datetime
) -> tuple[SimBooking, RequestRecord]:
    bookable = booking_locations.find(sim, request.booking_location_id)
    if bookable is None or not ci_equal(bookable.location.id, request.location_id):
        raise BookingError(
            StatusCode.UNKNOWN_LOCATION,
            f"unknown booking location {request.location_id}/{request.booking_location_id}",
            404,
        )
    booking = SimBooking(
        id=sim.store.next_id("B"),
        country_code=sim.config.country_code,
        party_id=sim.config.party_id,
        emsp_country_code=request.country_code,
        emsp_party_id=request.party_id,
        request_id=request.request_id,
        booking_location_id=bookable.id,
        location_id=bookable.location.id,
        evse_uid=bookable.evse.uid,
        connector_id=bookable.evse.connectors[0].id,
        start=request.period.start_date_time,
        end=request.period.end_date_time,
        tokens=list(request.tokens or []),
        access_information=list(request.access_information or []),
        authorization_reference=request.authorization_reference,
        terms=booking_locations.terms(sim.config.bookings),
        tariff_ids=bookable.tariff_ids,
        max_power=bookable.max_power,
        last_updated=now,
    )
    outcome, reason, effect = _unless_faulty(sim, "create") or decide_create(
        sim, bookable, request, now
    )
    record = RequestRecord("create", request, now, outcome, reason, effect)
    booking.requests.append(record)
    sim.store.bookings[ci_key(booking.id)] = booking
    return booking, record


def _unless_faulty(sim: Simulator, kind: str) -> Decision | None:
    rules = sim.config.bookings
    if sim.chance(rules.never_answer_share):
        return None, "never answered (fault)", {}
    if sim.chance(rules.fail_share):
        effect = {"status": ReservationStatus.FAILED} if kind == "create" else {}
        return FAILED, "processing failed (fault)", effect
    return None


# --- deciding ----------------------------------------------------------------------------


def slot_problem(
    sim: Simulator,
    bookable: Bookable,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    exclude: str | None = None,
) -> str | None:
    """Why [start, end) cannot be booked on this EVSE, or None."""
    rules = sim.config.bookings
    if bookable.evse.status in UNUSABLE:
        return f"the EVSE is {bookable.evse.status.value}"
    # The calendar opens at now rounded down to the increment: a slot that has begun but
    # not ended is still bookable (a driver booking "from now").
    begin_from, end_before = booking_locations.window(rules, now)
    if start < begin_from or end <= now:
        return "the period is in the past"
    if end > end_before:
        return "the period ends beyond the calendar"
    minutes = (end - start) / timedelta(minutes=1)
    if minutes < rules.min_booking_minutes:
        return f"shorter than the minimum of {rules.min_booking_minutes:g} minutes"
    if minutes > rules.max_booking_minutes:
        return f"longer than the maximum of {rules.max_booking_minutes:g} minutes"
    held = booking_locations.held_on(sim, bookable, exclude=exclude)
    if any(s < end and start < e for s, e in held):
        return "the slot is taken"
    return None


def decide_create(
    sim: Simulator, bookable: Bookable, request: BookingRequest, now: datetime
) -> Decision:
    period = request.period
    problem = slot_problem(sim, bookable, period.start_date_time, period.end_date_time, now)
    rules = sim.config.bookings
    if problem is None and (
        ci_key(bookable.evse.uid) in {ci_key(u) for u in rules.reject_evse_uids}
        or sim.chance(rules.reject_share)
    ):
        problem = "refused by the operator's rules"
    if problem is not None:
        return DECLINED, problem, {"status": ReservationStatus.REJECTED}
    return ACCEPTED, None, {"status": ReservationStatus.RESERVED}


def decide_change(
    sim: Simulator, booking: SimBooking, request: BookingRequest, now: datetime
) -> Decision:
    projected, rules = booking.projected(), sim.config.bookings
    problem = None
    if projected["status"] is not ReservationStatus.RESERVED:
        problem = f"only a RESERVED booking can be changed (it is {projected['status'].value})"
    elif rules.change_not_allowed:
        problem = "changes are not allowed"
    elif now > projected["start"] - timedelta(minutes=rules.change_until_minutes):
        problem = f"changes close {rules.change_until_minutes:g} minutes before the start"
    elif not ci_equal(request.booking_location_id, booking.booking_location_id):
        problem = "a change cannot move the booking to another booking location"
    else:
        bookable = booking_locations.find(sim, booking.booking_location_id)
        assert bookable is not None
        period = request.period
        problem = slot_problem(
            sim, bookable, period.start_date_time, period.end_date_time, now, exclude=booking.id
        )
    if problem is not None:
        return DECLINED, problem, {}
    effect = {
        "start": request.period.start_date_time,
        "end": request.period.end_date_time,
        "tokens": list(request.tokens or []),
        "access_information": list(request.access_information or []),
        "authorization_reference": request.authorization_reference,
    }
    return ACCEPTED, None, effect


def decide_cancel(
    sim: Simulator, booking: SimBooking, request: BookingRequest, now: datetime
) -> Decision:
    status = booking.projected()["status"]
    if status not in LIVE:
        return DECLINED, f"the booking is already {status.value}", {}
    late = now > booking.start - timedelta(minutes=sim.config.bookings.cancel_until_minutes)
    effect = {"status": ReservationStatus.CANCELED, "canceled": request.canceled}
    return ACCEPTED, "late cancellation" if late else None, effect


# --- publishing --------------------------------------------------------------------------


async def publish(sim: Simulator, booking: SimBooking, record: RequestRecord) -> None:
    """After the processing delay: apply the decision and push the Booking."""
    if not await sim.sleep(sim.config.bookings.processing_delay_seconds):
        return
    if record.outcome is None:
        sim.store.log("booking_unanswered", booking_id=booking.id, request_kind=record.kind)
        return
    apply(booking, record, utcnow())
    await outbound.push_booking(sim, booking)
    booking_driver.follow(sim, booking)


def apply(booking: SimBooking, record: RequestRecord, now: datetime) -> None:
    assert record.outcome is not None
    record.status, record.published_at = record.outcome, now
    for name, value in record.effect.items():
        if name == "status" and booking.status in FINAL:
            continue  # e.g. cancelled by us before this request was published
        setattr(booking, name, value)
    booking.last_updated = now
    booking.changed.set()


async def cancel_by_cpo(sim: Simulator, booking: SimBooking, reason: str) -> bool:
    """We cancel (a broken charger, a power outage): CANCELED with ``who_canceled: CPO``
    (mod_bookings.asciidoc § Flow: cancellation by the CPO)."""
    if booking.status not in LIVE:
        return False
    cancellation = Cancellation.model_validate(
        {"cancellation_reason": reason, "who_canceled": Role.CPO}
    )
    return await booking_driver.set_status(
        sim, booking, ReservationStatus.CANCELED, canceled=cancellation
    )
