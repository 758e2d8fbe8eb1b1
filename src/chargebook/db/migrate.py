"""Alembic, driven from code: one migration tree for SQLite and PostgreSQL.

``chargebook db upgrade`` and ``serve``/``demo`` call :func:`upgrade`. Migrations run on the
sync driver of the same database (psycopg / sqlite3); SQLite's limited ALTER TABLE is handled
by Alembic's batch mode (``render_as_batch``), so one tree serves both.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from chargebook.db.engine import sync_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(url).render_as_string(hide_password=False))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def pending_revisions(url: str) -> list[str]:
    """Revisions not yet applied (empty when the schema is current)."""
    script = ScriptDirectory.from_config(alembic_config(url))
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    heads = set(script.get_heads())
    if current == heads:
        return []
    return [rev.revision for rev in script.walk_revisions() if rev.revision not in current]


def script_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """(the head revisions, every revision) of this release's migration scripts, read without
    a database. Readiness computes them once at start-up and compares them with
    :data:`APPLIED_REVISIONS`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return frozenset(script.get_heads()), frozenset(rev.revision for rev in script.walk_revisions())


#: What a database says it is at (Alembic's own bookkeeping table, the same on both dialects).
APPLIED_REVISIONS = text("SELECT version_num FROM alembic_version")
