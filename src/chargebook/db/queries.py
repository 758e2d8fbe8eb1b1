"""Queries whose SQL differs by dialect."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def claim(session: AsyncSession, query: Select[T], limit: int) -> list[T]:
    """Claim due rows for this worker.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several workers split the work and none waits.
    SQLite: the write transaction (``BEGIN IMMEDIATE``) already excludes every other writer,
    so a plain select is a claim; other workers queue on the lock and then see the rows moved.
    """
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    result = await session.scalars(query.limit(limit))
    return list(result.all())



async def insert_missing(session: AsyncSession, table: Table, values: dict[str, Any]) -> None:
    """Insert the row unless one with its primary key exists (``ON CONFLICT DO NOTHING``,
    spelt per dialect). On PostgreSQL a concurrent insert of the same key makes this wait for
    that transaction, which is what callers that then lock the row rely on."""
    if session.bind.dialect.name == "postgresql":
        stmt: Any = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    await session.execute(stmt)


async def upsert(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]], keys: tuple[str, ...],
    returning: tuple[str, ...] = (),
) -> list[Any]:
    """Insert ``rows`` in one statement, replacing the other columns of rows whose ``keys``
    (a unique constraint) exist already (``INSERT … ON CONFLICT DO UPDATE``, spelt per dialect;
    PostgreSQL and SQLite ≥ 3.35 both return the rows written). Every row has the same keys."""
    if not rows:
        return []
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt: Any = insert(table).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: stmt.excluded[name] for name in rows[0] if name not in keys},
    )
    if returning:
        stmt = stmt.returning(*(table.c[name] for name in returning))
        return list((await session.execute(stmt)).all())
    await session.execute(stmt)
    return []
