"""OCPI commands due to CPOs (RESERVE_NOW, CANCEL_RESERVATION, START_SESSION, STOP_SESSION):
sent by the outbox, the CommandResponse recorded by ``services/commands.py: CommandMailbox``."""

from __future__ import annotations

from datetime import datetime

from chargebook.db.engine import Database
from chargebook.domain.outbox import RetryPolicy
from chargebook.services.commands import COMMANDS
from chargebook.services.tokens import Issuer
from chargebook.worker.in_flight import InFlight
from chargebook.worker.outbox_sends import start_due_sends


async def send_due_commands(
    db: Database,
    now: datetime,
    retry: RetryPolicy,
    issuer: Issuer,
    in_flight: InFlight | None = None,
    worker_id: str | None = None,
) -> int:
    """One pass; returns how many commands were claimed to send."""
    return await start_due_sends(db, COMMANDS, now, retry, issuer, in_flight, worker_id)
