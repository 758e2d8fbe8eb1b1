"""The outbox's state table, pair by pair, its retry policy, and random walks through it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargebook.domain.errors import IllegalTransition
from chargebook.domain.lifecycle import TRANSITIONS as LIFECYCLE
from chargebook.domain.lifecycle import BookingEvent, BookingStatus
from chargebook.domain.outbox import (
    CLAIMABLE,
    FINAL_STATES,
    LEASE_MARGIN,
    RELEASING_EVENTS,
    TRANSITIONS,
    CancelWhen,
    OutboxEvent,
    OutboxState,
    Release,
    RetryPolicy,
    can_apply,
    cancel_due,
    mermaid,
    next_state,
    release,
)

S, E = OutboxState, OutboxEvent

#: What docs/lifecycle.md describes, written out independently of the table.
EXPECTED = {
    (S.DUE, E.CLAIMED): S.SENDING,
    (S.SENDING, E.CLAIMED): S.SENDING,
    (S.SENDING, E.RETRY): S.DUE,
    (S.SENDING, E.TAKEN): S.SENT,
    (S.SENDING, E.ANSWERED): S.ANSWERED,
    (S.SENDING, E.FAILED): S.FAILED,
    (S.SENT, E.ANSWERED): S.ANSWERED,
    (S.SENT, E.FAILED): S.FAILED,
    (S.DUE, E.ANSWERED): S.ANSWERED,
    (S.DUE, E.WITHDRAWN): S.WITHDRAWN,
    (S.SENDING, E.WITHDRAWN): S.WITHDRAWN,
    (S.SENT, E.WITHDRAWN): S.WITHDRAWN,
}


@pytest.mark.parametrize("state", list(OutboxState))
@pytest.mark.parametrize("event", list(OutboxEvent))
def test_every_pair(state: OutboxState, event: OutboxEvent) -> None:
    if (state, event) in EXPECTED:
        assert next_state(state, event) == EXPECTED[(state, event)]
        assert can_apply(state, event)
    else:
        assert not can_apply(state, event)
        with pytest.raises(IllegalTransition) as info:
            next_state(state, event)
        assert str(state) in str(info.value) and str(event) in str(info.value)


def test_states_are_stored_as_the_old_strings() -> None:
    """Rows written before the enum existed hold exactly these values."""
    assert [s.value for s in OutboxState] == [
        "due",
        "sending",
        "sent",
        "answered",
        "failed",
        "withdrawn",
    ]
    assert FINAL_STATES == {S.ANSWERED, S.FAILED, S.WITHDRAWN}
    assert set(CLAIMABLE) == {S.DUE, S.SENDING}


def test_diagram_lists_every_transition() -> None:
    diagram = mermaid()
    for (src, event), dst in TRANSITIONS.items():
        assert f"{src} --> {dst}: {event}" in diagram


def test_retry_policy() -> None:
    policy = RetryPolicy(attempts=3, base_seconds=2.0, send_timeout_seconds=10)
    assert [policy.backoff(n) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (2, 4, 8)]
    assert policy.backoff(20) == timedelta(seconds=60)  # capped
    assert [policy.may_retry(n) for n in (1, 2, 3, 4)] == [True, True, False, False]
    assert policy.lease == timedelta(seconds=15)  # longer than one send may take


@given(st.lists(st.sampled_from(list(OutboxEvent)), max_size=30))
def test_random_event_sequences(events: list[OutboxEvent]) -> None:
    """Whatever arrives: only table steps happen, final states absorb, and nothing is sent
    (SENDING) once it was withdrawn or settled."""
    state = S.DUE
    path = [state]
    for event in events:
        if not can_apply(state, event):
            continue
        assert state not in FINAL_STATES
        state = next_state(state, event)
        path.append(state)
    for before, after in zip(path, path[1:], strict=False):
        if after is S.SENDING:
            assert before in CLAIMABLE
        if after is S.SENT:
            assert before is S.SENDING


W = CancelWhen

#: What becomes of a reservation request when its booking ends on our side, written out.
RELEASES = {
    (S.DUE, 0, False): Release(True, None),
    (S.DUE, 0, True): Release(True, None),
    (S.DUE, 2, False): Release(True, W.AFTER_MARGIN),
    (S.DUE, 2, True): Release(True, W.AFTER_MARGIN),
    (S.SENDING, 1, False): Release(True, W.LEASE_END),
    (S.SENDING, 1, True): Release(True, W.LEASE_END),
    (S.SENT, 1, False): Release(True, W.NOW),
    (S.SENT, 1, True): Release(True, W.NOW),
    (S.ANSWERED, 1, False): Release(False, None),
    (S.ANSWERED, 1, True): Release(False, W.NOW),
    (S.FAILED, 4, False): Release(False, W.AFTER_MARGIN),
    (S.FAILED, 4, True): Release(False, W.AFTER_MARGIN),
    (S.WITHDRAWN, 1, False): Release(False, None),
    (S.WITHDRAWN, 1, True): Release(False, None),
}


@pytest.mark.parametrize(("state", "attempts", "accepted"), list(RELEASES))
def test_release_of_every_state(state: OutboxState, attempts: int, accepted: bool) -> None:
    decision = release(state, attempts, accepted)
    assert decision == RELEASES[(state, attempts, accepted)]
    if decision.withdraw:  # only what may still be sent is withdrawn, through the table
        assert next_state(state, E.WITHDRAWN) is S.WITHDRAWN


def test_every_state_has_a_release_rule() -> None:
    assert {state for state, _, _ in RELEASES} == set(OutboxState)


def test_cancellations_never_overtake_the_request() -> None:
    now = datetime(2026, 2, 10, 14, 0, tzinfo=UTC)
    lease_end = now + timedelta(seconds=20)
    assert cancel_due(W.NOW, now, lease_end) == now
    assert cancel_due(W.LEASE_END, now, lease_end) == lease_end
    assert cancel_due(W.LEASE_END, now, now - timedelta(seconds=1)) == now  # the lease is over
    assert cancel_due(W.AFTER_MARGIN, now, lease_end) == now + LEASE_MARGIN


def test_releasing_events_are_the_ends_the_cpo_did_not_decide() -> None:
    ends = {
        event
        for (_, event), (to, _) in LIFECYCLE.items()
        if to
        not in {
            BookingStatus.REQUESTED,
            BookingStatus.PENDING,
            BookingStatus.CONFIRMED,
            BookingStatus.ATTENDING,
        }
    }
    said_by_cpo = {BookingEvent.CPO_REJECTED, BookingEvent.CPO_CANCELLED}
    used_or_ran_out = {BookingEvent.SESSION_COMPLETED, BookingEvent.WINDOW_ENDED_UNATTENDED}
    assert RELEASING_EVENTS == ends - said_by_cpo - used_or_ran_out
