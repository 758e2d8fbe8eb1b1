"""Issuing OCPI tokens for drivers, fleet groups and ad-hoc guests.

OCPI 2.2.1 mod_tokens.asciidoc § Token Object: `uid` (max 36), `type`, `contract_id` (the
eMA id, max 36), `visual_number`, `issuer`, `group_id`, `valid`, `whitelist`, `last_updated`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.models import Token
from chargebook.domain.tokens import TokenKind, TokenType, WhitelistType
from chargebook.services.ids import ema_instance, new_id, token_uid


@dataclass(frozen=True, slots=True)
class Issuer:
    """Our identity on issued tokens (from settings)."""

    country_code: str = "DE"
    party_id: str = "CBK"
    name: str = "chargebook"


def _contract_id(issuer: Issuer) -> str:
    # eMA id shape: CC-PPP-C + 8 alphanumerics (eMI3), unique per token (tokens.contract_id).
    return f"{issuer.country_code}-{issuer.party_id}-{ema_instance()}"


def new_token(
    *,
    client_id: str,
    kind: TokenKind,
    now: datetime,
    issuer: Issuer,
    customer_id: str | None = None,
    fleet_group_id: str | None = None,
    token_type: TokenType = TokenType.RFID,
    whitelist: WhitelistType = WhitelistType.ALLOWED,
    visual_number: str | None = None,
    uid: str | None = None,
    scope: dict[str, Any] | None = None,
) -> Token:
    uid = uid or token_uid()
    scope = scope or {}
    return Token(
        id=new_id("tok"),
        client_id=client_id,
        kind=kind.value,
        customer_id=customer_id,
        fleet_group_id=fleet_group_id,
        uid=uid,
        type=token_type.value,
        contract_id=_contract_id(issuer),
        visual_number=visual_number,
        issuer=issuer.name,
        # OCPI: tokens sharing a group_id may use each other's reservations.
        group_id=fleet_group_id,
        valid=True,
        whitelist=whitelist.value,
        language=None,
        last_updated=now,
        booking_id=scope.get("booking_id"),
        scope_location_id=scope.get("location_id"),
        scope_evse_uid=scope.get("evse_uid"),
        valid_from=scope.get("valid_from"),
        valid_until=scope.get("valid_until"),
    )


async def add_tokens(session: AsyncSession, tokens: list[Token]) -> None:
    session.add_all(tokens)
    await session.flush()
