"""OCPI 2.3.0 Bookings: the CPO's ReservationStatus mapped onto our eight wire states.

mod_bookings.asciidoc § ReservationStatus enum and § Flow and Lifecycle. The CPO's status is
the truth about its charger; ours may only follow it, never run ahead of it (a booking is
CONFIRMED only once the CPO says RESERVED). Following means walking our transition table
with the events that lead to the CPO's status, skipping those our booking is already past:

| CPO says   | our booking goes to (events, in order)                                        |
|------------|-------------------------------------------------------------------------------|
| PENDING    | PENDING (SENT_TO_CPO)                                                          |
| RESERVED   | CONFIRMED (SENT_TO_CPO, CPO_ACCEPTED)                                          |
| FULFILLED  | ATTENDING (…, CPO_ACCEPTED, SESSION_STARTED); COMPLETED comes with the CDR     |
| NO_SHOW    | NO_SHOW (…, CPO_ACCEPTED, WINDOW_ENDED_UNATTENDED)                             |
| REJECTED   | CANCELLED/CPO_REJECTED; once CONFIRMED, CANCELLED/CPO_CANCELLED                |
| FAILED     | CANCELLED/CPO_FAILED; once CONFIRMED, CANCELLED/CPO_CANCELLED                  |
| CANCELED   | by the CPO: CANCELLED/CPO_CANCELLED; by the EMSP: CANCELLED/CLIENT_CANCELLED   |
| UNKNOWN    | no change                                                                      |

A booking already in a final state, or further along than the CPO's status, does not move
(a late RESERVED for a booking the client cancelled changes nothing; the cancellation
request is on its way). No function here does I/O.
"""

from __future__ import annotations

from chargebook.domain.lifecycle import (
    FINAL_STATES,
    BookingEvent,
    BookingStatus,
    can_apply,
    next_status,
)

E = BookingEvent

#: OCPI ReservationStatus → the events that lead there, in lifecycle order.
_PATHS: dict[str, tuple[BookingEvent, ...]] = {
    "PENDING": (E.SENT_TO_CPO,),
    "RESERVED": (E.SENT_TO_CPO, E.CPO_ACCEPTED),
    "FULFILLED": (E.SENT_TO_CPO, E.CPO_ACCEPTED, E.SESSION_STARTED),
    "NO_SHOW": (E.SENT_TO_CPO, E.CPO_ACCEPTED, E.WINDOW_ENDED_UNATTENDED),
    "REJECTED": (E.SENT_TO_CPO, E.CPO_REJECTED, E.CPO_CANCELLED),
    "FAILED": (E.SENT_TO_CPO, E.CPO_FAILED, E.CPO_CANCELLED),
    "CANCELED": (E.SENT_TO_CPO, E.CPO_CANCELLED),
    "UNKNOWN": (),
}
_CANCELED_BY_EMSP = (E.SENT_TO_CPO, E.CLIENT_CANCELLED)

#: The CPO's final states (§ Flow and Lifecycle): nothing moves a booking out of them.
CPO_FINAL = frozenset({"CANCELED", "NO_SHOW", "REJECTED", "FAILED", "FULFILLED"})


def events_for(reservation_status: str, ours: BookingStatus, who_canceled: str | None = None) -> list[BookingEvent]:
    """The events that bring a booking in ``ours`` in line with the CPO's status (maybe none).

    An unknown status (OCPI peers add values) is treated like UNKNOWN: no change.
    """
    if ours in FINAL_STATES:
        return []
    path = _PATHS.get(reservation_status, ())
    if reservation_status == "CANCELED" and (who_canceled or "").upper() == "EMSP":
        path = _CANCELED_BY_EMSP
    events: list[BookingEvent] = []
    state = ours
    for event in path:
        if can_apply(state, event):
            events.append(event)
            state = next_status(state, event)[0]
    return events


def status_after(reservation_status: str, ours: BookingStatus, who_canceled: str | None = None) -> BookingStatus:
    """Where :func:`events_for` leaves a booking (for tables and tests)."""
    state = ours
    for event in events_for(reservation_status, ours, who_canceled):
        state = next_status(state, event)[0]
    return state
