"""rate-limit hits and monthly usage counters

Revision ID: 0005
Revises: 0004

On PostgreSQL also ``chargebook_record_request``, the rate limiter's one-round-trip check
(``db/rate_limit_log.py`` explains it and holds the SQLite twin). Change it only with a
new migration (``CREATE OR REPLACE FUNCTION``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import chargebook.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

RECORD_REQUEST = """
CREATE OR REPLACE FUNCTION chargebook_record_request(
    p_client_id varchar, p_period varchar, p_now timestamp, p_limit bigint, p_quota bigint,
    p_prune_batch bigint
) RETURNS TABLE (used bigint, in_window bigint, oldest_at timestamp, edge_at timestamp)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    v_used bigint;
    v_in_window bigint := 0;
    v_newest_seq bigint;
    v_newest_at timestamp;
    v_oldest_seq bigint;
    v_oldest_at timestamp;
    v_edge_at timestamp;
    v_first_seq bigint;
    v_keep_from bigint;
BEGIN
    -- A crash may forget the last few hits (a client gets a few more requests): not worth
    -- waiting for the disk on every request. Lasts until this transaction ends.
    PERFORM set_config('synchronous_commit', 'off', true);
    -- This client's checks take turns, in every API process. Each statement below then
    -- reads with a fresh snapshot (read committed), so it sees every hit admitted before.
    PERFORM 1 FROM clients WHERE clients.id = p_client_id FOR NO KEY UPDATE;

    SELECT u.used INTO v_used FROM rate_limit_usage u
     WHERE u.client_id = p_client_id AND u.period = p_period;
    v_used := coalesce(v_used, 0);
    SELECT h.seq, h.at INTO v_newest_seq, v_newest_at FROM rate_limit_hits h
     WHERE h.client_id = p_client_id ORDER BY h.seq DESC LIMIT 1;
    SELECT h.seq, h.at INTO v_oldest_seq, v_oldest_at FROM rate_limit_hits h
     WHERE h.client_id = p_client_id AND h.at > p_now - interval '60 seconds' ORDER BY h.seq LIMIT 1;
    IF v_oldest_seq IS NOT NULL THEN
        v_in_window := v_newest_seq - v_oldest_seq + 1;
    END IF;
    IF v_in_window >= p_limit THEN
        SELECT h.at INTO v_edge_at FROM rate_limit_hits h
         WHERE h.client_id = p_client_id AND h.seq = v_newest_seq - p_limit + 1;
    END IF;

    IF v_used < p_quota AND v_in_window < p_limit THEN
        INSERT INTO rate_limit_hits (client_id, seq, at)
        VALUES (p_client_id, coalesce(v_newest_seq, 0) + 1, greatest(p_now, v_newest_at));
        INSERT INTO rate_limit_usage AS u (client_id, period, used) VALUES (p_client_id, p_period, 1)
        ON CONFLICT (client_id, period) DO UPDATE SET used = u.used + 1;
        SELECT h.seq INTO v_first_seq FROM rate_limit_hits h
         WHERE h.client_id = p_client_id ORDER BY h.seq LIMIT 1;
        v_keep_from := coalesce(v_oldest_seq, coalesce(v_newest_seq, 0) + 1);
        IF v_keep_from - v_first_seq >= p_prune_batch THEN
            DELETE FROM rate_limit_hits h WHERE h.client_id = p_client_id AND h.seq < v_keep_from;
        END IF;
    END IF;

    RETURN QUERY SELECT v_used, v_in_window, v_oldest_at, v_edge_at;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "rate_limit_usage",
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_rate_limit_usage_client_id_clients"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "period", name=op.f("pk_rate_limit_usage")),
    )
    op.create_table(
        "rate_limit_hits",
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", chargebook.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_rate_limit_hits_client_id_clients"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "seq", name=op.f("pk_rate_limit_hits")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(RECORD_REQUEST)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS chargebook_record_request")
    op.drop_table("rate_limit_hits")
    op.drop_table("rate_limit_usage")
