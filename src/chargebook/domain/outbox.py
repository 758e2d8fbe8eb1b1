"""The outbox's rules: what we send to CPOs (OCPI commands, Bookings-module requests) is a
row first, sent after commit, and retried with backoff when the CPO cannot be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

#: How long one send waits for the CPO's answer, unless the operator sets another.
SEND_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Transport failures are retried with exponential backoff until the budget is spent."""

    attempts: int = 4
    base_seconds: float = 2.0
    # How long one send waits for the CPO's CommandResponse. A claimed command is leased for
    # this plus a margin: if its sender dies, another worker sends it when the lease ends.
    send_timeout_seconds: float = SEND_TIMEOUT_SECONDS

    def backoff(self, attempt: int) -> timedelta:
        return timedelta(seconds=min(60.0, self.base_seconds * 2 ** (attempt - 1)))

    @property
    def lease(self) -> timedelta:
        """How long a claimed send is held before another worker may take it over."""
        return timedelta(seconds=self.send_timeout_seconds + 5)
