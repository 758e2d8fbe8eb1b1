"""Logging in to the console, and changing one's password.

A login is refused without checking the password once an email (or an address) has had too
many failures in the window; every attempt is stored (``console_login_attempts``, so the
counts hold across API processes) and logged. A hash made with older parameters is
replaced at the next successful login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from chargebook.db.engine import Database
from chargebook.db.models import ConsoleLoginAttempt, ConsoleSession, ConsoleUser
from chargebook.domain.errors import (
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from chargebook.services import audit
from chargebook.services.audit import Actor
from chargebook.services.clock import utcnow
from chargebook.services.console_passwords import (
    MAX_PASSWORD,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)

log = structlog.get_logger("chargebook.console")


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
        good = await verify_password(user.password_hash if user else None, password[:MAX_PASSWORD])
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
            if row.password_hash and needs_rehash(row.password_hash):
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
    if not await verify_password(user.password_hash, current[:MAX_PASSWORD]):
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
