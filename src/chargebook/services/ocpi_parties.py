"""OCPI connections with CPOs: the credentials handshake both ways, rotation, unregister.

OCPI 2.2.1 credentials.asciidoc. Tokens: A (bootstrap, one-off), B (the registering party's, for
the other to use), C (the answering party's). We keep the token a CPO must present to us only
as a SHA-256 hash; the token we present to it must be kept in clear to be sent. Identity is
bound to the token (ocpi_identity); token B of our own registration lives in a pending
registration until the handshake ends (ocpi_registrations).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, bindparam, or_, select

from chargebook.db.engine import Database
from chargebook.db.models import OcpiInvite, OcpiRegistration, Party
from chargebook.domain.errors import (
    AlreadyRegistered,
    Forbidden,
    IdentityMismatch,
    InvalidRequest,
    NotFound,
    Unauthenticated,
)
from chargebook.ocpi import transport as t
from chargebook.ocpi.client import OcpiClient, PeerError
from chargebook.services import ocpi_registrations as pending
from chargebook.services.clock import utcnow
from chargebook.services.ids import new_id
from chargebook.services.ocpi_identity import (
    apply_party,
    cpo_role,
    ensure_free,
    hash_token,
    identity_of,
    label,
    party_by_identity,
)
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
#: Bookings 1.1 names its module ``Booking`` (mod_bookings.asciidoc header); we publish the
#: spec's name and our Receiver interface (the CPO pushes BookingLocations and Bookings to us).
BOOKINGS_MODULE = "Booking"


def modules_for(version: str) -> dict[str, str]:
    """Our endpoints (module id -> our role) in one OCPI version."""
    if version == "2.3.0":
        return {**OUR_MODULES, BOOKINGS_MODULE: "RECEIVER"}
    return dict(OUR_MODULES)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split(".") if x.isdigit())


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


async def issue_invite(db: Database, name: str, identity: tuple[str, str] | None = None) -> str:
    """A token A for a CPO that will register with us: it registers one party, once. With
    ``identity`` (country code, party id) only that party; without, the first registration
    records which."""
    if identity is not None:
        identity = identity_of({"country_code": identity[0], "party_id": identity[1]})
    token = t.new_token()
    async with db.write() as session:
        session.add(OcpiInvite(
            id=new_id("inv"), name=name, token_hash=hash_token(token), created_at=utcnow(),
            country_code=identity and identity[0], party_id=identity and identity[1]))
    return token


@dataclass(frozen=True, slots=True)
class Caller:
    """Whoever presented a token to our OCPI endpoints: a registered party, an invite (token A),
    or the CPO of our own registration in flight (token B; ``party`` once it is bound)."""

    party: Party | None = None
    invite: OcpiInvite | None = None
    registration: OcpiRegistration | None = None


_PARTIES = Party.__table__
# Every OCPI request pays for this lookup: one statement built once, run with no transaction.
# A token has at most two readings (transport.token_candidates): two fixed slots, the second
# repeating the first when there is one reading (an "expanding" IN re-renders its SQL on
# every execution).
_SLOTS: tuple[BindParameter[str], BindParameter[str]] = (bindparam("h1"), bindparam("h2"))
_PARTY_BY_TOKEN = select(_PARTIES).where(or_(
    _PARTIES.c.token_from_them_hash.in_(_SLOTS), _PARTIES.c.pending_token_hash.in_(_SLOTS),
)).limit(1)


async def identify(db: Database, candidates: list[str]) -> Caller:
    if not candidates:
        raise Unauthenticated("Authorization: Token header required")
    hashes = [hash_token(c) for c in candidates]
    async with db.single_statements() as conn:
        row = (await conn.execute(_PARTY_BY_TOKEN, {"h1": hashes[0], "h2": hashes[-1]})).first()
    if row is not None and row.status == "registered":
        # A detached copy of the row: what the handlers read of their caller. A party still
        # registering is reached through its pending registration (token B), below.
        return Caller(party=Party(**row._mapping))
    async with db.read() as session:
        registration = await pending.live_registration(session, hashes, utcnow())
        if registration is not None:
            bound = await pending.bound_party(session, registration)
            return Caller(party=bound, registration=registration)
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
    offered = {v.get("version"): v["url"] for v in reply.data or []
               if isinstance(v, dict) and isinstance(v.get("url"), str)}
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


def _credentials_url(endpoints: dict[str, str]) -> str:
    url = endpoints.get("credentials:SENDER") or endpoints.get("credentials:RECEIVER")
    if url is None:
        raise InvalidRequest("the party offers no credentials endpoint")
    return url


def _claim_for(caller: Caller, role: dict[str, Any], *, update: bool) -> tuple[str, str]:
    """The identity the credentials claim, if the caller's token may claim it: a PUT keeps the
    caller's own; an invite issued for one party registers only that one."""
    claim = identity_of(role)
    if update:
        assert caller.party is not None
        own = (caller.party.country_code, caller.party.party_id)
        if claim != own:
            raise IdentityMismatch(
                f"credentials name {label(claim)}, but this token is {label(own)}'s")
    elif caller.invite is not None and caller.invite.country_code and caller.invite.party_id:
        invited = (caller.invite.country_code, caller.invite.party_id)
        if claim != invited:
            raise IdentityMismatch(
                f"credentials name {label(claim)}, but this token A is for {label(invited)}")
    return claim


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

    Identity is bound to the token, checked before we call the CPO and again in the write:
    a token A registers one party once (the invite's, or the first it names), a PUT keeps the
    caller's identity, and an identity another connection holds is refused.
    """
    if update and (caller.party is None or caller.registration is not None):
        raise Forbidden("PUT credentials needs a registered party's token")
    if not update and caller.invite is None:
        raise AlreadyRegistered("already registered: use PUT to update credentials")
    their_token = credentials.get("token")
    versions_url = credentials.get("url")
    if not isinstance(their_token, str) or not isinstance(versions_url, str):
        raise InvalidRequest("credentials need token and url")
    role = cpo_role(credentials)
    claim = _claim_for(caller, role, update=update)
    if not update:
        async with db.read() as session:
            ensure_free(await party_by_identity(session, claim), claim)
    try:
        async with OcpiClient(token=their_token) as client:
            version, endpoints = await _discover(client, versions_url, version)
    except PeerError as exc:
        raise InvalidRequest(f"could not read the party's versions: {exc}") from exc
    ours = t.new_token()
    async with db.write() as session:
        invite = None
        if update:
            assert caller.party is not None
            party = await session.get(Party, caller.party.id, with_for_update=True)
            if party is None or party.status != "registered":
                raise Unauthenticated("Unknown or revoked token")
        else:
            assert caller.invite is not None
            invite = await session.get(OcpiInvite, caller.invite.id, with_for_update=True)
            if invite is None or invite.used_at is not None:
                raise Unauthenticated("Unknown or revoked token")  # token A is spent
            party = await party_by_identity(session, claim)
            ensure_free(party, claim)
        party = await apply_party(
            session, party, role, version=version, versions_url=versions_url, endpoints=endpoints,
            token_for_them=their_token, token_from_them=ours,
            fallback_name=invite.name if invite else claim[1],
        )
        if invite is not None:  # spent, and it records whom it registered
            invite.used_at, invite.party_pk = utcnow(), party.id
            invite.country_code, invite.party_id = claim
    return identity.credentials(ours)


async def _their_role(client: OcpiClient, credentials_url: str) -> dict[str, Any] | None:
    """The CPO's role from GET credentials with token A, when it offers it (many do not)."""
    try:
        return cpo_role((await client.get(credentials_url)).data)
    except (PeerError, InvalidRequest):
        return None


async def connect(
    db: Database, versions_url: str, token_a: str, identity: Identity, name: str | None
) -> Party:
    """We register with a CPO: discover its endpoints with token A, POST our credentials
    (token B for it to use), keep the token C it answers with.

    The CPO calls us with token B while our POST is still open (to read our versions) and may
    push its catalogue the moment it answers, so token B works from before the POST leaves: a
    pending registration holds it, bound to the party as soon as we know who it is (GET
    credentials with token A when the CPO allows it, else its answer). Any failure removes it.
    """
    token_b = t.new_token()
    async with OcpiClient(token=token_a) as client:
        version, endpoints = await _discover(client, versions_url)
        url = _credentials_url(endpoints)
        known = await _their_role(client, url)
        registration_id = await pending.open_registration(db, hash_token(token_b), versions_url)
        try:
            if known is not None:
                await pending.bind_registration(db, registration_id, known, name)
            reply = await client.request("POST", url, body=identity.credentials(token_b))
            return await pending.complete_registration(
                db, registration_id, reply.data, version=version, versions_url=versions_url,
                endpoints=endpoints, token_b=token_b, name=name)
        except BaseException:
            await pending.close_registration(db, registration_id)
            raise


async def update_credentials(db: Database, party: Party, identity: Identity) -> Party:
    """We rotate our token with a CPO and re-negotiate the version (credentials.asciidoc
    § PUT, "Update / switch version"): discover its versions again, PUT our new credentials
    to the credentials endpoint of the highest mutual version, keep the token it answers with.

    The CPO reads our versions with the new token while our PUT is open, so that token is
    valid (beside the old one) from before the PUT; if the update fails, the old one stays.
    The answer must name the party we already know: a CPO does not change identity by a PUT.
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
            reply = await client.request(
                "PUT", _credentials_url(endpoints), body=identity.credentials(new_token))
        theirs = reply.data if isinstance(reply.data, dict) else {}
        role = cpo_role(theirs)
        if identity_of(role) != (party.country_code, party.party_id):
            raise IdentityMismatch(f"the CPO answered as {label(identity_of(role))}, not as "
                                   f"{party.country_code}-{party.party_id}")
        if not isinstance(theirs.get("token"), str):
            raise InvalidRequest("the CPO's credentials answer carries no token")
        async with db.write() as session:
            row = await session.get(Party, party.id, with_for_update=True)
            if row is None:
                raise NotFound("party not found")
            return await apply_party(
                session, row, role, version=version, versions_url=party.versions_url,
                endpoints=endpoints, token_for_them=theirs["token"], token_from_them=new_token, fallback_name=party.name,
            )
    except BaseException:
        async with db.write() as session:
            row = await session.get(Party, party.id, with_for_update=True)
            if row is not None and row.pending_token_hash == hash_token(new_token):
                row.pending_token_hash = None
        raise


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
