"""The pure rules: months, reset times, Retry-After, which limit the headers report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from chargebook.domain.rate_limits import (
    ceil_second,
    decide,
    iso_second,
    month_period,
    month_reset,
    seconds_until,
)

T0 = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)


def test_month_period_and_reset_roll_over_december_into_january() -> None:
    last = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert month_period(last) == "2026-12"
    assert month_reset(last) == datetime(2027, 1, 1, tzinfo=UTC)
    first = datetime(2027, 1, 1, tzinfo=UTC)
    assert month_period(first) == "2027-01"
    assert month_reset(first) == datetime(2027, 2, 1, tzinfo=UTC)
    assert month_reset(datetime(2028, 2, 29, 8, tzinfo=UTC)) == datetime(2028, 3, 1, tzinfo=UTC)


def test_the_month_is_the_utc_month_whatever_the_offset() -> None:
    # 23:30 on 31 January in UTC-2 is already 1 February in UTC.
    late = datetime(2026, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert month_period(late) == "2026-02"
    assert month_reset(late) == datetime(2026, 3, 1, tzinfo=UTC)


def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one() -> None:
    assert seconds_until(T0 + timedelta(seconds=45), T0) == 45
    assert seconds_until(T0 + timedelta(seconds=44, microseconds=1), T0) == 45
    assert seconds_until(T0 + timedelta(microseconds=10), T0) == 1
    assert seconds_until(T0 - timedelta(seconds=3), T0) == 1
    assert ceil_second(T0 + timedelta(microseconds=1)) == T0 + timedelta(seconds=1)
    assert ceil_second(T0) == T0
    assert iso_second(T0) == "2026-03-10T12:00:00Z"


def _decide(**kw):  # type: ignore[no-untyped-def]
    args = {"now": T0, "minute_limit": 3, "quota": 100, "used": 0, "in_window": 0, "oldest": None, "edge": None}
    return decide(**{**args, **kw})


def test_admitted_counts_itself() -> None:
    first = _decide()
    assert first.admitted and first.minute_remaining == 2 and first.quota_used == 1
    assert first.minute_reset == T0 + timedelta(seconds=60)  # its own slot frees then
    later = _decide(in_window=2, oldest=T0 - timedelta(seconds=50, microseconds=500), used=41)
    assert later.admitted and later.minute_remaining == 0 and later.quota_used == 42
    assert later.minute_reset == T0 + timedelta(seconds=10)  # rounded up to the second
    assert later.headers() == {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0",
                               "X-RateLimit-Reset": "2026-03-10T12:00:10Z",
                               "X-Quota-Limit": "100", "X-Quota-Remaining": "58",
                               "X-Quota-Reset": "2026-04-01T00:00:00Z"}


def test_full_window_refuses_until_the_edge_leaves() -> None:
    edge = T0 - timedelta(seconds=15)
    refused = _decide(in_window=3, oldest=T0 - timedelta(seconds=40), edge=edge, used=7)
    assert not refused.admitted and refused.refused_by == "minute"
    assert refused.retry_after == 45 and refused.message == "Rate limit exceeded. Retry after 45 seconds."
    assert refused.minute_reset == edge + timedelta(seconds=60)
    assert refused.quota_used == 7  # a refusal counts nothing


def test_spent_quota_refuses_until_the_first_even_with_room_in_the_minute() -> None:
    now = datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)
    refused = decide(now=now, minute_limit=100, quota=5, used=5, in_window=1, oldest=now, edge=None)
    assert not refused.admitted and refused.refused_by == "month"
    assert refused.retry_after == 30 and refused.message == "Monthly quota exceeded. Retry after 30 seconds."
    assert refused.month_reset == datetime(2027, 1, 1, tzinfo=UTC)
    # The minute is still the minute: the quota is reported beside it, never instead of it.
    assert refused.headers() == {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99",
                                 "X-RateLimit-Reset": "2027-01-01T00:00:30Z",
                                 "X-Quota-Limit": "5", "X-Quota-Remaining": "0",
                                 "X-Quota-Reset": "2027-01-01T00:00:00Z"}


def test_rate_limit_headers_are_always_the_minute_and_the_quota_has_its_own() -> None:
    minute_binds = _decide(minute_limit=100, quota=1000, used=10)
    assert minute_binds.headers()["X-RateLimit-Limit"] == "100"
    assert minute_binds.headers()["X-RateLimit-Remaining"] == "99"
    assert minute_binds.headers()["X-Quota-Remaining"] == "989"
    # Fewer requests left in the month than in the minute: X-RateLimit-* stay the minute's.
    month_low = _decide(minute_limit=100, quota=1000, used=995)
    assert month_low.headers() == {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99",
                                   "X-RateLimit-Reset": "2026-03-10T12:01:00Z",
                                   "X-Quota-Limit": "1000", "X-Quota-Remaining": "4",
                                   "X-Quota-Reset": "2026-04-01T00:00:00Z"}
    both_spent = _decide(minute_limit=3, quota=10, used=9, in_window=2, oldest=T0)
    assert both_spent.minute_remaining == 0 and both_spent.quota_remaining == 0
    assert both_spent.headers()["X-RateLimit-Reset"] == "2026-03-10T12:01:00Z"
    assert both_spent.headers()["X-Quota-Reset"] == "2026-04-01T00:00:00Z"


def test_a_hit_stamped_after_now_counts_as_made_now() -> None:
    # Another process read the clock a moment later and took the last slot first.
    refused = _decide(in_window=3, oldest=T0 - timedelta(seconds=5), edge=T0 + timedelta(milliseconds=3))
    assert refused.retry_after == 60 and refused.minute_reset == T0 + timedelta(seconds=60)
