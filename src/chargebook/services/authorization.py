"""Real-time token authorization and the token list we send to CPOs (we are the Token Sender).

OCPI 2.2.1 mod_tokens.asciidoc § Sender Interface. Rules:

* driver and group tokens: ALLOWED while valid, BLOCKED otherwise;
* ad-hoc tokens: ALLOWED only at their booking's EVSE inside its window (NOT_ALLOWED elsewhere,
  EXPIRED once their booking ended);
* pipelet UIDs have no token record: the booking is the authorization, so a UID is ALLOWED only
  when a live booking carries it at that location now;
* anything else is unknown (HTTP 404, OCPI 2004).

An ALLOWED answer for a confirmed booking's EVSE moves that booking to ATTENDING.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from chargebook.db.engine import Database
from chargebook.db.models import Booking, Evse, Location, Party, Token
from chargebook.domain.errors import NotFound
from chargebook.domain.lifecycle import LIVE_STATES, BookingStatus
from chargebook.domain.tokens import AdHocScope, TokenKind
from chargebook.services.booking_state import mark_attending
from chargebook.services.clock import utcnow
from chargebook.services.token_objects import pipelet_token, token_object

# OCPI 2.2.1 RESERVE_NOW holds the charger from the moment the CPO accepts it (we send it
# reserve_lead_minutes ahead), so a driver who arrives up to an hour early is let in.
GRACE = timedelta(minutes=60)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: str
    token: dict[str, Any]
    evse_uids: list[str]
    booking_id: str | None


async def authorize(
    db: Database, party: Party, uid: str, token_type: str, location_id: str | None, evse_uids: list[str],
    *, country_code: str, party_id: str, issuer: str,
) -> Decision:
    now = utcnow()
    async with db.write() as session:
        token = await session.scalar(select(Token).where(Token.uid == uid))
        # Our UIDs are unique across types, so the `type` parameter need not disambiguate.
        if token is not None:
            allowed = "ALLOWED" if token.valid else "BLOCKED"
            if token.kind == TokenKind.AD_HOC:
                scope = AdHocScope(token.scope_location_id or "", token.scope_evse_uid or "",
                                   (token.valid_from or now) - GRACE, token.valid_until or now)
                if not token.valid or now >= scope.valid_until:
                    allowed = "EXPIRED"
                elif location_id is None or not all(
                    scope.allows(location_id, evse, now) for evse in (evse_uids or [None])
                ):
                    allowed = "NOT_ALLOWED"
            booking = await _live_booking(session, party, uid, location_id, evse_uids, now) if location_id else None
            if allowed == "ALLOWED" and booking is not None:
                await mark_attending(session, booking, now, f"token {uid} authorized")
            return Decision(allowed, token_object(token, country_code, party_id),
                            [booking.evse_uid] if booking else evse_uids, booking.id if booking else None)
        # A pipelet UID: only a live booking makes it known.
        booking = await _live_booking(session, party, uid.upper(), location_id, evse_uids, now) if location_id else None
        if booking is None or booking.token_strategy != "pipelet":
            raise NotFound(f"Unknown token {uid}")
        await mark_attending(session, booking, now, f"pipelet {uid} authorized")
        return Decision("ALLOWED", pipelet_token(uid.upper(), country_code, party_id, issuer, now),
                        [booking.evse_uid], booking.id)


async def _live_booking(session: Any, party: Party, uid: str, location_id: str | None, evse_uids: list[str],
                        now: datetime) -> Booking | None:
    query = (
        select(Booking)
        .join(Evse, Booking.evse_pk == Evse.pk)
        .join(Location, Evse.location_pk == Location.pk)
        .where(
            Location.party_pk == party.id,
            Booking.token_uid == uid,
            Booking.location_id == location_id,
            Booking.status.in_([s.value for s in LIVE_STATES if s != BookingStatus.REQUESTED]),
            Booking.reservation_start <= now + GRACE,
            Booking.reservation_end > now,
        )
    )
    if evse_uids:
        query = query.where(Booking.evse_uid.in_(evse_uids))
    return await session.scalar(query.order_by(Booking.reservation_start).limit(1).with_for_update(of=Booking))


async def list_tokens(
    db: Database, *, date_from: datetime | None, date_to: datetime | None, offset: int, limit: int,
) -> tuple[list[Token], int]:
    """Our tokens, oldest change first (a stable order for pagination)."""
    where = []
    if date_from is not None:
        where.append(Token.last_updated >= date_from)
    if date_to is not None:
        where.append(Token.last_updated < date_to)
    async with db.read() as session:
        total = await session.scalar(select(func.count()).select_from(Token).where(*where))
        rows = await session.scalars(
            select(Token).where(*where).order_by(Token.last_updated, Token.id).offset(offset).limit(limit)
        )
        return list(rows), int(total or 0)
