"""The booking lifecycle: one explicit transition table and one function that applies it.

States are EV Suite's eight wire values; integrators switch on them, so none is added.
Why a booking ended travels beside the state as a :class:`StatusReason`.

The diagram in ``docs/lifecycle.md`` is generated from :data:`TRANSITIONS`
(``python -m chargebook.domain.lifecycle``); a test covers every (state, event) pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chargebook.domain.errors import IllegalTransition


class BookingStatus(StrEnum):
    REQUESTED = "REQUESTED"  # accepted by the platform, not yet sent to the CPO
    PENDING = "PENDING"  # sent to the CPO, awaiting its answer
    CONFIRMED = "CONFIRMED"  # the CPO accepted; cpo_reservation_id is set
    ATTENDING = "ATTENDING"  # the CPO reported a session/authorization with the booking's token
    COMPLETED = "COMPLETED"  # the session ended; final price from the CDR
    CANCELLED = "CANCELLED"  # by the client, by the CPO, or the CPO rejected/failed it
    EXPIRED = "EXPIRED"  # the window began before the CPO ever confirmed
    NO_SHOW = "NO_SHOW"  # confirmed, but no session by the end of the window plus a grace


class BookingEvent(StrEnum):
    CREATED = "CREATED"  # the client's create: every booking's first step, into REQUESTED
    SENT_TO_CPO = "SENT_TO_CPO"
    CPO_ACCEPTED = "CPO_ACCEPTED"
    CPO_REJECTED = "CPO_REJECTED"
    CPO_FAILED = "CPO_FAILED"  # the CPO answered with an error, or the command failed
    CPO_UNREACHABLE = "CPO_UNREACHABLE"  # transport errors until the retry budget ran out
    CPO_TIMEOUT = "CPO_TIMEOUT"  # no result within the command timeout
    CPO_CANCELLED = "CPO_CANCELLED"
    CLIENT_CANCELLED = "CLIENT_CANCELLED"
    SESSION_STARTED = "SESSION_STARTED"
    SESSION_COMPLETED = "SESSION_COMPLETED"  # the CDR arrived
    WINDOW_STARTED_UNCONFIRMED = "WINDOW_STARTED_UNCONFIRMED"
    WINDOW_ENDED_UNATTENDED = "WINDOW_ENDED_UNATTENDED"


class StatusReason(StrEnum):
    """Why a booking is where it is: machine-readable, beside the status."""

    CLIENT_CANCELLED = "CLIENT_CANCELLED"
    CPO_CANCELLED = "CPO_CANCELLED"
    CPO_REJECTED = "CPO_REJECTED"
    CPO_FAILED = "CPO_FAILED"
    CPO_UNREACHABLE = "CPO_UNREACHABLE"
    CPO_TIMEOUT = "CPO_TIMEOUT"
    NOT_CONFIRMED_IN_TIME = "NOT_CONFIRMED_IN_TIME"
    NOT_ATTENDED = "NOT_ATTENDED"
    SESSION_COMPLETED = "SESSION_COMPLETED"


S = BookingStatus
E = BookingEvent
R = StatusReason

#: (state, event) -> (next state, reason recorded with it, or None).
#: Every pair not listed is illegal.
TRANSITIONS: dict[tuple[BookingStatus, BookingEvent], tuple[BookingStatus, StatusReason | None]] = {
    (S.REQUESTED, E.SENT_TO_CPO): (S.PENDING, None),
    (S.REQUESTED, E.CLIENT_CANCELLED): (S.CANCELLED, R.CLIENT_CANCELLED),
    (S.REQUESTED, E.WINDOW_STARTED_UNCONFIRMED): (S.EXPIRED, R.NOT_CONFIRMED_IN_TIME),
    # The CPO can be found unreachable before the command was ever accepted for delivery.
    (S.REQUESTED, E.CPO_UNREACHABLE): (S.CANCELLED, R.CPO_UNREACHABLE),
    (S.PENDING, E.CPO_ACCEPTED): (S.CONFIRMED, None),
    (S.PENDING, E.CPO_REJECTED): (S.CANCELLED, R.CPO_REJECTED),
    (S.PENDING, E.CPO_FAILED): (S.CANCELLED, R.CPO_FAILED),
    (S.PENDING, E.CPO_UNREACHABLE): (S.CANCELLED, R.CPO_UNREACHABLE),
    (S.PENDING, E.CPO_TIMEOUT): (S.CANCELLED, R.CPO_TIMEOUT),
    # OCPI 2.3.0 Bookings: a CPO may cancel a booking it has not confirmed yet.
    (S.PENDING, E.CPO_CANCELLED): (S.CANCELLED, R.CPO_CANCELLED),
    (S.PENDING, E.CLIENT_CANCELLED): (S.CANCELLED, R.CLIENT_CANCELLED),
    (S.PENDING, E.WINDOW_STARTED_UNCONFIRMED): (S.EXPIRED, R.NOT_CONFIRMED_IN_TIME),
    (S.CONFIRMED, E.CLIENT_CANCELLED): (S.CANCELLED, R.CLIENT_CANCELLED),
    (S.CONFIRMED, E.CPO_CANCELLED): (S.CANCELLED, R.CPO_CANCELLED),
    (S.CONFIRMED, E.SESSION_STARTED): (S.ATTENDING, None),
    (S.CONFIRMED, E.WINDOW_ENDED_UNATTENDED): (S.NO_SHOW, R.NOT_ATTENDED),
    (S.ATTENDING, E.SESSION_COMPLETED): (S.COMPLETED, R.SESSION_COMPLETED),
}

#: States in which a booking still holds its EVSE for its window.
LIVE_STATES: frozenset[BookingStatus] = frozenset({S.REQUESTED, S.PENDING, S.CONFIRMED, S.ATTENDING})

#: States no event leaves.
FINAL_STATES: frozenset[BookingStatus] = frozenset(BookingStatus) - {s for s, _ in TRANSITIONS}


@dataclass(frozen=True, slots=True)
class Transition:
    """One applied step, as recorded in the booking's history."""

    from_status: BookingStatus
    to_status: BookingStatus
    event: BookingEvent
    reason: StatusReason | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Creation:
    """The first step of every booking's history: it comes into being in ``REQUESTED``."""

    to_status: BookingStatus
    event: BookingEvent
    at: datetime


