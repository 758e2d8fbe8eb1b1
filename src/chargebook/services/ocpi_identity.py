"""Who a CPO is, and the one place a party row takes its identity, endpoints and tokens.

A party's identity is its CredentialsRole's ``country_code`` + ``party_id`` (OCPI 2.2.1
credentials.asciidoc § CredentialsRole; both CiStrings, compared case-insensitively, stored
upper case). Identity is bound to the token that registered it: an invite (token A) registers
one identity once, a PUT keeps the caller's identity, and an identity another connection holds
is never written over (docs/security.md § OCPI identity).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.models import BookingLocation, Party
from chargebook.domain.errors import IdentityTaken, InvalidRequest
from chargebook.services.clock import utcnow
from chargebook.services.ids import new_id

#: Bookings 1.1 names its module ``Booking`` (mod_bookings.asciidoc header) and leaves it out
#: of the ModuleID table; peers also say ``bookings``. We read either.
BOOKINGS_MODULE_IDS = frozenset({"booking", "bookings"})
#: A party in one of these states holds its identity: nobody else may register it.
HELD = ("registered", "registering")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bookings_url(endpoints: dict[str, str]) -> str | None:
    """The CPO's Bookings Sender interface (we GET calendars and POST requests there)."""
    found = {key.rpartition(":")[2]: url for key, url in endpoints.items()
             if key.rpartition(":")[0].casefold() in BOOKINGS_MODULE_IDS}
    return found.get("SENDER") or next(iter(found.values()), None)


def cpo_role(credentials: Any) -> dict[str, Any]:
    """The first CPO role of a Credentials object (the one we connect as a party)."""
    roles = credentials.get("roles") if isinstance(credentials, dict) else None
    for role in roles if isinstance(roles, list) else []:
        if isinstance(role, dict) and role.get("role") == "CPO":
            return dict(role)
    raise InvalidRequest("credentials carry no CPO role")


def identity_of(role: dict[str, Any]) -> tuple[str, str]:
    """(country_code, party_id) of a CredentialsRole, upper case: CiString(2), CiString(3)."""
    country, party = role.get("country_code"), role.get("party_id")
    if not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
        raise InvalidRequest("the CPO role needs a country_code of 2 letters")
    if not (isinstance(party, str) and 1 <= len(party) <= 3 and party.isascii()
            and party.isalnum()):
        raise InvalidRequest("the CPO role needs a party_id of up to 3 letters or digits")
    return country.upper(), party.upper()


def label(identity: tuple[str, str]) -> str:
    return "-".join(identity)


async def party_by_identity(session: AsyncSession, identity: tuple[str, str]) -> Party | None:
    country, party = identity
    return await session.scalar(
        select(Party).where(Party.country_code == country, Party.party_id == party))


def ensure_free(
    holder: Party | None, identity: tuple[str, str], *, mine: Party | None = None
) -> None:
    """Refuse an identity another connection holds (registered, or mid-registration)."""
    if holder is not None and holder.status in HELD and (mine is None or holder.id != mine.id):
        raise IdentityTaken(f"{label(identity)} is already registered with another token")


def new_party(session: AsyncSession, identity: tuple[str, str], name: str, status: str) -> Party:
    party = Party(id=new_id("cpo"), country_code=identity[0], party_id=identity[1], name=name,
                  max_reservation_minutes=240, created_at=utcnow(), status=status)
    session.add(party)
    return party


async def apply_party(
    session: AsyncSession,
    party: Party | None,
    role: dict[str, Any],
    *,
    version: str,
    versions_url: str,
    endpoints: dict[str, str],
    token_for_them: str,
    token_from_them: str,
    fallback_name: str,
) -> Party:
    """Write a completed handshake onto ``party`` (a new one when None): registered, with its
    endpoints and both tokens. The caller has checked the identity and holds the transaction."""
    details = role.get("business_details")
    name = (details.get("name") if isinstance(details, dict) else None) or fallback_name
    if party is None:
        party = new_party(session, identity_of(role), name, "registered")
    party.name = str(name)[:200]
    party.status = "registered"
    party.version = version
    party.versions_url = versions_url
    party.endpoints = endpoints
    party.bookings_url = bookings_url(endpoints) if version == "2.3.0" else None
    if party.bookings_url is None:
        # Without the module (e.g. back on 2.2.1) its calendars no longer decide anything.
        await session.execute(delete(BookingLocation).where(BookingLocation.party_pk == party.id))
    party.token_for_them = token_for_them
    party.token_from_them_hash = hash_token(token_from_them)
    party.pending_token_hash = None
    await session.flush()
    return party
