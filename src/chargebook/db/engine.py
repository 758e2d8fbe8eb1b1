"""The engine, per dialect, and units of work.

SQLite (the embedded default) and PostgreSQL (production) run the same code. What differs:

* **Locked writes.** PostgreSQL locks rows with ``SELECT … FOR UPDATE`` inside a normal
  transaction. SQLite has no row locks; a write unit of work starts with
  ``BEGIN IMMEDIATE`` so it holds the single writer lock from its first statement. A deferred
  ``BEGIN`` that reads and then writes can fail with SQLITE_BUSY when another writer went
  first, with no waiting; IMMEDIATE makes it wait (``busy_timeout``) instead.
* **Reads** on SQLite use a deferred ``BEGIN`` so they never wait for writers (WAL).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from chargebook.domain.errors import DomainError, InvalidRequest, Unavailable

_IMMEDIATE = "chargebook_begin_immediate"
SQLITE_POOL = 3


def async_url(url: str) -> URL:
    """Pick our async driver for a plain URL (`postgresql://…`, `sqlite:///…`)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}: use sqlite or postgresql")


def sync_url(url: str) -> URL:
    """The matching sync driver, for Alembic."""
    parsed = make_url(url)
    if parsed.get_backend_name() in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    return parsed.set(drivername="sqlite")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the driver so that our own BEGIN statements are used.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer and the writer never blocks readers.
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes in WAL mode, and much faster than FULL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Wait for the writer lock instead of failing at once with SQLITE_BUSY.
    cursor.execute("PRAGMA busy_timeout=30000")
    # SQLite ignores foreign keys unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    if conn.get_execution_options().get(_IMMEDIATE):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_serializer(value: Any) -> str:
    """JSON columns keep Decimals as exact numbers (OCPI prices), on both dialects."""
    return orjson.dumps(value, default=_json_default).decode()


def json_deserializer(raw: str | bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


class Database:
    """One engine and its session factory; ``write()`` and ``read()`` open units of work."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        target = async_url(url)
        self.dialect = target.get_backend_name()
        kwargs: dict[str, Any] = {
            "echo": echo, "json_serializer": json_serializer, "json_deserializer": json_deserializer,
        }
        if self.dialect == "postgresql":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False)
        else:
            # SQLite has one writer at a time, and every aiosqlite connection is a thread that
            # competes for the GIL: a few connections serve a process best (bench/bookings.py).
            kwargs.update(pool_size=SQLITE_POOL, max_overflow=0)
        self.engine: AsyncEngine = create_async_engine(target, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A unit of work that will write: commits on success, rolls back on any error."""
        async with self.sessions() as session:
            try:
                if self.is_sqlite:
                    await session.connection(execution_options={_IMMEDIATE: True})
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                await session.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work; never commits. Closing (not rolling back) keeps the loaded
        objects usable after the block, detached."""
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def single_statements(self) -> AsyncIterator[AsyncConnection]:
        """A connection for statements that need no transaction around them: a lookup, or a
        function that is a transaction of its own. On PostgreSQL it is in autocommit mode,
        which saves the BEGIN and COMMIT/ROLLBACK round trips (about half the cost of a
        one-row lookup); SQLite keeps its deferred ``BEGIN``, which costs no round trip."""
        async with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(getattr(exc.orig, "__cause__", None), "sqlstate", None) or getattr(
        exc.orig, "sqlstate", None
    )


def is_transient(exc: BaseException) -> bool:
    """Busy database, serialization failure, deadlock, lost connection: worth a retry."""
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError):
        return _sqlstate(exc) in {"40001", "40P01", "55P03", "57P01", "08006", "08003"}
    return False


#: PostgreSQL text cannot hold U+0000 (character_not_in_repertoire): bad input, not a fault.
_NUL_IN_TEXT = "22021"


def translate(exc: BaseException) -> DomainError | None:
    """A database failure the caller can act on: transient ones become ``Unavailable`` (a 503),
    text PostgreSQL cannot store becomes ``InvalidRequest`` (a 400)."""
    if is_transient(exc):
        return Unavailable("The database is busy; retry shortly", retry_after_seconds=1)
    if isinstance(exc, DBAPIError) and _sqlstate(exc) == _NUL_IN_TEXT:
        return InvalidRequest("Text must not contain NUL (\\u0000) characters")
    return None
