"""What the benchmarks share: a free port, a fresh database per run (and its removal)."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

PG_ADMIN = os.environ.get("CHARGEBOOK_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_database(kind: str, tmp: Path, name: str = "bench") -> str:
    """A new empty SQLite file in ``tmp``, or a new PostgreSQL database; its plain URL."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'{name}.db'}"
    import psycopg

    db_name = f"cb{name}_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"


def drop_database(kind: str, url: str) -> None:
    if kind == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
