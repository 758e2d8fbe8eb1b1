"""Read models for the operator's console pages: clients with their usage, one client's
account, CPO connections with their counts, and webhook deliveries that are failing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import (
    ApiKey,
    Booking,
    Client,
    ConsoleInvitation,
    ConsoleUser,
    Evse,
    FleetGroup,
    Location,
    Party,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from chargebook.domain.errors import NotFound
from chargebook.domain.lifecycle import LIVE_STATES
from chargebook.services.rate_limits import RateLimiter

_LIVE = sorted(s.value for s in LIVE_STATES)


@dataclass(frozen=True, slots=True)
class ClientRow:
    client: Client
    used_this_month: int

    @property
    def quota_share(self) -> float:
        return (
            self.used_this_month / self.client.monthly_quota if self.client.monthly_quota else 0.0
        )


async def client_rows(db: Database, limiter: RateLimiter, now: datetime) -> list[ClientRow]:
    async with db.read() as session:
        clients = list(await session.scalars(select(Client).order_by(Client.created_at, Client.id)))
    usage = await limiter.month_usage([c.id for c in clients], now) if clients else {}
    return [ClientRow(c, usage.get(c.id, 0)) for c in clients]


@dataclass(slots=True)
class ClientAccount:
    client: Client
    used_this_month: int
    key: ApiKey | None  # the active one (prefix and creation only: the key itself is never kept)
    revoked_keys: int
    users: list[ConsoleUser] = field(default_factory=list)
    pending_invitations: dict[str, datetime] = field(default_factory=dict)  # user id -> expires_at
    groups: int = 0
    live_bookings: int = 0
    webhook_endpoints: int = 0


async def client_account(
    db: Database, limiter: RateLimiter, client_id: str, now: datetime
) -> ClientAccount:
    async with db.read() as session:
        client = await session.get(Client, client_id)
        if client is None:
            raise NotFound(f"Client not found: {client_id}")
        keys = list(
            await session.scalars(
                select(ApiKey)
                .where(ApiKey.client_id == client_id)
                .order_by(ApiKey.created_at.desc())
            )
        )
        users = list(
            await session.scalars(
                select(ConsoleUser)
                .where(ConsoleUser.client_id == client_id)
                .order_by(ConsoleUser.created_at)
            )
        )
        invites = (
            await session.execute(
                select(ConsoleInvitation.user_id, func.max(ConsoleInvitation.expires_at))
                .join(ConsoleUser, ConsoleUser.id == ConsoleInvitation.user_id)
                .where(
                    ConsoleUser.client_id == client_id,
                    ConsoleInvitation.used_at.is_(None),
                    ConsoleInvitation.expires_at > now,
                )
                .group_by(ConsoleInvitation.user_id)
            )
        ).all()
        groups = await session.scalar(
            select(func.count()).select_from(FleetGroup).where(FleetGroup.client_id == client_id)
        )
        live = await session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.client_id == client_id, Booking.status.in_(_LIVE))
        )
        endpoints = await session.scalar(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(WebhookEndpoint.client_id == client_id)
        )
    usage = await limiter.month_usage([client_id], now)
    active = next((k for k in keys if k.revoked_at is None), None)
    return ClientAccount(
        client=client,
        used_this_month=usage.get(client_id, 0),
        key=active,
        revoked_keys=sum(1 for k in keys if k.revoked_at is not None),
        users=users,
        pending_invitations={uid: exp for uid, exp in invites},
        groups=int(groups or 0),
        live_bookings=int(live or 0),
        webhook_endpoints=int(endpoints or 0),
    )


@dataclass(frozen=True, slots=True)
class PartyRow:
    party: Party
    locations: int
    evses: int
    live_bookings: int

    @property
    def label(self) -> str:
        return f"{self.party.country_code}*{self.party.party_id}"

    @property
    def modules(self) -> list[str]:
        return sorted(self.party.endpoints or {})


async def party_rows(db: Database) -> list[PartyRow]:
    async with db.read() as session:
        parties = list(await session.scalars(select(Party).order_by(Party.created_at, Party.id)))
        locations: dict[str, int] = dict(
            (
                await session.execute(
                    select(Location.party_pk, func.count()).group_by(Location.party_pk)
                )
            ).all()
        )
        evses: dict[str, int] = dict(
            (
                await session.execute(
                    select(Location.party_pk, func.count())
                    .join(Evse, Evse.location_pk == Location.pk)
                    .group_by(Location.party_pk)
                )
            ).all()
        )
        live: dict[str, int] = dict(
            (
                await session.execute(
                    select(Location.party_pk, func.count())
                    .select_from(Booking)
                    .join(Evse, Evse.pk == Booking.evse_pk)
                    .join(Location, Location.pk == Evse.location_pk)
                    .where(Booking.status.in_(_LIVE))
                    .group_by(Location.party_pk)
                )
            ).all()
        )
    return [
        PartyRow(p, int(locations.get(p.id, 0)), int(evses.get(p.id, 0)), int(live.get(p.id, 0)))
        for p in parties
    ]


async def party(db: Database, party_pk: str) -> Party:
    async with db.read() as session:
        found = await session.get(Party, party_pk)
    if found is None:
        raise NotFound(f"CPO not found: {party_pk}")
    return found


@dataclass(frozen=True, slots=True)
class FailingDelivery:
    delivery: WebhookDelivery
    endpoint_url: str
    client_id: str
    client_name: str
    last_error: str | None  # the last attempt's HTTP status or error


async def failing_deliveries(
    db: Database, client_id: str | None = None, limit: int = 100
) -> list[FailingDelivery]:
    """Given up, or still retrying after at least one failed POST; newest first."""
    query = (
        select(WebhookDelivery, WebhookEndpoint.url, Client.id, Client.name)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(Client, Client.id == WebhookEndpoint.client_id)
        .where(
            (WebhookDelivery.status == "failed")
            | ((WebhookDelivery.status == "pending") & (WebhookDelivery.attempt_count > 0))
        )
    )
    if client_id is not None:
        query = query.where(Client.id == client_id)
    async with db.read() as session:
        rows = (await session.execute(query.order_by(WebhookDelivery.pk.desc()).limit(limit))).all()
        last = await _last_attempts(session, [d.pk for d, *_ in rows])
    return [FailingDelivery(d, url, cid, name, last.get(d.pk)) for d, url, cid, name in rows]


async def _last_attempts(session: AsyncSession, pks: Sequence[int]) -> dict[int, str]:
    if not pks:
        return {}
    out: dict[int, str] = {}
    for attempt in await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_pk.in_(list(pks)))
        .order_by(WebhookAttempt.pk)
    ):
        out[attempt.delivery_pk] = attempt.error or f"HTTP {attempt.status_code}"
    return out
