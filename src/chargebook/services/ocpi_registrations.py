"""Pending registrations: our `ocpi connect` while its credentials POST is in flight.

OCPI 2.2.1 credentials.asciidoc § Registration: the CPO reads our versions and version details
with token B *before* it answers our POST, and may push its catalogue the moment it has
answered. So token B must open those doors from the moment the POST leaves, even when we do not
know yet which party is at the other end (many CPOs refuse `GET /credentials` with token A: the
spec promises token A for the registration only).

A pending registration holds token B's hash. Unbound, it opens only what the handshake needs:
versions, version details and `GET /credentials`. Bound to a party (its identity is known, from
`GET /credentials` or the POST's answer), it also opens that party's pushes. It lives a few
minutes at most and is removed when the handshake ends, whichever way: completed (the party
is stored with token C, token B becomes its token) or closed.

`ocpi_parties.connect` drives it: open → (bind) → POST → complete, or close on any failure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import OcpiRegistration, Party
from chargebook.domain.errors import IdentityMismatch, InvalidRequest
from chargebook.services.clock import utcnow
from chargebook.services.ids import new_id
from chargebook.services.ocpi_identity import (
    apply_party,
    cpo_role,
    ensure_free,
    identity_of,
    label,
    new_party,
    party_by_identity,
)

#: A handshake takes seconds; a token B left over by a crash opens nothing after this.
PENDING_REGISTRATION_TTL = timedelta(minutes=5)


async def open_registration(db: Database, token_hash: str, versions_url: str) -> str:
    """A pending registration for token B (unbound); expired ones are removed on the way."""
    await purge_expired(db)
    now = utcnow()
    async with db.write() as session:
        registration = OcpiRegistration(
            id=new_id("reg"), token_hash=token_hash, versions_url=versions_url, created_at=now,
            expires_at=now + PENDING_REGISTRATION_TTL,
        )
        session.add(registration)
    return registration.id


async def live_registration(
    session: AsyncSession, hashes: list[str], now: datetime
) -> OcpiRegistration | None:
    """The unexpired pending registration whose token B is one of ``hashes``."""
    return await session.scalar(select(OcpiRegistration).where(
        OcpiRegistration.token_hash.in_(hashes), OcpiRegistration.expires_at > now))


async def bound_party(session: AsyncSession, registration: OcpiRegistration) -> Party | None:
    return await session.get(Party, registration.party_pk) if registration.party_pk else None


async def locked_registration(
    session: AsyncSession, registration_id: str
) -> OcpiRegistration | None:
    return await session.get(OcpiRegistration, registration_id, with_for_update=True)


def _reconnecting(party: Party | None, registration: OcpiRegistration) -> Party | None:
    """The operator connects again to the CPO at the versions URL a party was registered from
    (it lost our credentials, say): that party, which the handshake may renew."""
    same_url = party is not None and party.versions_url == registration.versions_url
    return party if same_url else None


async def bind_registration(
    db: Database, registration_id: str, role: dict[str, Any], name: str | None
) -> None:
    """The CPO's identity is known: token B opens its pushes from now on."""
    claim = identity_of(role)
    async with db.write() as session:
        registration = await locked_registration(session, registration_id)
        if registration is None:
            raise InvalidRequest("the registration expired")
        party = await party_by_identity(session, claim)
        ensure_free(party, claim, mine=_reconnecting(party, registration))
        if party is None:
            party = new_party(session, claim, name or claim[1], "registering")
            await session.flush()
        registration.party_pk = party.id


async def complete_registration(
    db: Database, registration_id: str, theirs: Any, *, version: str, versions_url: str,
    endpoints: dict[str, str], token_b: str, name: str | None,
) -> Party:
    """The CPO answered our POST: bind the registration to the party it names, store the party
    with token C, remove the pending registration (token B is now the party's token)."""
    role = cpo_role(theirs)
    claim = identity_of(role)
    token_c = theirs.get("token")
    if not isinstance(token_c, str) or not token_c:
        raise InvalidRequest("the CPO's credentials answer carries no token")
    async with db.write() as session:
        registration = await locked_registration(session, registration_id)
        if registration is None or registration.expires_at <= utcnow():
            raise InvalidRequest("the CPO answered after our registration expired")
        party = await bound_party(session, registration)
        if party is not None and (party.country_code, party.party_id) != claim:
            raise IdentityMismatch(f"the CPO answered as {label(claim)} but its credentials "
                                   f"named {party.country_code}-{party.party_id}")
        holder = await party_by_identity(session, claim)
        ensure_free(holder, claim, mine=party or _reconnecting(holder, registration))
        await session.delete(registration)
        await session.flush()
        return await apply_party(
            session, party or holder, role, version=version, versions_url=versions_url,
            endpoints=endpoints, token_for_them=token_c, token_from_them=token_b,
            fallback_name=name or claim[1],
        )


async def close_registration(db: Database, registration_id: str) -> None:
    """The handshake failed: token B opens nothing any more. A party created only for this
    registration (still ``registering``) goes with it; a party that existed is left as it was."""
    async with db.write() as session:
        registration = await locked_registration(session, registration_id)
        if registration is not None:
            await _remove(session, registration)


async def purge_expired(db: Database) -> int:
    """Remove pending registrations past their expiry (with the parties made only for them)."""
    async with db.write() as session:
        expired = list(await session.scalars(
            select(OcpiRegistration).where(OcpiRegistration.expires_at <= utcnow())))
        for registration in expired:
            await _remove(session, registration)
    return len(expired)


async def _remove(session: AsyncSession, registration: OcpiRegistration) -> None:
    # Statements, not ORM deletes: the party's foreign keys cascade in the database.
    await session.execute(delete(OcpiRegistration).where(OcpiRegistration.id == registration.id))
    if registration.party_pk is not None:
        await session.execute(delete(Party).where(
            Party.id == registration.party_pk, Party.status == "registering"))
