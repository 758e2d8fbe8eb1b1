"""Token strategies: which fields each strategy needs, and when a token may be used.

| strategy     | token record   | required                      |
|--------------|----------------|-------------------------------|
| driver_token | yes            | customer_id or token_id       |
| group_token  | yes            | fleet_group_id                |
| ad_hoc       | yes, temporary | nothing                       |
| pipelet      | none           | token_uid (8, 14 or 20 hex)   |

A field that the chosen strategy does not use is ignored, never an error: EV Suite marks the
other strategies' fields "not required", not forbidden, and integrations that always send
``customer_id`` must be able to book ``ad_hoc``. Only contradictions are errors (a
``token_id`` that is not the ``customer_id``'s, checked where the token is looked up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chargebook.domain.errors import InvalidRequest


class TokenStrategy(StrEnum):
    DRIVER_TOKEN = "driver_token"
    GROUP_TOKEN = "group_token"
    AD_HOC = "ad_hoc"
    PIPELET = "pipelet"


class TokenType(StrEnum):
    """OCPI 2.2.1 mod_tokens.asciidoc § TokenType enum."""

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class WhitelistType(StrEnum):
    """OCPI 2.2.1 mod_tokens.asciidoc § WhitelistType enum."""

    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class TokenKind(StrEnum):
    """What a stored token is for, on our side."""

    DRIVER = "driver"
    GROUP = "group"
    AD_HOC = "ad_hoc"


_PIPELET_UID = re.compile(r"^(?:[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$")

#: The fields each strategy reads (driver_token needs one of its two, or both when they agree).
_REQUIRED = {
    TokenStrategy.DRIVER_TOKEN: ("customer_id", "token_id"),
    TokenStrategy.GROUP_TOKEN: ("fleet_group_id",),
    TokenStrategy.PIPELET: ("token_uid",),
    TokenStrategy.AD_HOC: (),
}


@dataclass(frozen=True, slots=True)
class StrategyFields:
    customer_id: str | None = None
    token_id: str | None = None
    fleet_group_id: str | None = None
    token_uid: str | None = None

    def given(self) -> set[str]:
        return {name for name in ("customer_id", "token_id", "fleet_group_id", "token_uid")
                if getattr(self, name) is not None}


def normalize_pipelet_uid(uid: str) -> str:
    """RFID UIDs are hex; compare them upper-case so `04a2…` and `04A2…` are one token."""
    normalized = uid.strip().upper()
    if not _PIPELET_UID.match(normalized):
        raise InvalidRequest(
            "token_uid must be an RFID UID of 8, 14 or 20 hexadecimal characters (4, 7 or 10 bytes)"
        )
    return normalized


def strategy_fields(strategy: TokenStrategy, fields: StrategyFields) -> StrategyFields:
    """The fields ``strategy`` reads, the others dropped; raises when one it needs is missing
    or malformed. Pipelet UIDs come back normalized (upper case)."""
    used = set(_REQUIRED[strategy])
    kept = StrategyFields(**{name: getattr(fields, name) if name in used else None
                             for name in ("customer_id", "token_id", "fleet_group_id", "token_uid")})
    if strategy is TokenStrategy.DRIVER_TOKEN and not kept.given():
        raise InvalidRequest("driver_token needs customer_id or token_id")
    if strategy is TokenStrategy.GROUP_TOKEN and kept.fleet_group_id is None:
        raise InvalidRequest("group_token needs fleet_group_id")
    if strategy is TokenStrategy.PIPELET:
        if kept.token_uid is None:
            raise InvalidRequest("pipelet needs token_uid")
        kept = StrategyFields(token_uid=normalize_pipelet_uid(kept.token_uid))
    return kept


@dataclass(frozen=True, slots=True)
class AdHocScope:
    """Where and when a temporary token may be used: its booking's EVSE and window."""

    location_id: str
    evse_uid: str
    valid_from: datetime
    valid_until: datetime

    def allows(self, location_id: str, evse_uid: str | None, at: datetime) -> bool:
        # OCPI ids are CiStrings (types.asciidoc § CiString): a CPO may re-case them.
        if location_id.casefold() != self.location_id.casefold():
            return False
        if evse_uid is not None and evse_uid.casefold() != self.evse_uid.casefold():
            return False
        return self.valid_from <= at < self.valid_until


def qr_payload(token_uid: str, booking_id: str, evse_uid: str) -> str:
    """What a guest scans at the charger: a compact URI naming token, booking and EVSE."""
    return f"chargebook:token?uid={token_uid}&booking={booking_id}&evse={evse_uid}"
