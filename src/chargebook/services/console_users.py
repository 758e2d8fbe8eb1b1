"""People who log in to the console: operators and client users, their invitations.

* **Operators** are made with ``chargebook operators create``: with a password from stdin, or
  with a generated one-time password that must be changed at the first login.
* **Client users** are invited by an operator (console or CLI). No mail is sent: the invite
  makes a one-time link (valid :data:`INVITATION_TTL`) that the operator hands over; the
  person sets a password there (docs/decisions.md, "Console invitations").
* Logging in, and changing one's password, is ``console_logins.py``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import Client, ConsoleInvitation, ConsoleSession, ConsoleUser
from chargebook.domain.errors import Conflict, InvalidRequest, NotFound
from chargebook.services import audit
from chargebook.services.audit import Actor
from chargebook.services.clock import utcnow
from chargebook.services.console_passwords import (
    check_password,
    hash_password,
    hash_token,
    normalize_email,
    one_time_password,
)
from chargebook.services.ids import new_id

INVITATION_TTL = timedelta(days=7)


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
