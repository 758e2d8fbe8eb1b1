"""Tenants and their API keys.

Keys carry 256 bits of randomness, so a single SHA-256 is a sound one-way hash for them
(bcrypt's slowness protects low-entropy passwords, and would cost every request ~100 ms).
The key is shown once, at creation or rotation; rotation revokes the old key at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, select, update

from chargebook.db.engine import Database
from chargebook.db.models import ApiKey, Client
from chargebook.domain.errors import Forbidden, InvalidRequest, NotFound, Unauthenticated
from chargebook.services.clock import utcnow
from chargebook.services.ids import new_id

KEY_PREFIX = "cbk_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class ClientContext:
    """Who is calling: what every client endpoint needs to scope its queries."""

    id: str
    name: str
    reservation_fee: Decimal
    commission_percent: Decimal
    rate_limit_per_minute: int
    monthly_quota: int
    #: Contracted for every connected CPO; False: only those its contract lists
    #: (services/contracts.py), which search and booking then check in their queries.
    all_cpos: bool = True


def _context(client: Client) -> ClientContext:
    return ClientContext(
        id=client.id,
        name=client.name,
        reservation_fee=client.reservation_fee,
        commission_percent=client.commission_percent,
        rate_limit_per_minute=client.rate_limit_per_minute,
        monthly_quota=client.monthly_quota,
        all_cpos=client.all_cpos,
    )


async def create_client(
    db: Database,
    name: str,
    *,
    reservation_fee: Decimal = Decimal("0"),
    commission_percent: Decimal = Decimal("0"),
    rate_limit_per_minute: int = 100,
    monthly_quota: int = 10_000,
) -> tuple[Client, str]:
    """Create a tenant and its first key; returns the key in clear, the only time it exists."""
    if not name.strip():
        raise InvalidRequest("name must not be empty")
    _check_terms(reservation_fee, commission_percent, rate_limit_per_minute, monthly_quota)
    now = utcnow()
    key = _new_key()
    async with db.write() as session:
        client = Client(
            id=new_id("cli"),
            name=name.strip(),
            status="active",
            reservation_fee=reservation_fee,
            commission_percent=commission_percent,
            rate_limit_per_minute=rate_limit_per_minute,
            monthly_quota=monthly_quota,
            created_at=now,
        )
        session.add(client)
        await session.flush()
        session.add(_key_row(client.id, key, now))
    return client, key


def _check_terms(fee: Decimal, commission: Decimal, rate_limit: int, quota: int) -> None:
    if fee < 0 or commission < 0 or commission > 100:
        raise InvalidRequest("reservation_fee must be >= 0 and commission_percent within 0..100")
    if rate_limit < 1 or quota < 1:
        raise InvalidRequest("rate_limit_per_minute and monthly_quota must be positive")


async def update_client(
    db: Database,
    client_id: str,
    *,
    reservation_fee: Decimal | None = None,
    commission_percent: Decimal | None = None,
    rate_limit_per_minute: int | None = None,
    monthly_quota: int | None = None,
) -> Client:
    """Change a client's terms; what is not given stays. New limits apply from the client's
    next request (its current window and month's count are kept)."""
    async with db.write() as session:
        client = await session.get(Client, client_id, with_for_update=True)
        if client is None:
            raise NotFound(f"Client not found: {client_id}")
        changes = {
            "reservation_fee": reservation_fee, "commission_percent": commission_percent,
            "rate_limit_per_minute": rate_limit_per_minute, "monthly_quota": monthly_quota,
        }
        for field, value in changes.items():
            if value is not None:
                setattr(client, field, value)
        _check_terms(client.reservation_fee, client.commission_percent,
                     client.rate_limit_per_minute, client.monthly_quota)
    return client


def _key_row(client_id: str, key: str, now: object) -> ApiKey:
    return ApiKey(
        id=new_id("key"), client_id=client_id, key_hash=hash_key(key), prefix=key[:10], created_at=now
    )


async def rotate_key(db: Database, client_id: str) -> str:
    """Issue a new key and revoke every older one in the same transaction."""
    now = utcnow()
    key = _new_key()
    async with db.write() as session:
        if await session.get(Client, client_id) is None:
            raise NotFound(f"Client not found: {client_id}")
        await session.execute(
            update(ApiKey)
            .where(ApiKey.client_id == client_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.add(_key_row(client_id, key, now))
    return key


async def set_client_status(db: Database, client_id: str, status: str) -> Client:
    async with db.write() as session:
        client = await session.get(Client, client_id, with_for_update=True)
        if client is None:
            raise NotFound(f"Client not found: {client_id}")
        client.status = status
    return client


async def list_clients(db: Database) -> list[Client]:
    async with db.read() as session:
        return list((await session.scalars(select(Client).order_by(Client.created_at))).all())


_BY_KEY = (
    select(
        Client.id, Client.name, Client.status, Client.reservation_fee, Client.commission_percent,
        Client.rate_limit_per_minute, Client.monthly_quota, Client.all_cpos,
    )
    .join(ApiKey, ApiKey.client_id == Client.id)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
)


async def authenticate(db: Database, key: str | None) -> ClientContext:
    """Resolve a presented key to its client: 401 for unknown keys, 403 for suspended clients.

    Every request pays for this, so it is one prebuilt statement on a bare connection, with
    no transaction around it.
    """
    if not key:
        raise Unauthenticated("Missing API key: send X-API-Key or Authorization: Bearer")
    async with db.single_statements() as conn:
        row = (await conn.execute(_BY_KEY, {"key_hash": hash_key(key)})).first()
    if row is None:
        raise Unauthenticated("Invalid API key")
    client_id, name, status, fee, commission, rate_limit, quota, all_cpos = row
    if status != "active":
        raise Forbidden("Client account is suspended")
    return ClientContext(
        id=client_id, name=name, reservation_fee=fee, commission_percent=commission,
        rate_limit_per_minute=rate_limit, monthly_quota=quota, all_cpos=bool(all_cpos),
    )
