"""Periodic pull-sync: each registered CPO's catalogue is pulled again when it grows stale.

Pushes keep the catalogue fresh between pulls; the pull repairs what pushes missed. Claiming
the party row (SKIP LOCKED) keeps two workers from syncing one CPO at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import or_, select

from chargebook.db.engine import Database
from chargebook.db.models import Party
from chargebook.db.queries import claim
from chargebook.ocpi.client import PeerError
from chargebook.services.ocpi_catalogue import sync_party

log = structlog.get_logger("chargebook.worker")


async def sync_stale_parties(db: Database, now: datetime, interval: timedelta) -> int:
    async with db.write() as session:
        due = await claim(session, select(Party).where(
            Party.status == "registered",
            or_(Party.last_sync_at.is_(None), Party.last_sync_at <= now - interval)), 1)
        for party in due:
            # Mark first: a CPO that fails keeps being retried at the interval, not every pass.
            party.last_sync_at = now
    synced = 0
    for party in due:
        try:
            await sync_party(db, party)
            synced += 1
        except PeerError as exc:
            log.warning("catalogue sync failed", party=party.party_id, error=str(exc))
    return synced
