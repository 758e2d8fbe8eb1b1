"""The audit log: who did what, when, through the console or the CLI.

Actions on the console's own records (people, invitations, sessions) write their entry in
the same unit of work as the change. Actions that call another use case (create a client,
rotate a key, connect a CPO…) write it right after that use case committed, in a unit of
work of its own: the use cases keep their signatures, and an entry is never written for an
action that did not happen. If that second write fails, the entry goes to the error log in
full and the person is still told the truth (the action was applied); see docs/decisions.md,
"Console audit log".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import AuditEntry
from chargebook.services.clock import utcnow

log = structlog.get_logger("chargebook.audit")

CLI = "cli"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a console user (email, role) from an address, or the operator's CLI."""

    name: str
    role: str  # operator | client | cli
    ip: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        return cls(CLI, CLI)


def entry(
    actor: Actor,
    action: str,
    *,
    client_id: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """An entry to add inside the caller's unit of work."""
    return AuditEntry(
        at=now or utcnow(),
        actor=actor.name[:254],
        actor_role=actor.role,
        client_id=client_id,
        action=action,
        target=target[:100] if target else None,
        detail=detail,
        ip=actor.ip,
    )


async def record(
    db: Database,
    actor: Actor,
    action: str,
    *,
    client_id: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """An entry for an action another use case has just committed (see the module doc)."""
    row = entry(actor, action, client_id=client_id, target=target, detail=detail)
    try:
        async with db.write() as session:
            session.add(row)
    except Exception:  # the action is applied; keep the entry in the logs rather than lie
        log.exception(
            "audit entry not stored",
            actor=actor.name,
            role=actor.role,
            action=action,
            client_id=client_id,
            target=target,
            detail=detail,
        )


async def list_entries(
    db: Database,
    *,
    client_id: str | None = None,
    limit: int = 100,
    before_pk: int | None = None,
) -> list[AuditEntry]:
    """Newest first. ``client_id`` limits to entries about one client (what its users see)."""
    query = select(AuditEntry)
    if client_id is not None:
        query = query.where(AuditEntry.client_id == client_id)
    if before_pk is not None:
        query = query.where(AuditEntry.pk < before_pk)
    async with db.read() as session:
        return list(await session.scalars(query.order_by(AuditEntry.pk.desc()).limit(limit)))
