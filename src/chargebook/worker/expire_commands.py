"""Commands the CPO accepted but never answered within its ``timeout``: each fails with
TIMEOUT and its booking ends CPO_TIMEOUT (``services/commands.py: expire_command``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import Command
from chargebook.domain.outbox import OutboxState
from chargebook.services.commands import expire_command
from chargebook.worker.per_row import handle_each

BATCH = 50


async def expire_unanswered_commands(db: Database, now: datetime) -> int:
    """One pass; returns how many commands timed out."""
    async with db.read() as session:
        due = list(
            await session.scalars(
                select(Command.id)
                .where(Command.state == OutboxState.SENT, Command.timeout_at <= now)
                .order_by(Command.timeout_at)
                .limit(BATCH)
            )
        )
    return await handle_each(
        "expire_commands", due, lambda command_id: expire_command(db, command_id, now)
    )
