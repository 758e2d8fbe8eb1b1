"""Booking windows: the time rules a booking request must satisfy, and overlap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chargebook.domain.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class WindowRules:
    min_lead: timedelta  # the window starts at least this far ahead
    max_duration: timedelta  # the CPO's maximum (EV Suite: typically 4 h)
    max_horizon: timedelta  # how far ahead a window may start
    min_duration: timedelta = timedelta(minutes=5)


def check_window(start: datetime, end: datetime, now: datetime, rules: WindowRules) -> None:
    """Raise :class:`InvalidRequest` naming the field when the window breaks a rule."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidRequest("reservation_start and reservation_end must carry a UTC offset")
    if end <= start:
        raise InvalidRequest("reservation_end must be after reservation_start")
    if start < now + rules.min_lead:
        minutes = int(rules.min_lead.total_seconds() // 60)
        raise InvalidRequest(f"reservation_start must be at least {minutes} minutes in the future")
    if start > now + rules.max_horizon:
        days = rules.max_horizon.days
        raise InvalidRequest(f"reservation_start must be within {days} days from now")
    duration = end - start
    if duration < rules.min_duration:
        minutes = int(rules.min_duration.total_seconds() // 60)
        raise InvalidRequest(f"reservation window must last at least {minutes} minutes")
    if duration > rules.max_duration:
        minutes = int(rules.max_duration.total_seconds() // 60)
        raise InvalidRequest(
            f"reservation window exceeds this CPO's maximum duration of {minutes} minutes"
        )


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open windows [start, end) overlap: back-to-back bookings do not collide."""
    return a_start < b_end and b_start < a_end


def sent_at_once(start: datetime, now: datetime, lead: timedelta) -> bool:
    """Whether a RESERVE_NOW for a window starting at ``start`` goes out now: it is sent
    ``lead`` before the window (the CPO's reserve lead time), or at once when that has passed."""
    return start - lead <= now