#: Where every booking starts. No entry of TRANSITIONS leads here from another state.
INITIAL_STATUS = BookingStatus.REQUESTED


def create(at: datetime) -> Creation:
    """The creation step at ``at`` (aware, passed by the caller)."""
    if at.tzinfo is None:
        raise ValueError("creation time must be timezone-aware")
    return Creation(to_status=INITIAL_STATUS, event=BookingEvent.CREATED, at=at)


def next_status(status: BookingStatus, event: BookingEvent) -> tuple[BookingStatus, StatusReason | None]:
    """Look up the table; an illegal pair raises and changes nothing."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(f"Booking in state {status} cannot take event {event}") from None


def apply(status: BookingStatus, event: BookingEvent, at: datetime) -> Transition:
    """Apply ``event`` to a booking in ``status`` at time ``at`` (aware, passed by the caller)."""
    if at.tzinfo is None:
        raise ValueError("transition time must be timezone-aware")
    to, reason = next_status(status, event)
    return Transition(from_status=status, to_status=to, event=event, reason=reason, at=at)


def can_apply(status: BookingStatus, event: BookingEvent) -> bool:
    return (status, event) in TRANSITIONS


def mermaid() -> str:
    """The state diagram, generated from the table (``docs/lifecycle.md``)."""
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL_STATUS}: {BookingEvent.CREATED}"]
    for (src, event), (dst, _) in TRANSITIONS.items():
        lines.append(f"    {src} --> {dst}: {event}")
    for final in sorted(FINAL_STATES):
        lines.append(f"    {final} --> [*]")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - docs generator
    print(mermaid())
