"""The outbox's rules: what we send to CPOs is a row first, sent after commit, and retried
with backoff when the CPO cannot be reached.

Two kinds of rows travel through it: OCPI commands (RESERVE_NOW, CANCEL_RESERVATION,
START_SESSION, STOP_SESSION; ``ocpi_commands``) and OCPI 2.3.0 Bookings-module requests
(create, change, cancel; ``ocpi_booking_requests``). Both walk the same small state table,
:data:`TRANSITIONS`, as a booking walks ``lifecycle.TRANSITIONS``: one function applies it, an
illegal pair raises one error naming both and changes nothing. A test covers every pair.

The diagram in ``docs/lifecycle.md`` is generated from the table
(``python -m chargebook.domain.outbox``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chargebook.domain.errors import IllegalTransition
from chargebook.domain.lifecycle import BookingEvent

#: How long one send waits for the CPO's answer, unless the operator sets another.
SEND_TIMEOUT_SECONDS = 15.0
#: A claimed row is leased for the send timeout plus this; a cancellation that follows a send
#: left unanswered waits this long too (a slow CPO may still be working on that send).
LEASE_MARGIN = timedelta(seconds=5)


class OutboxState(StrEnum):
    """Where one outgoing row is. Stored as the string value."""

    DUE = "due"  # to be sent (the first time, or again after a failed attempt)
    SENDING = "sending"  # claimed and leased by a worker; its answer is not recorded yet
    SENT = "sent"  # the CPO took it; the outcome comes later (a CommandResult, a change decided)
    ANSWERED = "answered"  # the CPO's outcome is in
    FAILED = "failed"  # refused, given up after the retry budget, or no outcome in time
    WITHDRAWN = "withdrawn"  # its booking ended first: it is not sent (again)


class OutboxEvent(StrEnum):
    CLAIMED = "CLAIMED"  # a worker takes it to send (or takes over one whose lease ran out)
    RETRY = "RETRY"  # the attempt got no usable answer and the retry budget is not spent
    TAKEN = "TAKEN"  # the CPO took it and will tell its outcome later
    ANSWERED = "ANSWERED"  # the CPO's outcome arrived
    FAILED = "FAILED"  # the CPO refused it, the budget is spent, or the outcome never came
    WITHDRAWN = "WITHDRAWN"  # its booking ended: do not send it (again)


class SendOutcome(StrEnum):
    """What one send got back."""

    ANSWERED = "answered"  # a success envelope whose data we could read
    MALFORMED = "malformed"  # a success envelope whose data is not what the module answers
    REFUSED = "refused"  # an OCPI error status: the CPO said no
    UNREACHABLE = "unreachable"  # no answer: transport failure, HTTP 5xx, no endpoint, deadline


St = OutboxState
Ev = OutboxEvent

#: (state, event) -> next state. Every pair not listed is illegal.
TRANSITIONS: dict[tuple[OutboxState, OutboxEvent], OutboxState] = {
    (St.DUE, Ev.CLAIMED): St.SENDING,
    # Its sender died or stalled past the lease: another worker sends it again.
    (St.SENDING, Ev.CLAIMED): St.SENDING,
    (St.SENDING, Ev.RETRY): St.DUE,
    (St.SENDING, Ev.TAKEN): St.SENT,
    (St.SENDING, Ev.ANSWERED): St.ANSWERED,
    (St.SENDING, Ev.FAILED): St.FAILED,
    (St.SENT, Ev.ANSWERED): St.ANSWERED,
    (St.SENT, Ev.FAILED): St.FAILED,
    # A CommandResult may arrive for an attempt whose synchronous answer we never read.
    (St.DUE, Ev.ANSWERED): St.ANSWERED,
    (St.DUE, Ev.WITHDRAWN): St.WITHDRAWN,
    (St.SENDING, Ev.WITHDRAWN): St.WITHDRAWN,
    (St.SENT, Ev.WITHDRAWN): St.WITHDRAWN,
}

#: States no event leaves.
FINAL_STATES: frozenset[OutboxState] = frozenset(OutboxState) - {s for s, _ in TRANSITIONS}
#: States the worker claims rows in.
CLAIMABLE: tuple[OutboxState, ...] = (St.DUE, St.SENDING)


def next_state(state: OutboxState, event: OutboxEvent) -> OutboxState:
    """Look up the table; an illegal pair raises and changes nothing."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(
            f"An outgoing row in state {state} cannot take event {event}"
        ) from None


