"""console: people who log in, their sessions and invitations, login attempts, the audit log,
the cookie-signing key

Revision ID: 0014
Revises: 0011

``console_users``: operators and client users (one account per email). ``console_invitations``:
one-time links for invited client users (hashed). ``console_sessions``: server-side sessions
(hashed tokens), so sessions can be revoked. ``console_login_attempts``: every login attempt,
counted for the login rate limit. ``audit_log``: who did what, when. ``console_keys``: the key
that signs console cookies when none is configured. New tables only: nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import chargebook.db.types

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None

UTC = chargebook.db.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("last_login_at", UTC(), nullable=True),
        sa.CheckConstraint("role in ('operator', 'client')", name=op.f("ck_console_users_role")),
        sa.CheckConstraint(
            "(role = 'operator' AND client_id IS NULL) OR "
            "(role = 'client' AND client_id IS NOT NULL)",
            name=op.f("ck_console_users_role_client"),
        ),
        sa.CheckConstraint(
            "status in ('invited', 'active', 'disabled')", name=op.f("ck_console_users_status")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_console_users_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_users")),
        sa.UniqueConstraint("email", name=op.f("uq_console_users_email")),
    )
    with op.batch_alter_table("console_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_users_client_id"), ["client_id"], unique=False)

    op.create_table(
        "console_invitations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
        sa.Column("used_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name=op.f("fk_console_invitations_user_id_console_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_invitations_token_hash")),
    )
    with op.batch_alter_table("console_invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_invitations_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("last_seen_at", UTC(), nullable=False),
        sa.Column("expires_at", UTC(), nullable=False),
        sa.Column("revoked_at", UTC(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name=op.f("fk_console_sessions_user_id_console_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_sessions_token_hash")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "console_login_attempts",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_console_login_attempts")),
    )
    with op.batch_alter_table("console_login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_console_login_attempts_email_at", ["email", "at"], unique=False)
        batch_op.create_index("ix_console_login_attempts_ip_at", ["ip", "at"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_client_pk", ["client_id", "pk"], unique=False)

    op.create_table(
        "console_keys",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_console_keys")),
    )


def downgrade() -> None:
    op.drop_table("console_keys")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_client_pk")
    op.drop_table("audit_log")
    with op.batch_alter_table("console_login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_console_login_attempts_ip_at")
        batch_op.drop_index("ix_console_login_attempts_email_at")
    op.drop_table("console_login_attempts")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_user_id"))
    op.drop_table("console_sessions")
    with op.batch_alter_table("console_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_invitations_user_id"))
    op.drop_table("console_invitations")
    with op.batch_alter_table("console_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_users_client_id"))
    op.drop_table("console_users")
