"""Queries whose SQL differs by dialect."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, Table, bindparam, insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

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



async def insert_missing(
    session: AsyncSession, table: Table | type[DeclarativeBase], values: dict[str, Any]
) -> None:
    """Insert the row unless one with its primary key exists (``ON CONFLICT DO NOTHING``,
    spelt per dialect). On PostgreSQL a concurrent insert of the same key makes this wait for
    that transaction, which is what callers that then lock the row rely on."""
    if session.get_bind().dialect.name == "postgresql":
        stmt: Any = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    await session.execute(stmt)


_UPSERTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], Any] = {}


def _upsert_statement(dialect: str, table: Table, columns: tuple[str, ...], keys: tuple[str, ...],
                      returning: tuple[str, ...]) -> Any:
    """Built once per shape: composing the statement costs more than running it."""
    shape = (dialect, table.name, columns, keys, returning)
    stmt = _UPSERTS.get(shape)
    if stmt is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: stmt.excluded[name] for name in columns if name not in keys},
        )
        if returning:
            stmt = stmt.returning(*(table.c[name] for name in returning))
        _UPSERTS[shape] = stmt
    return stmt


async def upsert(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]], keys: tuple[str, ...],
    returning: tuple[str, ...] = (),
) -> list[Any]:
    """Insert ``rows``, replacing the other columns of rows whose ``keys`` (a unique
    constraint) exist already (``INSERT … ON CONFLICT DO UPDATE``, spelt per dialect; PostgreSQL
    and SQLite ≥ 3.35 both return the rows written). Every row has the same keys; SQLAlchemy
    sends them as multi-row VALUES batches ("insertmanyvalues"), not one round trip each."""
    if not rows:
        return []
    stmt = _upsert_statement(session.get_bind().dialect.name, table, tuple(rows[0]), keys, returning)
    result = await session.execute(stmt, rows)
    return list(result.all()) if returning else []


async def relax_commit(session: AsyncSession) -> None:
    """This transaction's commit does not wait for its WAL flush (PostgreSQL
    ``synchronous_commit = off``): for writes that are cheap to redo, such as a page of a
    catalogue pull, the next pull writes again. A crash loses at most the last fraction of a
    second of them, never consistency. SQLite: nothing to do (WAL with ``synchronous=NORMAL``)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_RELAXED)


_RELAXED = text("SET LOCAL synchronous_commit TO OFF")


_PAIRS: dict[tuple[str, tuple[str, ...], str, tuple[str, ...]], Any] = {}


async def insert_pair(
    session: AsyncSession, first: Table, first_row: dict[str, Any], second: Table, second_row: dict[str, Any],
) -> None:
    """Insert a row and a row that refers to it (its key known beforehand) in one round trip.
    PostgreSQL: one statement, the first insert as a data-modifying ``WITH`` (foreign keys are
    checked at the end of the statement, when both rows exist). SQLite has no data-modifying
    ``WITH``: two statements, which cost no network round trip there."""
    if session.get_bind().dialect.name != "postgresql":
        await session.execute(insert(first), first_row)
        await session.execute(insert(second), second_row)
        return
    shape = (first.name, tuple(first_row), second.name, tuple(second_row))
    stmt = _PAIRS.get(shape)
    if stmt is None:
        leading = insert(first).values({first.c[n]: bindparam(f"a_{n}", type_=first.c[n].type)
                                        for n in first_row}).cte("first_row")
        stmt = _PAIRS[shape] = insert(second).values(
            {second.c[n]: bindparam(f"b_{n}", type_=second.c[n].type) for n in second_row}
        ).add_cte(leading)
    await session.execute(stmt, {**{f"a_{n}": v for n, v in first_row.items()},
                                 **{f"b_{n}": v for n, v in second_row.items()}})


_TOGETHER: dict[tuple[int, int], Any] = {}


async def execute_together(
    session: AsyncSession, first: Any, second: Any, params: dict[str, Any],
) -> None:
    """Two independent prebuilt write statements (their bind names disjoint, every value a
    named bind) in one round trip on PostgreSQL: the first as a data-modifying ``WITH`` of the
    second. SQLite: one after the other (no network round trip to save)."""
    if session.get_bind().dialect.name != "postgresql":
        await session.execute(first, params)
        await session.execute(second, params)
        return
    key = (id(first), id(second))
    stmt = _TOGETHER.get(key)
    if stmt is None:
        stmt = _TOGETHER[key] = second.add_cte(first.cte("first_write"))
    await session.execute(stmt, params)
