"""How the worker runs the outbox (``services/outbox.py``) for one mailbox: a pass claims as
many due rows as there are free slots and starts sending each; it does not wait for them
(``in_flight.py``). The loops ``send_commands.py`` and ``send_booking_requests.py`` are this
with their mailbox."""

from __future__ import annotations

from datetime import datetime

from chargebook.db.engine import Database
from chargebook.domain.outbox import RetryPolicy
from chargebook.services import outbox
from chargebook.services.tokens import Issuer
from chargebook.worker.in_flight import InFlight

#: Sends of one mailbox in flight at once, per worker process.
CONCURRENT_SENDS = 10


async def start_due_sends(
    db: Database,
    mailbox: outbox.Mailbox[outbox.Row],
    now: datetime,
    retry: RetryPolicy,
    issuer: Issuer,
    in_flight: InFlight | None = None,
    worker_id: str | None = None,
) -> int:
    """One pass; returns how many rows were claimed. With the runner's ``in_flight`` the sends
    finish in the background; without one (a one-shot pass) the pass waits for them."""
    sends = in_flight if in_flight is not None else InFlight(CONCURRENT_SENDS)
    if not sends.free:
        return 0
    items = await outbox.claim(db, mailbox, now, retry, sends.free, worker_id, skip=sends.keys)
    for item in items:
        sends.start(item.id, outbox.deliver(db, mailbox, item, retry, issuer))
    if in_flight is None:
        await sends.wait_all()
    return len(items)
