"""Steps 2 and 3 of a create: the EVSE it is for, locked; a repeated ``external_id``."""

from __future__ import annotations

from typing import Any, NoReturn

from sqlalchemy import Select, bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.models import (
    Booking,
    BookingTransition,
    Evse,
    Location,
    Party,
    Token,
)
from chargebook.domain.errors import (
    AmbiguousEvse,
    DuplicateExternalId,
    NotFound,
)
from chargebook.domain.lifecycle import LIVE_STATES
from chargebook.services import webhook_events
from chargebook.services.booking_create.request import MAX_CHOICES, BookingRequest, LockedEvse
from chargebook.services.clients import ClientContext
from chargebook.services.contracts import contract_allows
from chargebook.services.wire import BookingView

# --- 2. which EVSE -----------------------------------------------------------------------------

_EVSE_COLUMNS = (
    Evse.pk, Evse.uid, Evse.status, Evse.reservable, Evse.data, Location.id, Location.city,
    Location.time_zone, Party.id, Party.country_code, Party.party_id, Party.max_reservation_minutes,
    Party.bookings_url, Party.status, Party.reserve_lead_minutes,
    webhook_events.CLIENT_HAS_ENDPOINTS,  # rides along: no round trip when there are none
)
# Statements on the hot path are built once per shape: composing SQL expressions per request
# costs more than executing them (measured with bench/bookings.py --profile).
_EVSE_STATEMENTS: dict[tuple[bool, bool, bool], Select[Any]] = {}


def _cpo_conditions(party: bool, country: bool, contract: bool) -> list[Any]:
    """Which CPO's ids: the one the request names (OCPI ids are CiStrings, compared upper
    case), within the client's contract."""
    out: list[Any] = []
    if party:
        out.append(func.upper(Party.party_id) == bindparam("cpo_party_id"))
    if country:
        out.append(func.upper(Party.country_code) == bindparam("cpo_country_code"))
    if contract:
        out.append(contract_allows(Party.id))
    return out


def _evse_statement(party: bool, country: bool, contract: bool) -> Select[Any]:
    key = (party, country, contract)
    stmt = _EVSE_STATEMENTS.get(key)
    if stmt is None:
        stmt = _EVSE_STATEMENTS[key] = (
            select(*_EVSE_COLUMNS)
            .join(Location, Evse.location_pk == Location.pk)
            .join(Party, Location.party_pk == Party.id)
            .where(Location.id == bindparam("location_id"), Evse.uid == bindparam("evse_uid"),
                   *_cpo_conditions(party, country, contract))
            .order_by(Evse.pk)
            .limit(MAX_CHOICES)
            .with_for_update(of=Evse)
        )
    return stmt


def _cpo_params(client: ClientContext, request: BookingRequest) -> dict[str, Any]:
    return {
        "client_id": client.id,
        "cpo_party_id": (request.cpo_party_id or "").strip().upper(),
        "cpo_country_code": (request.cpo_country_code or "").strip().upper(),
    }


async def resolve_evse(session: AsyncSession, client: ClientContext, request: BookingRequest) -> LockedEvse:
    """The requested EVSE, locked. Location ids and EVSE uids are unique only per CPO
    (OCPI 2.2.1 mod_locations.asciidoc § Location Object: ``id`` is unique within the CPO's
    platform), so an id two CPOs share needs ``cpo_party_id``; it is never resolved silently.
    A CPO outside the client's contract answers exactly like an unknown EVSE."""
    shape = (bool(request.cpo_party_id), bool(request.cpo_country_code), not client.all_cpos)
    rows = (await session.execute(_evse_statement(*shape), {
        "location_id": request.location_id, "evse_uid": request.evse_uid, **_cpo_params(client, request),
    })).all()
    if not rows:
        await _raise_not_found(session, client, request, shape)
    if len(rows) > 1:
        choices = [{"cpo_country_code": row[9], "cpo_party_id": row[10]} for row in rows]
        names = ", ".join(f"{c['cpo_country_code']}*{c['cpo_party_id']}" for c in choices)
        raise AmbiguousEvse(
            f"EVSE {request.evse_uid} at location {request.location_id} exists at more than one "
            f"CPO ({names}): send cpo_party_id (and cpo_country_code) as search returned them",
            choices)
    values = [*rows[0][:-1], bool(rows[0][-1])]  # the last column is has_webhooks
    return LockedEvse(*values)


async def _raise_not_found(
    session: AsyncSession, client: ClientContext, request: BookingRequest, shape: tuple[bool, bool, bool]
) -> NoReturn:
    location_known = await session.scalar(select(exists().where(
        Location.id == request.location_id, Location.party_pk == Party.id, *_cpo_conditions(*shape),
    )), _cpo_params(client, request))
    if not location_known:
        raise NotFound(f"Location not found: {request.location_id}")
    raise NotFound(f"EVSE not found: {request.evse_uid} at location {request.location_id}")


# --- 3. a repeated external_id ---------------------------------------------------------------

_LIVE_BY_EXTERNAL_ID = select(Booking).where(
    Booking.client_id == bindparam("client_id"),
    Booking.external_id == bindparam("external_id"),
    Booking.status.in_([s.value for s in LIVE_STATES]),
)


async def live_by_external_id(session: AsyncSession, client_id: str, external_id: str) -> Booking | None:
    return await session.scalar(_LIVE_BY_EXTERNAL_ID, {"client_id": client_id, "external_id": external_id})


async def find_replay(
    session: AsyncSession, client: ClientContext, request: BookingRequest, fingerprint: str,
    evse: LockedEvse,
) -> BookingView | None:
    """A live booking of this client with this ``external_id``: the same request (and EVSE) is
    a replay of it; another is a 409 naming it. An ended booking frees its external_id."""
    if request.external_id is None:
        return None
    live = await live_by_external_id(session, client.id, request.external_id)
    if live is None:
        return None
    return await replay_or_clash(session, live, request, fingerprint, evse.pk)


async def replay_or_clash(
    session: AsyncSession, live: Booking, request: BookingRequest, fingerprint: str, evse_pk: int | None
) -> BookingView:
    if live.request_hash != fingerprint or (evse_pk is not None and live.evse_pk != evse_pk):
        raise DuplicateExternalId(request.external_id or "", live.id)
    token = await session.get(Token, live.token_pk) if live.token_pk else None
    history = await session.scalars(
        select(BookingTransition).where(BookingTransition.booking_id == live.id).order_by(BookingTransition.pk))
    return BookingView(booking=live, token=token, history=list(history), replayed=True)
