"""What `chargebook demo` adds for the console: two logins, and activity to look at.

* An operator (``operator@demo.example``) and a user of the demo client, each with a fresh
  password every run (printed once; the demo database may be kept between runs).
* Through the demo's own client API, like any client: a fleet group with limits and a few
  tokens, and bookings at both simulated CPOs that walk their lifecycle while you watch
  (at DE-SBK through the OCPI 2.3.0 Bookings module, at DE-SIM with RESERVE_NOW), plus one
  a few hours ahead that waits in REQUESTED.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import select

from chargebook.db.engine import Database
from chargebook.db.models import BookingLocation, Evse, Location, Party
from chargebook.domain.errors import Conflict
from chargebook.services import console_users
from chargebook.services.audit import Actor
from chargebook.services.clock import utcnow

OPERATOR = "operator@demo.example"
FMT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True, slots=True)
class Logins:
    operator: tuple[str, str]
    client_user: tuple[str, str]

    def text(self, root: str) -> str:
        return (
            f"  Console  : {root}/console/\n"
            f"    operator    : {self.operator[0]}  password {self.operator[1]}\n"
            f"    client user : {self.client_user[0]}  password {self.client_user[1]}"
            '  (client "demo")\n'
        )


async def people(db: Database, client_id: str) -> Logins:
    actor = Actor("demo", "cli")
    operator_password = secrets.token_urlsafe(12)
    try:
        await console_users.create_operator(db, OPERATOR, operator_password, actor)
    except Conflict:  # a kept demo database: same operator, new password
        await console_users.reset_password(db, OPERATOR, operator_password, actor)
    email = f"fleet-{client_id.rsplit('_', 1)[-1][:6]}@demo.example"
    invite = await console_users.invite_client_user(db, client_id, email, actor)
    user_password = secrets.token_urlsafe(12)
    await console_users.accept_invitation(db, invite.token, user_password, None)
    return Logins((OPERATOR, operator_password), (email, user_password))


async def _free_evses(
    db: Database, party_id: str, taken: set[int], count: int
) -> list[tuple[str, str]]:
    query = (
        select(Location.id, Evse.uid, Evse.pk)
        .join(Evse, Evse.location_pk == Location.pk)
        .join(Party, Location.party_pk == Party.id)
        .where(Party.party_id == party_id, Evse.reservable.is_(True), Evse.status == "AVAILABLE")
    )
    if party_id == "SBK":  # its calendar must offer the EVSE
        query = query.join(
            BookingLocation,
            (BookingLocation.party_pk == Party.id)
            & (BookingLocation.location_id == Location.id)
            & (BookingLocation.evse_uid == Evse.uid),
        )
    async with db.read() as session:
        rows = (
            await session.execute(
                query.order_by(Location.pk, Evse.pk).limit(count + len(taken) + 1)
            )
        ).all()
    return [(loc, uid) for loc, uid, pk in rows if pk not in taken][:count]


async def activity(db: Database, base: str, key: str, examples: list[Evse]) -> None:
    """A group with tokens and five bookings, made through the client API."""
    taken = {e.pk for e in examples}  # the EVSEs the printed curl examples book
    soon = (utcnow() + timedelta(minutes=20)).replace(second=0, microsecond=0)
    later = soon + timedelta(hours=3)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=30) as http:
        group = (
            await http.post(
                "/groups", json={"name": "Demo fleet", "monthly_limit": 500, "session_limit": 60}
            )
        ).json()
        await http.post(f"/groups/{group['id']}/tokens/bulk", json={"count": 5})
        plans = [
            ("SBK", soon, {"token_strategy": "group_token", "fleet_group_id": group["id"]}),
            ("SBK", soon, {}),
            ("SIM", soon, {}),
            ("SIM", soon, {"token_strategy": "group_token", "fleet_group_id": group["id"]}),
            ("SIM", later, {}),
        ]
        free = {p: await _free_evses(db, p, taken, 3) for p in ("SBK", "SIM")}
        for n, (party, start, extra) in enumerate(plans):
            if not free[party]:
                continue
            location_id, evse_uid = free[party].pop(0)
            await http.post(
                "/bookings",
                json={
                    "location_id": location_id,
                    "evse_uid": evse_uid,
                    "reservation_start": start.strftime(FMT),
                    "reservation_end": (start + timedelta(hours=1)).strftime(FMT),
                    "external_id": f"demo-console-{n}",
                    **extra,
                },
            )
