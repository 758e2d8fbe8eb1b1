"""The token objects we send to CPOs (we are the Token Sender): a token of ours, and a
pipelet UID that has no token record and travels as an RFID token of ours.

OCPI 2.2.1 mod_tokens.asciidoc § Token Object. Used by authorization answers, the token list,
RESERVE_NOW / START_SESSION bodies and Bookings-module requests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargebook.db.models import Token
from chargebook.ocpi.v221.types import format_datetime


def token_object(token: Token, country_code: str, party_id: str) -> dict[str, Any]:
    """OCPI 2.2.1 mod_tokens.asciidoc § Token Object."""
    body: dict[str, Any] = {
        "country_code": country_code,
        "party_id": party_id,
        "uid": token.uid,
        "type": token.type,
        "contract_id": token.contract_id,
        "issuer": token.issuer,
        "valid": token.valid,
        "whitelist": token.whitelist,
        "last_updated": format_datetime(token.last_updated),
    }
    if token.visual_number:
        body["visual_number"] = token.visual_number
    if token.group_id:
        body["group_id"] = token.group_id
    return body


def pipelet_token(
    uid: str, country_code: str, party_id: str, issuer: str, now: datetime
) -> dict[str, Any]:
    return {
        "country_code": country_code,
        "party_id": party_id,
        "uid": uid,
        "type": "RFID",
        "contract_id": f"{country_code}-{party_id}-P{uid[:8]}",
        "issuer": issuer,
        "valid": True,
        "whitelist": "NEVER",
        "last_updated": format_datetime(now),
    }
