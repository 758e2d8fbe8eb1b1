"""Console sessions: server-side rows behind signed cookies, so that they can be revoked.

A session ends at the first of: its absolute end (``max_age`` after login), ``idle`` without a
request, a revocation (log out, "log out everywhere", a password change, the account being
disabled). The cookie carries a random token; the row keeps only its SHA-256.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from chargebook.db.engine import Database
from chargebook.db.models import Client, ConsoleKey, ConsoleSession, ConsoleUser
from chargebook.domain.errors import NotFound
from chargebook.services import audit
from chargebook.services.audit import Actor
from chargebook.services.clock import utcnow
from chargebook.services.console_passwords import hash_token
from chargebook.services.ids import new_id

#: last_seen_at is written at most this often (a page view is otherwise a read).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta = timedelta(hours=2)
    max_age: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who is behind a valid session: everything a console page needs to scope itself."""

    session_id: str
    token: str
    user_id: str
    email: str
    role: str  # operator | client
    client_id: str | None
    client_name: str | None
    client_status: str | None
    must_change_password: bool

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"

    def actor(self, ip: str | None) -> Actor:
        return Actor(self.email, self.role, ip)


async def open_session(
    db: Database, user: ConsoleUser, ip: str | None, user_agent: str | None, policy: SessionPolicy
) -> str:
    """A new session for a user who just logged in; returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with db.write() as session:
        session.add(
            ConsoleSession(
                id=new_id("ses"),
                user_id=user.id,
                token_hash=hash_token(token),
                created_at=now,
                last_seen_at=now,
                expires_at=now + policy.max_age,
                revoked_at=None,
                ip=ip,
                user_agent=(user_agent or "")[:200] or None,
            )
        )
        session.add(
            audit.entry(
                Actor(user.email, user.role, ip),
                "session.login",
                client_id=user.client_id,
                target=user.email,
                now=now,
            )
        )
    return token


_RESOLVE = (
    select(ConsoleSession, ConsoleUser, Client.name, Client.status)
    .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
    .outerjoin(Client, Client.id == ConsoleUser.client_id)
)


async def resolve(db: Database, token: str, policy: SessionPolicy) -> SignedIn | None:
    """The signed-in person, or None when the session is unknown, ended, or the account is not
    active any more."""
    now = utcnow()
    async with db.read() as session:
        row = (
            await session.execute(_RESOLVE.where(ConsoleSession.token_hash == hash_token(token)))
        ).first()
    if row is None:
        return None
    ses, user, client_name, client_status = row
    if (
        ses.revoked_at is not None
        or ses.expires_at <= now
        or ses.last_seen_at + policy.idle <= now
        or user.status != "active"
    ):
        return None
    if now - ses.last_seen_at >= TOUCH_EVERY:
        async with db.write() as session:
            await session.execute(
                update(ConsoleSession).where(ConsoleSession.id == ses.id).values(last_seen_at=now)
            )
    return SignedIn(
        ses.id,
        token,
        user.id,
        user.email,
        user.role,
        user.client_id,
        client_name,
        client_status,
        user.must_change_password,
    )


async def revoke(
    db: Database, session_id: str, actor: Actor, *, user_id: str | None = None
) -> None:
    """End one session. ``user_id`` limits it to that user's own sessions (404 otherwise)."""
    now = utcnow()
    async with db.write() as session:
        row = await session.get(ConsoleSession, session_id, with_for_update=True)
        if row is None or (user_id is not None and row.user_id != user_id):
            raise NotFound(f"Session not found: {session_id}")
        if row.revoked_at is None:
            row.revoked_at = now
            session.add(audit.entry(actor, "session.revoke", target=session_id, now=now))


async def revoke_all(db: Database, user_id: str, actor: Actor) -> int:
    """Log out everywhere: every session of the user ends now."""
    now = utcnow()
    async with db.write() as session:
        result = await session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.add(audit.entry(actor, "session.revoke_all", target=user_id, now=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


@dataclass(frozen=True, slots=True)
class SessionRow:
    session: ConsoleSession
    email: str
    role: str


async def active_sessions(
    db: Database, policy: SessionPolicy, *, user_id: str | None = None
) -> list[SessionRow]:
    """Sessions still alive now, newest first (one user's, or everyone's)."""
    now = utcnow()
    query = (
        select(ConsoleSession, ConsoleUser.email, ConsoleUser.role)
        .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
        .where(
            ConsoleSession.revoked_at.is_(None),
            ConsoleSession.expires_at > now,
            ConsoleSession.last_seen_at > now - policy.idle,
        )
    )
    if user_id is not None:
        query = query.where(ConsoleSession.user_id == user_id)
    async with db.read() as session:
        rows = (
            await session.execute(query.order_by(ConsoleSession.created_at.desc()).limit(200))
        ).all()
    return [SessionRow(s, email, role) for s, email, role in rows]


COOKIE_KEY = "cookies"


async def signing_key(db: Database) -> str:
    """The console's cookie-signing key from the database, made on first use. Two processes
    racing to make it both end up reading the one that was stored first."""
    async with db.read() as session:
        row = await session.get(ConsoleKey, COOKIE_KEY)
    if row is not None:
        return row.value
    try:
        async with db.write() as session:
            session.add(
                ConsoleKey(name=COOKIE_KEY, value=secrets.token_urlsafe(48), created_at=utcnow())
            )
    except IntegrityError:
        pass  # another process stored one first: use that
    async with db.read() as session:
        stored = await session.get(ConsoleKey, COOKIE_KEY)
    assert stored is not None
    return stored.value
