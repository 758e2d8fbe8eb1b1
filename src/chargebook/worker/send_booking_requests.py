"""OCPI 2.3.0 Bookings-module requests due to CPOs (create, change, cancel): sent by the
outbox, the CPO's Booking applied by ``services/ocpi_bookings.py: BookingRequestMailbox``."""

from __future__ import annotations

from datetime import datetime, timedelta

from chargebook.db.engine import Database
from chargebook.domain.outbox import RetryPolicy
from chargebook.services.ocpi_bookings import BookingRequestMailbox
from chargebook.services.tokens import Issuer
from chargebook.worker.in_flight import InFlight
from chargebook.worker.outbox_sends import start_due_sends


async def send_due_booking_requests(
    db: Database,
    now: datetime,
    retry: RetryPolicy,
    issuer: Issuer,
    poll_every: timedelta,
    in_flight: InFlight | None = None,
    worker_id: str | None = None,
) -> int:
    """One pass; returns how many requests were claimed to send."""
    return await start_due_sends(
        db, BookingRequestMailbox(poll_every), now, retry, issuer, in_flight, worker_id
    )
