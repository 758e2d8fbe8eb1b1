"""The CPO's ReservationStatus (OCPI 2.3.0 Bookings) × every one of our states."""

from __future__ import annotations

import pytest

from chargebook.domain.lifecycle import TRANSITIONS, BookingEvent, BookingStatus, StatusReason
from chargebook.domain.reservation_status import events_for, status_after
from chargebook.ocpi.v230.bookings import ReservationStatus

S, E = BookingStatus, BookingEvent
LIVE_BEFORE_SESSION = (S.REQUESTED, S.PENDING, S.CONFIRMED)

#: (CPO status, who_canceled) -> {our state: where we end up}; states not listed stay put.
EXPECTED: dict[tuple[str, str | None], dict[BookingStatus, BookingStatus]] = {
    ("PENDING", None): {S.REQUESTED: S.PENDING},
    ("RESERVED", None): {S.REQUESTED: S.CONFIRMED, S.PENDING: S.CONFIRMED},
    ("FULFILLED", None): {s: S.ATTENDING for s in LIVE_BEFORE_SESSION},
    ("NO_SHOW", None): {s: S.NO_SHOW for s in LIVE_BEFORE_SESSION},
    ("REJECTED", None): {s: S.CANCELLED for s in LIVE_BEFORE_SESSION},
    ("FAILED", None): {s: S.CANCELLED for s in LIVE_BEFORE_SESSION},
    ("CANCELED", "CPO"): {s: S.CANCELLED for s in LIVE_BEFORE_SESSION},
    ("CANCELED", "EMSP"): {s: S.CANCELLED for s in LIVE_BEFORE_SESSION},
    ("UNKNOWN", None): {},
}


@pytest.mark.parametrize("cpo", list(EXPECTED))
@pytest.mark.parametrize("ours", list(BookingStatus))
def test_every_cpo_status_against_every_state(cpo: tuple[str, str | None], ours: BookingStatus) -> None:
    status, who = cpo
    assert status_after(status, ours, who) == EXPECTED[cpo].get(ours, ours)


def test_the_table_covers_every_reservation_status() -> None:
    assert {s for s, _ in EXPECTED} == {s.value for s in ReservationStatus}


def _reason(ours: BookingStatus, status: str, who: str | None = None) -> StatusReason | None:
    state, reason = ours, None
    for event in events_for(status, ours, who):
        state, reason = TRANSITIONS[(state, event)]
    return reason


@pytest.mark.parametrize(("ours", "status", "who", "reason"), [
    (S.PENDING, "REJECTED", None, StatusReason.CPO_REJECTED),
    (S.REQUESTED, "REJECTED", None, StatusReason.CPO_REJECTED),
    (S.CONFIRMED, "REJECTED", None, StatusReason.CPO_CANCELLED),  # a confirmed booking is cancelled
    (S.PENDING, "FAILED", None, StatusReason.CPO_FAILED),
    (S.CONFIRMED, "FAILED", None, StatusReason.CPO_CANCELLED),
    (S.CONFIRMED, "CANCELED", "CPO", StatusReason.CPO_CANCELLED),
    (S.PENDING, "CANCELED", "CPO", StatusReason.CPO_CANCELLED),
    (S.CONFIRMED, "CANCELED", None, StatusReason.CPO_CANCELLED),  # who unknown: the CPO's word
    (S.CONFIRMED, "CANCELED", "EMSP", StatusReason.CLIENT_CANCELLED),
    (S.CONFIRMED, "NO_SHOW", None, StatusReason.NOT_ATTENDED),
])
def test_endings_carry_their_reason(ours: BookingStatus, status: str, who: str | None, reason: StatusReason) -> None:
    assert _reason(ours, status, who) is reason


def test_confirmed_only_once_the_cpo_says_reserved() -> None:
    for status in ReservationStatus:
        if status in (ReservationStatus.RESERVED, ReservationStatus.FULFILLED, ReservationStatus.NO_SHOW):
            continue
        assert E.CPO_ACCEPTED not in events_for(status.value, S.PENDING), status


def test_events_walk_the_lifecycle_in_order() -> None:
    assert events_for("FULFILLED", S.REQUESTED) == [E.SENT_TO_CPO, E.CPO_ACCEPTED, E.SESSION_STARTED]
    assert events_for("RESERVED", S.CONFIRMED) == []
    assert events_for("PENDING", S.CONFIRMED) == []  # a change pending at the CPO keeps it confirmed
    assert events_for("SOMETHING_NEW", S.PENDING) == []  # OCPI peers add values: no change
