"""OCPI connections with CPOs: the credentials handshake both ways, rotation, unregister.

OCPI 2.2.1 credentials.asciidoc. Tokens: A (bootstrap, one-off), B (the registering party's, for
the other to use), C (the answering party's). We keep the token a CPO must present to us only
as a SHA-256 hash; the token we present to it must be kept in clear to be sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, or_, select

from chargebook.db.engine import Database
from chargebook.db.models import BookingLocation, OcpiInvite, Party
from chargebook.domain.errors import (
    AlreadyRegistered,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unauthenticated,
)
from chargebook.ocpi import transport as t
from chargebook.ocpi.client import OcpiClient, PeerError
from chargebook.services.clock import utcnow
from chargebook.services.ids import new_id
from chargebook.settings import Settings

#: The versions we serve side by side; with each CPO we use the highest both offer.
SUPPORTED_VERSIONS = ("2.2.1", "2.3.0")
OUR_MODULES = {  # module id -> our interface role
    "credentials": "RECEIVER",
    "locations": "RECEIVER",
    "tariffs": "RECEIVER",
    "sessions": "RECEIVER",
    "cdrs": "RECEIVER",
    "tokens": "SENDER",
    "commands": "SENDER",
}
#: Bookings 1.1 names its module ``Booking`` (mod_bookings.asciidoc header) and leaves it out
#: of the ModuleID table; peers also say ``bookings``. We publish the spec's name, our
#: Receiver interface (the CPO pushes BookingLocations and Bookings to us), and read either.
BOOKINGS_MODULE = "Booking"
BOOKINGS_MODULE_IDS = frozenset({"booking", "bookings"})


def modules_for(version: str) -> dict[str, str]:
    """Our endpoints (module id -> our role) in one OCPI version."""
    if version == "2.3.0":
        return {**OUR_MODULES, BOOKINGS_MODULE: "RECEIVER"}
    return dict(OUR_MODULES)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split(".") if x.isdigit())


def bookings_url(endpoints: dict[str, str]) -> str | None:
    """The CPO's Bookings Sender interface (we GET calendars and POST requests there)."""
    found = {key.rpartition(":")[2]: url for key, url in endpoints.items()
             if key.rpartition(":")[0].casefold() in BOOKINGS_MODULE_IDS}
    return found.get("SENDER") or next(iter(found.values()), None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Identity:
    """Who we are in OCPI (from settings) and where our versions endpoint is."""

    country_code: str
    party_id: str
    name: str
    base_url: str  # e.g. http://127.0.0.1:8000 — our OCPI lives under {base_url}/ocpi

    @classmethod
    def from_settings(cls, settings: Settings, base_url: str | None = None) -> Identity:
        return cls(settings.ocpi_country_code, settings.ocpi_party_id, settings.token_issuer,
                   base_url or settings.base_url())

    @property
    def versions_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/ocpi/versions"

    def credentials(self, token: str) -> dict[str, Any]:
        """OCPI 2.2.1 credentials.asciidoc § Credentials object, for our side."""
        return {
            "token": token,
            "url": self.versions_url,
            "roles": [
                {
                    "role": "EMSP",
                    "business_details": {"name": self.name},
                    "party_id": self.party_id,
                    "country_code": self.country_code,
                }
            ],
        }


async def issue_invite(db: Database, name: str) -> str:
    """A token A for a CPO that will register with us."""
    token = t.new_token()
    async with db.write() as session:
        session.add(OcpiInvite(id=new_id("inv"), name=name, token_hash=hash_token(token), created_at=utcnow()))
    return token


@dataclass(frozen=True, slots=True)
class Caller:
    """Whoever presented a token to our OCPI endpoints."""

    party: Party | None = None
    invite: OcpiInvite | None = None


_PARTIES = Party.__table__
# Every OCPI request pays for this lookup: one statement built once, run with no transaction.
# A token has at most two readings (transport.token_candidates): two fixed slots, the second
# repeating the first when there is one reading (an "expanding" IN re-renders its SQL on
# every execution).
_SLOTS = (bindparam("h1"), bindparam("h2"))
_PARTY_BY_TOKEN = select(_PARTIES).where(or_(
    _PARTIES.c.token_from_them_hash.in_(_SLOTS), _PARTIES.c.pending_token_hash.in_(_SLOTS),
)).limit(1)


async def identify(db: Database, candidates: list[str]) -> Caller:
    if not candidates:
        raise Unauthenticated("Authorization: Token header required")
    hashes = [hash_token(c) for c in candidates]
    async with db.single_statements() as conn:
        row = (await conn.execute(_PARTY_BY_TOKEN, {"h1": hashes[0], "h2": hashes[-1]})).first()
    if row is not None and row.status in ("registered", "registering"):
        # A detached copy of the row: what the handlers read of their caller.
        return Caller(party=Party(**row._mapping))
    async with db.read() as session:
        invite = await session.scalar(
            select(OcpiInvite).where(OcpiInvite.token_hash.in_(hashes), OcpiInvite.used_at.is_(None))
        )
    if invite is not None:
        return Caller(invite=invite)
    raise Unauthenticated("Unknown or revoked token")


async def _discover(
    client: OcpiClient, versions_url: str, version: str | None = None
) -> tuple[str, dict[str, str]]:
    """GET their versions, pick the highest we share (or ``version``, when the CPO chose it by
    the credentials URL it called), GET its details: (version, endpoints)."""
    reply = await client.get(versions_url)
    offered = {v.get("version"): v.get("url") for v in reply.data or [] if isinstance(v, dict)}
    mutual = [v for v in SUPPORTED_VERSIONS if v in offered and version in (None, v)]
    if not mutual:
        wanted = version or f"one of {list(SUPPORTED_VERSIONS)}"
        raise InvalidRequest(f"no mutual OCPI version: we need {wanted}, they offer {sorted(map(str, offered))}")
    version = max(mutual, key=version_key)
    details = await client.get(offered[version])
    endpoints = {
        f"{e['identifier']}:{e['role']}": e["url"]
        for e in (details.data or {}).get("endpoints", [])
        if isinstance(e, dict) and {"identifier", "role", "url"} <= e.keys()
    }
    return version, endpoints


def _cpo_role(credentials: dict[str, Any]) -> dict[str, Any]:
    for role in credentials.get("roles") or []:
        if role.get("role") == "CPO":
            return dict(role)
    raise InvalidRequest("credentials carry no CPO role")


async def _store_party(
    db: Database,
    role: dict[str, Any],
    *,
    version: str,
    versions_url: str,
    endpoints: dict[str, str],
    token_for_them: str,
    token_from_them: str,
    fallback_name: str,
    status: str = "registered",
) -> Party:
    name = (role.get("business_details") or {}).get("name") or fallback_name
    async with db.write() as session:
        party = await session.scalar(
            select(Party).where(
                Party.country_code == role["country_code"].upper(), Party.party_id == role["party_id"].upper()
            )
        )
        if party is None:
            party = Party(
                id=new_id("cpo"), country_code=role["country_code"].upper(), party_id=role["party_id"].upper(),
                name=name, max_reservation_minutes=240, created_at=utcnow(),
            )
            session.add(party)
        party.name = name
        party.status = status
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
    return party


async def accept_registration(
    db: Database, caller: Caller, credentials: dict[str, Any], identity: Identity, *, update: bool,
    version: str = "2.2.1",
) -> dict[str, Any]:
    """A CPO POSTs (register) or PUTs (update) its credentials to us: fetch its endpoints with
    the token it gave us, issue a fresh token for it, answer with our credentials.

    The version is the one whose credentials URL it called (credentials.asciidoc: the server
    "knows the version from which credentials URL was POSTed to"; a PUT "switches to the
    version this credentials URL belongs to"): the CPO, as the registering side, picked it
    from our versions list. It must offer that version itself.
    """
    if update and caller.party is None:
        raise Forbidden("PUT credentials needs a registered party's token")
    if not update and caller.party is not None:
        raise AlreadyRegistered("already registered: use PUT to update credentials")
    their_token = credentials.get("token")
    versions_url = credentials.get("url")
    if not isinstance(their_token, str) or not isinstance(versions_url, str):
        raise InvalidRequest("credentials need token and url")
    role = _cpo_role(credentials)
    try:
        async with OcpiClient(token=their_token) as client:
            version, endpoints = await _discover(client, versions_url, version)
    except PeerError as exc:
        raise InvalidRequest(f"could not read the party's versions: {exc}") from exc
    ours = t.new_token()
    await _store_party(
        db, role, version=version, versions_url=versions_url, endpoints=endpoints,
        token_for_them=their_token, token_from_them=ours,
        fallback_name=caller.invite.name if caller.invite else role["party_id"],
    )
    if caller.invite is not None:
        async with db.write() as session:
            invite = await session.get(OcpiInvite, caller.invite.id, with_for_update=True)
            if invite is not None:
                invite.used_at = utcnow()
    return identity.credentials(ours)


async def connect(db: Database, versions_url: str, token_a: str, identity: Identity, name: str | None) -> Party:
    """We register with a CPO: discover its endpoints with token A, POST our credentials
    (token B for it to use), keep the token C it answers with.

    The CPO calls us with token B while our POST is still open (to read our versions) and may
    push its catalogue the moment it answers, so token B must work before the POST returns:
    we learn the CPO's identity first (GET credentials with token A) and store the party as
    ``registering`` with token B, then complete it with the answer.
    """
    token_b = t.new_token()
    async with OcpiClient(token=token_a) as client:
        version, endpoints = await _discover(client, versions_url)
        url = endpoints.get("credentials:SENDER") or endpoints.get("credentials:RECEIVER")
        if url is None:
            raise InvalidRequest("the party offers no credentials endpoint")
        try:
            role = _cpo_role((await client.get(url)).data or {})
        except (PeerError, InvalidRequest):
            role = None  # not offered with token A: learn the identity from the POST's answer
        if role is not None:
            await _store_party(db, role, version=version, versions_url=versions_url, endpoints=endpoints,
                               token_for_them=token_a, token_from_them=token_b,
                               fallback_name=name or role["party_id"], status="registering")
        try:
            reply = await client.request("POST", url, body=identity.credentials(token_b))
        except PeerError:
            if role is not None:
                await _abandon(db, token_b)
            raise
    theirs = reply.data or {}
    role = _cpo_role(theirs)
    return await _store_party(
        db, role, version=version, versions_url=versions_url, endpoints=endpoints,
        token_for_them=theirs["token"], token_from_them=token_b, fallback_name=name or role["party_id"],
    )


async def update_credentials(db: Database, party: Party, identity: Identity) -> Party:
    """We rotate our token with a CPO and re-negotiate the version (credentials.asciidoc
    § PUT, "Update / switch version"): discover its versions again, PUT our new credentials
    to the credentials endpoint of the highest mutual version, keep the token it answers with.

    The CPO reads our versions with the new token while our PUT is open, so that token is
    valid (beside the old one) from before the PUT; if the update fails, the old one stays.
    """
    if party.status != "registered" or not party.versions_url or not party.token_for_them:
        raise InvalidRequest(f"{party.country_code}-{party.party_id} is not registered")
    new_token = t.new_token()
    async with db.write() as session:
        row = await session.get(Party, party.id, with_for_update=True)
        assert row is not None
        row.pending_token_hash = hash_token(new_token)
    try:
        async with OcpiClient(token=party.token_for_them) as client:
            version, endpoints = await _discover(client, party.versions_url)
            url = endpoints.get("credentials:SENDER") or endpoints.get("credentials:RECEIVER")
            if url is None:
                raise InvalidRequest("the party offers no credentials endpoint")
            reply = await client.request("PUT", url, body=identity.credentials(new_token))
        theirs = reply.data or {}
        role = _cpo_role(theirs)
        if not isinstance(theirs.get("token"), str):
            raise InvalidRequest("the CPO's credentials answer carries no token")
    except BaseException:
        async with db.write() as session:
            row = await session.get(Party, party.id, with_for_update=True)
            if row is not None:
                row.pending_token_hash = None
        raise
    return await _store_party(
        db, role, version=version, versions_url=party.versions_url, endpoints=endpoints,
        token_for_them=theirs["token"], token_from_them=new_token, fallback_name=party.name,
    )


async def _abandon(db: Database, token: str) -> None:
    async with db.write() as session:
        party = await session.scalar(select(Party).where(Party.token_from_them_hash == hash_token(token)))
        if party is not None and party.status == "registering":
            party.status, party.token_from_them_hash = "unregistered", None


async def unregister(db: Database, party: Party) -> None:
    async with db.write() as session:
        row = await session.get(Party, party.id, with_for_update=True)
        if row is None:
            raise NotFound("party not found")
        row.status = "unregistered"
        row.token_from_them_hash = None


async def list_parties(db: Database) -> list[Party]:
    async with db.read() as session:
        return list(await session.scalars(select(Party).order_by(Party.created_at)))


async def find_party(db: Database, key: str) -> Party:
    """By our id, or by `CC-PID` / `PID`."""
    async with db.read() as session:
        for party in await session.scalars(select(Party)):
            if key in (party.id, f"{party.country_code}-{party.party_id}", party.party_id, party.name):
                return party
    raise NotFound(f"No such party: {key}")
