"""The rate limiter's sliding log in the application's database, per dialect.

``record_request`` reads a client's standing and, when the request fits, records it: one
hit in ``rate_limit_hits`` and one more request in the month's ``rate_limit_usage`` row.
A refused request records nothing. Checks of one client take turns across every API
process, so a burst split over many processes still gets at most ``limit`` admissions
in any 60 s.

* **PostgreSQL**: one call of ``chargebook_record_request`` (a PL/pgSQL function created
  by migration 0005), outside any explicit transaction. One round trip per request instead
  of five (BEGIN, lock, read, insert, COMMIT): measured in ``bench/rate_limits.py``. It
  locks the client's row (``FOR NO KEY UPDATE``: foreign-key checks of other writes still
  pass; one lock per client, not per month, so requests on either side of midnight on the
  1st take turns too), then reads with a fresh snapshot and writes. It commits without
  waiting for the disk flush (``synchronous_commit`` off for that transaction only): a
  crash may forget the last few hits, which lets a client make a few more requests.
* **SQLite**: the same steps as statements in a write unit of work, whose
  ``BEGIN IMMEDIATE`` already excludes every other writer.

Hits are numbered per client without gaps (``seq``) and their times never go backwards in
``seq`` order, so the window is one run of seqs and every lookup is a primary-key probe
whatever the limit. Expired hits are pruned in batches of ``PRUNE_BATCH``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Select,
    bindparam,
    delete,
    insert,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from chargebook.db.engine import Database
from chargebook.db.models import RateLimitHit as Hit
from chargebook.db.models import RateLimitUsage as Usage
from chargebook.db.types import UTCDateTime
from chargebook.domain.rate_limits import WINDOW

PRUNE_BATCH = 32


@dataclass(frozen=True, slots=True)
class Standing:
    """A client's standing just before this request (see ``domain.rate_limits.decide``)."""

    used: int  # requests admitted this month
    in_window: int  # requests admitted in the last 60 s
    oldest: datetime | None  # the earliest of those
    edge: datetime | None  # the ``limit``-th most recent of those, when there are that many


async def record_request(
    db: Database, client_id: str, period: str, now: datetime, limit: int, quota: int
) -> Standing:
    """Read the client's standing and record this request if it fits both limits."""
    if db.is_sqlite:
        return await _record_sqlite(db, client_id, period, now, limit, quota)
    async with db.single_statements() as conn:  # the function is its own transaction
        row = (await conn.execute(_PG_CALL, {
            "client_id": client_id, "period": period, "now": now, "limit": limit,
            "quota": quota, "prune_batch": PRUNE_BATCH,
        })).one()
    return Standing(used=row.used, in_window=row.in_window, oldest=row.oldest_at, edge=row.edge_at)


_PG_CALL = (
    text("SELECT * FROM chargebook_record_request(:client_id, :period, :now, :limit, :quota, :prune_batch)")
    .bindparams(bindparam("now", type_=UTCDateTime()))
    .columns(used=BigInteger(), in_window=BigInteger(), oldest_at=UTCDateTime(), edge_at=UTCDateTime())
)


# --- SQLite: the same steps as statements ---------------------------------------------------

def _probe(tag: str, *where: ColumnElement[bool], descending: bool = False) -> Select[Any]:
    query = (
        select(literal(tag).label("tag"), Hit.seq, Hit.at)
        .where(Hit.client_id == bindparam("client_id"), *where)
        .order_by(Hit.seq.desc() if descending else Hit.seq)
        .limit(1)
    )
    return select(query.subquery())


_newest_seq = (
    select(Hit.seq).where(Hit.client_id == bindparam("client_id"))
    .order_by(Hit.seq.desc()).limit(1).scalar_subquery()
)
# Everything the decision needs in one statement; each branch is one primary-key probe.
_WINDOW: CompoundSelect[Any] = union_all(
    _probe("newest", descending=True),
    _probe("oldest", Hit.at > bindparam("since")),
    _probe("first"),
    _probe("edge", Hit.seq == _newest_seq - bindparam("limit") + 1),
    select(literal("used"), Usage.used, literal(None, UTCDateTime())).where(
        Usage.client_id == bindparam("client_id"), Usage.period == bindparam("period")
    ),
)
_ADD_HIT = insert(Hit).values(client_id=bindparam("client_id"), seq=bindparam("seq"), at=bindparam("at"))
_COUNT = (
    sqlite.insert(Usage).values(client_id=bindparam("client_id"), period=bindparam("period"), used=1)
    .on_conflict_do_update(index_elements=[Usage.client_id, Usage.period], set_={"used": Usage.used + 1})
)
_PRUNE = delete(Hit).where(Hit.client_id == bindparam("client_id"), Hit.seq < bindparam("keep_from"))


async def _record_sqlite(
    db: Database, client_id: str, period: str, now: datetime, limit: int, quota: int
) -> Standing:
    async with db.write() as session:  # BEGIN IMMEDIATE: this client's checks take turns
        conn: AsyncConnection = await session.connection()  # Core statements, no ORM bookkeeping
        rows = await conn.execute(
            _WINDOW, {"client_id": client_id, "period": period, "since": now - WINDOW, "limit": limit}
        )
        found = {tag: (seq, at) for tag, seq, at in rows}
        used = found["used"][0] if "used" in found else 0
        newest, oldest, first = found.get("newest"), found.get("oldest"), found.get("first")
        in_window = newest[0] - oldest[0] + 1 if newest and oldest else 0
        standing = Standing(
            used=used, in_window=in_window, oldest=oldest[1] if oldest else None,
            edge=found["edge"][1] if in_window >= limit and "edge" in found else None,
        )
        if used >= quota or in_window >= limit:
            return standing  # refused: nothing recorded
        seq = newest[0] + 1 if newest else 1
        at = max(now, newest[1]) if newest else now  # never backwards in seq order
        await conn.execute(_ADD_HIT, {"client_id": client_id, "seq": seq, "at": at})
        await conn.execute(_COUNT, {"client_id": client_id, "period": period})
        keep_from = oldest[0] if oldest else seq
        if first and keep_from - first[0] >= PRUNE_BATCH:
            await conn.execute(_PRUNE, {"client_id": client_id, "keep_from": keep_from})
        return standing


async def month_usage(db: Database, client_ids: list[str], period: str) -> dict[str, int]:
    async with db.read() as session:
        rows = await session.execute(
            select(Usage.client_id, Usage.used).where(Usage.period == period, Usage.client_id.in_(client_ids))
        )
        found = {client_id: used for client_id, used in rows}
    return {client_id: found.get(client_id, 0) for client_id in client_ids}
