"""Per-client rate limits: a sliding one-minute window and a calendar-month quota (UTC).

The storage backends (``services/rate_limits.py`` on the database, ``rate_limits_redis.py``
on Redis) find out how the client stands; this module turns that into one
:class:`Decision`: admit or refuse, and the numbers the response reports.

The rules:

* **Minute**: a request is admitted when fewer than ``limit`` requests were admitted in the
  60 seconds before it (a sliding log, so no 60 s span ever holds more than ``limit``
  admitted requests). A slot frees when the oldest admitted request in the window turns
  60 s old.
* **Month**: at most ``quota`` admitted requests per calendar month in UTC; the count
  starts again at 00:00 UTC on the 1st.
* **Refused requests count against neither.** A client that keeps knocking while refused
  is not pushed further out.
* The quota is checked first: when it is spent, waiting a minute does not help.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

WINDOW = timedelta(seconds=60)

Refusal = Literal["minute", "month"]


def month_period(now: datetime) -> str:
    """The quota period a moment falls in: ``YYYY-MM`` of its UTC date."""
    return now.astimezone(UTC).strftime("%Y-%m")


def month_reset(now: datetime) -> datetime:
    """00:00 UTC on the 1st of the next month, when the quota starts again."""
    now = now.astimezone(UTC)
    if now.month == 12:
        return datetime(now.year + 1, 1, 1, tzinfo=UTC)
    return datetime(now.year, now.month + 1, 1, tzinfo=UTC)


def ceil_second(moment: datetime) -> datetime:
    """Round up to a whole second: a client that waits until then is never early."""
    if moment.microsecond == 0:
        return moment
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds to wait (``Retry-After``): rounded up, and at least 1."""
    return max(1, math.ceil((moment - now).total_seconds()))


@dataclass(frozen=True, slots=True)
class Decision:
    """How one request was judged, and the client's standing after it."""

    admitted: bool
    refused_by: Refusal | None
    minute_limit: int
    minute_remaining: int
    minute_reset: datetime  # when the next slot frees (the oldest admitted request turns 60 s)
    quota_limit: int
    quota_used: int
    month_reset: datetime  # 00:00 UTC on the 1st of the next month
    retry_after: int | None  # whole seconds, for a refusal

    @property
    def quota_remaining(self) -> int:
        return max(0, self.quota_limit - self.quota_used)

    @property
    def message(self) -> str:
        what = "Monthly quota exceeded" if self.refused_by == "month" else "Rate limit exceeded"
        return f"{what}. Retry after {self.retry_after} seconds."

    def headers(self) -> dict[str, str]:
        """``X-RateLimit-*`` are always the per-minute window, as EV Suite documents them; the
        monthly quota travels in its own ``X-Quota-*`` headers, so neither set ever switches
        meaning under a client that reads it."""
        return {
            "X-RateLimit-Limit": str(self.minute_limit),
            "X-RateLimit-Remaining": str(self.minute_remaining),
            "X-RateLimit-Reset": iso_second(self.minute_reset),
            "X-Quota-Limit": str(self.quota_limit),
            "X-Quota-Remaining": str(self.quota_remaining),
            "X-Quota-Reset": iso_second(self.month_reset),
        }


def iso_second(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def decide(
    *,
    now: datetime,
    minute_limit: int,
    quota: int,
    used: int,
    in_window: int,
    oldest: datetime | None,
    edge: datetime | None,
) -> Decision:
    """Judge one request.

    ``used``: requests admitted this month before this one. ``in_window``: requests admitted
    in the 60 s before ``now``; ``oldest``: the earliest of them. ``edge``: the admitted
    request whose leaving the window frees a slot when the window is full, i.e. the
    ``minute_limit``-th most recent one (``None`` while the window has room).
    """
    reset_month = month_reset(now)
    # A hit stamped a moment after ``now`` (another process's clock, or one that read the
    # clock later while this request waited its turn) counts as made now.
    oldest = min(oldest, now) if oldest else None
    edge = min(edge, now) if edge else None
    if used >= quota:
        minute_reset = ceil_second((oldest or now) + WINDOW)
        return Decision(
            admitted=False, refused_by="month", minute_limit=minute_limit,
            minute_remaining=max(0, minute_limit - in_window), minute_reset=minute_reset,
            quota_limit=quota, quota_used=used, month_reset=reset_month,
            retry_after=seconds_until(reset_month, now),
        )
    if in_window >= minute_limit:
        frees_at = (edge or oldest or now) + WINDOW
        return Decision(
            admitted=False, refused_by="minute", minute_limit=minute_limit, minute_remaining=0,
            minute_reset=ceil_second(frees_at), quota_limit=quota, quota_used=used,
            month_reset=reset_month, retry_after=seconds_until(frees_at, now),
        )
    return Decision(
        admitted=True, refused_by=None, minute_limit=minute_limit,
        minute_remaining=minute_limit - in_window - 1,
        minute_reset=ceil_second((oldest or now) + WINDOW),
        quota_limit=quota, quota_used=used + 1, month_reset=reset_month, retry_after=None,
    )