def can_apply(state: OutboxState, event: OutboxEvent) -> bool:
    return (state, event) in TRANSITIONS


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Sends that get no usable answer are retried with exponential backoff until the budget
    (``attempts`` sends in all) is spent."""

    attempts: int = 4
    base_seconds: float = 2.0
    # How long one send may take. A claimed row is leased for this plus a margin, and the
    # send is abandoned when it runs out, so a lease never ends while its send is in flight.
    send_timeout_seconds: float = SEND_TIMEOUT_SECONDS

    def backoff(self, attempt: int) -> timedelta:
        return timedelta(seconds=min(60.0, self.base_seconds * 2 ** (attempt - 1)))

    def may_retry(self, attempt: int) -> bool:
        """After send number ``attempt`` (1-based) got no usable answer: try again?"""
        return attempt < self.attempts

    @property
    def lease(self) -> timedelta:
        """How long a claimed send is held before another worker may take it over."""
        return timedelta(seconds=self.send_timeout_seconds) + LEASE_MARGIN


#: Ends of a booking decided on our side, or by a CPO that never gave an answer we could use:
#: the CPO may still hold the reservation we asked for, so it is withdrawn or cancelled.
#: (When the CPO refused or cancelled it, or the reservation was used or ran out, nothing is.)
RELEASING_EVENTS: frozenset[BookingEvent] = frozenset(
    {
        BookingEvent.CLIENT_CANCELLED,
        BookingEvent.WINDOW_STARTED_UNCONFIRMED,
        BookingEvent.CPO_TIMEOUT,
        BookingEvent.CPO_UNREACHABLE,
        BookingEvent.CPO_FAILED,
    }
)


class CancelWhen(StrEnum):
    """When the cancellation goes out: never before the CPO is done with what it cancels."""

    NOW = "now"  # the CPO answered the request: it has dealt with it
    LEASE_END = "lease_end"  # the request is in flight: after its lease (sooner if answered)
    AFTER_MARGIN = "after_margin"  # its last send went unanswered: after LEASE_MARGIN


@dataclass(frozen=True, slots=True)
class Release:
    """What becomes of a booking's reservation request (a RESERVE_NOW, a Bookings create) when
    the booking ends by one of :data:`RELEASING_EVENTS`."""

    withdraw: bool  # it is not sent (again)
    cancel: CancelWhen | None  # the CPO may hold it: send a cancellation, then


def release(state: OutboxState, attempts: int, accepted: bool) -> Release:
    """``attempts``: sends made so far; ``accepted``: the CPO's answered outcome was a yes."""
    if state is St.DUE:
        # Never sent: nothing to cancel. Waiting for a retry: an earlier send may have
        # reached the CPO although its answer did not reach us.
        return Release(withdraw=True, cancel=CancelWhen.AFTER_MARGIN if attempts > 0 else None)
    if state is St.SENDING:
        return Release(withdraw=True, cancel=CancelWhen.LEASE_END)
    if state is St.SENT:  # the CPO took it; its outcome is not in yet
        return Release(withdraw=True, cancel=CancelWhen.NOW)
    if state is St.ANSWERED:
        return Release(withdraw=False, cancel=CancelWhen.NOW if accepted else None)
    if state is St.FAILED:
        # Within RELEASING_EVENTS a failed request never got a usable answer (no result in
        # time, unreachable, unreadable): the CPO may have taken it.
        return Release(withdraw=False, cancel=CancelWhen.AFTER_MARGIN)
    return Release(withdraw=False, cancel=None)  # WITHDRAWN: released already


def cancel_due(when: CancelWhen, now: datetime, lease_end: datetime) -> datetime:
    """The time a cancellation decided at ``now`` is due (``lease_end``: the request's)."""
    if when is CancelWhen.LEASE_END:
        return max(now, lease_end)
    if when is CancelWhen.AFTER_MARGIN:
        return now + LEASE_MARGIN
    return now


def mermaid() -> str:
    """The state diagram, generated from the table (``docs/lifecycle.md``)."""
    lines = ["stateDiagram-v2", "    [*] --> due: recorded"]
    for (src, event), dst in TRANSITIONS.items():
        lines.append(f"    {src} --> {dst}: {event}")
    for final in sorted(FINAL_STATES):
        lines.append(f"    {final} --> [*]")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - docs generator
    print(mermaid())
