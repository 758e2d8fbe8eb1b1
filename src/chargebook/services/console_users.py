"""People who log in to the console: operators and client users; passwords, invitations, login.

* **Passwords** are hashed with argon2id (argon2-cffi's defaults: RFC 9106's second
  recommended profile, 64 MiB, 3 passes), in a thread so that a login does not stall the
  event loop. A hash made with older parameters is replaced at the next successful login.
* **Operators** are made with ``chargebook operators create``: with a password from stdin, or
  with a generated one-time password that must be changed at the first login.
* **Client users** are invited by an operator (console or CLI). No mail is sent: the invite
  makes a one-time link (valid :data:`INVITATION_TTL`) that the operator hands over; the
  person sets a password there (docs/decisions.md, "Console invitations").
* **Login** is refused without checking the password once an email (or an address) has had
  too many failures in the window; every attempt is stored and logged.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from chargebook.db.engine import Database
from chargebook.db.models import (
    Client,
    ConsoleInvitation,
    ConsoleLoginAttempt,
    ConsoleSession,
    ConsoleUser,
)
from chargebook.domain.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from chargebook.services import audit
from chargebook.services.audit import Actor
from chargebook.services.clock import utcnow
from chargebook.services.ids import new_id

log = structlog.get_logger("chargebook.console")

INVITATION_TTL = timedelta(days=7)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 takes any length; a cap keeps a hostile form from costing much
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,63}$")
#: argon2id with argon2-cffi's defaults. Tests swap in cheaper parameters (the suite creates
#: hundreds of accounts on a shared 2-core machine); production never changes it.
HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so that the answer takes as long as for a known one
    (made on first use: hashing at import would slow every command's start)."""
    return HASHER.hash(secrets.token_urlsafe(16))


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if not _EMAIL.match(value):
        raise InvalidRequest("email: not a valid email address")
    return value


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidRequest(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidRequest(f"password: at most {MAX_PASSWORD} characters")


def hash_token(token: str) -> str:
    """Invitation and session tokens carry 256 random bits: one SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def _verify(stored: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return HASHER.verify(stored or _dummy_hash(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def one_time_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


# --- operators -----------------------------------------------------------------------------


async def create_operator(
    db: Database, email: str, password: str | None, actor: Actor
) -> tuple[ConsoleUser, str | None]:
    """Returns the operator and, when no password was given, the generated one-time password
    (shown once; it must be changed at the first login)."""
    address = normalize_email(email)
    generated = None if password is not None else one_time_password()
    secret = password if password is not None else generated
    assert secret is not None
    check_password(secret)
    hashed = await hash_password(secret)
    now = utcnow()
    async with db.write() as session:
        if await session.scalar(select(ConsoleUser.id).where(ConsoleUser.email == address)):
            raise Conflict(f"{address} already has a console account")
        user = ConsoleUser(
            id=new_id("opr"),
            email=address,
            role="operator",
            client_id=None,
            password_hash=hashed,
            must_change_password=generated is not None,
            status="active",
            created_at=now,
        )
        session.add(user)
        session.add(audit.entry(actor, "operator.create", target=address, now=now))
    return user, generated


async def reset_password(
    db: Database, email: str, password: str | None, actor: Actor
) -> tuple[ConsoleUser, str | None]:
    """Give an existing account a new password (and activate it): the given one, or a generated
    one-time password (returned) that must be changed at the next login. Every session of
    the account ends."""
    address = normalize_email(email)
    generated = None if password is not None else one_time_password()
    secret = password if password is not None else generated
    assert secret is not None
    check_password(secret)
    hashed = await hash_password(secret)
    now = utcnow()
    async with db.write() as session:
        user = await session.scalar(
            select(ConsoleUser).where(ConsoleUser.email == address).with_for_update()
        )
        if user is None:
            raise NotFound(f"No console account for {address}")
        user.password_hash, user.status, user.must_change_password = (
            hashed,
            "active",
            generated is not None,
        )
        await session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.user_id == user.id, ConsoleSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.add(
            audit.entry(actor, "password.reset", client_id=user.client_id, target=address, now=now)
        )
    return user, generated


# --- client users and invitations ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invitation:
    user: ConsoleUser
    token: str  # in clear: the one time it exists
    expires_at: datetime


async def invite_client_user(db: Database, client_id: str, email: str, actor: Actor) -> Invitation:
    """A new client user (or a fresh link for one who has not accepted yet: earlier links stop
    working)."""
    address = normalize_email(email)
    now = utcnow()
    token = secrets.token_urlsafe(32)
    async with db.write() as session:
        if await session.get(Client, client_id) is None:
            raise NotFound(f"Client not found: {client_id}")
        user = await session.scalar(
            select(ConsoleUser).where(ConsoleUser.email == address).with_for_update()
        )
        if user is None:
            user = ConsoleUser(
                id=new_id("usr"),
                email=address,
                role="client",
                client_id=client_id,
                password_hash=None,
                must_change_password=False,
                status="invited",
                created_at=now,
            )
            session.add(user)
            await session.flush()
        elif user.client_id != client_id or user.status != "invited":
            raise Conflict(f"{address} already has a console account")
        await session.execute(
            update(ConsoleInvitation)
            .where(
                ConsoleInvitation.user_id == user.id,
                ConsoleInvitation.used_at.is_(None),
                ConsoleInvitation.expires_at > now,
            )
            .values(expires_at=now)
        )
        session.add(
            ConsoleInvitation(
                id=new_id("inv"),
                user_id=user.id,
                token_hash=hash_token(token),
                created_by=actor.name,
                created_at=now,
                expires_at=now + INVITATION_TTL,
            )
        )
        session.add(audit.entry(actor, "user.invite", client_id=client_id, target=address, now=now))
    return Invitation(user, token, now + INVITATION_TTL)


@dataclass(frozen=True, slots=True)
class OpenInvitation:
    email: str
    client_name: str
    expires_at: datetime


async def _open_invitation(
    session: AsyncSession, token: str, now: datetime
) -> tuple[ConsoleInvitation, ConsoleUser, Client]:
    row = (
        await session.execute(
            select(ConsoleInvitation, ConsoleUser, Client)
            .join(ConsoleUser, ConsoleUser.id == ConsoleInvitation.user_id)
            .join(Client, Client.id == ConsoleUser.client_id)
            .where(ConsoleInvitation.token_hash == hash_token(token))
        )
    ).first()
    if (
        row is None
        or row[0].used_at is not None
        or row[0].expires_at <= now
        or row[1].status != "invited"
    ):
        raise NotFound(
            "This invitation link is not valid (used, replaced or expired): ask for a new one"
        )
    return row[0], row[1], row[2]


async def invitation(db: Database, token: str) -> OpenInvitation:
    async with db.read() as session:
        invite, user, client = await _open_invitation(session, token, utcnow())
    return OpenInvitation(user.email, client.name, invite.expires_at)


async def accept_invitation(db: Database, token: str, password: str, ip: str | None) -> ConsoleUser:
    check_password(password)
    hashed = await hash_password(password)
    now = utcnow()
    async with db.write() as session:
        invite, user, _ = await _open_invitation(session, token, now)
        invite.used_at = now
        user.password_hash, user.status = hashed, "active"
        session.add(
            audit.entry(
                Actor(user.email, "client", ip),
                "user.accept",
                client_id=user.client_id,
                target=user.email,
                now=now,
            )
        )
    return user


# --- login ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoginLimits:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    @property
    def max_failures_per_address(self) -> int:
        return 4 * self.max_failures


async def _failures(
    session: AsyncSession,
    column: InstrumentedAttribute[str | None] | InstrumentedAttribute[str],
    value: str,
    since: datetime,
) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(ConsoleLoginAttempt)
            .where(
                column == value, ConsoleLoginAttempt.at >= since, ConsoleLoginAttempt.ok.is_(False)
            )
        )
        or 0
    )


async def login(
    db: Database, email: str, password: str, ip: str | None, limits: LoginLimits
) -> ConsoleUser:
    """The user whose email and password these are; ``RateLimited`` after too many failures,
    ``Unauthenticated`` for a wrong pair (never saying which half), ``Forbidden`` for a
    disabled account. Every attempt is stored (and logged) whatever the outcome."""
    address = email.strip().lower()[:254]
    now = utcnow()
    since = now - limits.window
    async with db.read() as session:
        throttled = await _failures(
            session, ConsoleLoginAttempt.email, address, since
        ) >= limits.max_failures or (
            ip is not None
            and await _failures(session, ConsoleLoginAttempt.ip, ip, since)
            >= limits.max_failures_per_address
        )
        user = (
            None
            if throttled
            else await session.scalar(select(ConsoleUser).where(ConsoleUser.email == address))
        )
    ok = False
    if throttled:
        reason = "throttled"
    else:
        good = await _verify(user.password_hash if user else None, password[:MAX_PASSWORD])
        if user is None:
            reason = "unknown_user"
        elif not good:
            reason = "bad_password"
        elif user.status != "active":
            reason = f"account_{user.status}"
        else:
            ok, reason = True, "ok"
    async with db.write() as session:
        session.add(ConsoleLoginAttempt(at=now, email=address, ip=ip, ok=ok, reason=reason))
        if ok and user is not None:
            row = await session.get(ConsoleUser, user.id, with_for_update=True)
            assert row is not None
            row.last_login_at = now
            if row.password_hash and HASHER.check_needs_rehash(row.password_hash):
                row.password_hash = await hash_password(password)
            user = row
    log.info("console login", email=address, ip=ip, ok=ok, reason=reason)
    if throttled:
        minutes = int(limits.window.total_seconds() // 60)
        raise RateLimited(
            f"Too many failed logins; try again in {minutes} minutes",
            int(limits.window.total_seconds()),
        )
    if not ok or user is None:
        if reason.startswith("account_"):
            raise Forbidden("This account is not active")
        raise Unauthenticated("Wrong email or password")
    return user


async def change_password(
    db: Database,
    user_id: str,
    current: str,
    new: str,
    actor: Actor,
    keep_session: str | None = None,
) -> None:
    """Also ends every other session of the user: whoever knew the old password is out."""
    check_password(new)
    async with db.read() as session:
        user = await session.get(ConsoleUser, user_id)
    if user is None:
        raise NotFound("No such user")
    if not await _verify(user.password_hash, current[:MAX_PASSWORD]):
        raise InvalidRequest("current password: wrong password")
    if new == current:
        raise InvalidRequest("password: choose a new one")
    hashed = await hash_password(new)
    now = utcnow()
    async with db.write() as session:
        row = await session.get(ConsoleUser, user_id, with_for_update=True)
        assert row is not None
        row.password_hash, row.must_change_password = hashed, False
        others = update(ConsoleSession).where(
            ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None)
        )
        if keep_session is not None:
            others = others.where(ConsoleSession.id != keep_session)
        await session.execute(others.values(revoked_at=now))
        session.add(
            audit.entry(
                actor, "password.change", client_id=row.client_id, target=row.email, now=now
            )
        )


async def set_user_status(
    db: Database, user_id: str, status: str, actor: Actor, client_id: str | None = None
) -> ConsoleUser:
    """Disable (every session ends at once) or re-enable an account. ``client_id`` limits the
    change to that client's users."""
    if status not in ("active", "disabled"):
        raise InvalidRequest("status must be active or disabled")
    now = utcnow()
    async with db.write() as session:
        user = await session.get(ConsoleUser, user_id, with_for_update=True)
        if user is None or (client_id is not None and user.client_id != client_id):
            raise NotFound(f"User not found: {user_id}")
        if status == "active" and user.password_hash is None:
            raise InvalidRequest("this user has not accepted the invitation yet")
        user.status = status
        if status == "disabled":
            await session.execute(
                update(ConsoleSession)
                .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        session.add(
            audit.entry(
                actor,
                f"user.{'disable' if status == 'disabled' else 'enable'}",
                client_id=user.client_id,
                target=user.email,
                now=now,
            )
        )
    return user


async def list_users(
    db: Database, *, client_id: str | None = None, role: str | None = None
) -> list[ConsoleUser]:
    query = select(ConsoleUser)
    if client_id is not None:
        query = query.where(ConsoleUser.client_id == client_id)
    if role is not None:
        query = query.where(ConsoleUser.role == role)
    async with db.read() as session:
        return list(await session.scalars(query.order_by(ConsoleUser.created_at, ConsoleUser.id)))


async def recent_logins(
    db: Database, limit: int = 50, *, failed_only: bool = False
) -> list[ConsoleLoginAttempt]:
    query = select(ConsoleLoginAttempt)
    if failed_only:
        query = query.where(ConsoleLoginAttempt.ok.is_(False))
    async with db.read() as session:
        return list(
            await session.scalars(query.order_by(ConsoleLoginAttempt.pk.desc()).limit(limit))
        )
