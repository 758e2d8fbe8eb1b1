"""The transition table, pair by pair, and random walks through it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargebook.domain.errors import IllegalTransition
from chargebook.domain.lifecycle import (
    FINAL_STATES,
    LIVE_STATES,
    TRANSITIONS,
    BookingEvent,
    BookingStatus,
    apply,
    mermaid,
)

S, E = BookingStatus, BookingEvent
NOW = datetime(2026, 2, 10, 14, 0, tzinfo=UTC)

#: The lifecycle SPEC.md describes, written out independently of the table.
EXPECTED = {
    (S.REQUESTED, E.SENT_TO_CPO): S.PENDING,
    (S.REQUESTED, E.CLIENT_CANCELLED): S.CANCELLED,
    (S.REQUESTED, E.WINDOW_STARTED_UNCONFIRMED): S.EXPIRED,
    (S.REQUESTED, E.CPO_UNREACHABLE): S.CANCELLED,
    (S.PENDING, E.CPO_ACCEPTED): S.CONFIRMED,
    (S.PENDING, E.CPO_REJECTED): S.CANCELLED,
    (S.PENDING, E.CPO_FAILED): S.CANCELLED,
    (S.PENDING, E.CPO_UNREACHABLE): S.CANCELLED,
    (S.PENDING, E.CPO_TIMEOUT): S.CANCELLED,
    (S.PENDING, E.CPO_CANCELLED): S.CANCELLED,
    (S.PENDING, E.CLIENT_CANCELLED): S.CANCELLED,
    (S.PENDING, E.WINDOW_STARTED_UNCONFIRMED): S.EXPIRED,
    (S.CONFIRMED, E.CLIENT_CANCELLED): S.CANCELLED,
    (S.CONFIRMED, E.CPO_CANCELLED): S.CANCELLED,
    (S.CONFIRMED, E.SESSION_STARTED): S.ATTENDING,
    (S.CONFIRMED, E.WINDOW_ENDED_UNATTENDED): S.NO_SHOW,
    (S.ATTENDING, E.SESSION_COMPLETED): S.COMPLETED,
}


@pytest.mark.parametrize("status", list(BookingStatus))
@pytest.mark.parametrize("event", list(BookingEvent))
def test_every_pair(status: BookingStatus, event: BookingEvent) -> None:
    if (status, event) in EXPECTED:
        step = apply(status, event, NOW)
        assert step.to_status == EXPECTED[(status, event)]
        assert step.from_status == status and step.at == NOW
    else:
        with pytest.raises(IllegalTransition) as info:
            apply(status, event, NOW)
        assert str(status) in str(info.value) and str(event) in str(info.value)


def test_wire_states_are_exactly_ev_suites_eight() -> None:
    assert [s.value for s in BookingStatus] == [
        "REQUESTED", "PENDING", "CONFIRMED", "ATTENDING", "COMPLETED", "CANCELLED", "EXPIRED", "NO_SHOW"
    ]
    assert FINAL_STATES == {S.COMPLETED, S.CANCELLED, S.EXPIRED, S.NO_SHOW}
    assert LIVE_STATES == {S.REQUESTED, S.PENDING, S.CONFIRMED, S.ATTENDING}


def test_failures_carry_a_reason() -> None:
    for (src, event), (dst, reason) in TRANSITIONS.items():
        if dst in FINAL_STATES:
            assert reason is not None, (src, event)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        apply(S.REQUESTED, E.SENT_TO_CPO, datetime(2026, 1, 1))


def test_diagram_lists_every_transition() -> None:
    diagram = mermaid()
    for (src, event), (dst, _) in TRANSITIONS.items():
        assert f"{src} --> {dst}: {event}" in diagram


@given(st.lists(st.sampled_from(list(BookingEvent)), max_size=30))
def test_random_event_sequences(events: list[BookingEvent]) -> None:
    """Whatever arrives, in whatever order: only table steps happen, and final states absorb."""
    status = S.REQUESTED
    path = [status]
    for event in events:
        try:
            step = apply(status, event, NOW)
        except IllegalTransition:
            continue
        assert (status, event) in TRANSITIONS
        assert status not in FINAL_STATES
        status = step.to_status
        path.append(status)
    # Nothing comes back to life, and CONFIRMED is only ever reached through PENDING.
    for before, after in zip(path, path[1:], strict=False):
        assert before in LIVE_STATES
        if after == S.CONFIRMED:
            assert before == S.PENDING
        if after == S.COMPLETED:
            assert before == S.ATTENDING
