"""Opaque identifiers. Prefixes tell a human what an id is; nothing parses them."""

from __future__ import annotations

import secrets
import uuid


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def booking_id() -> str:
    """Booking ids are UUIDs, as EV Suite's are."""
    return str(uuid.uuid4())


def token_uid() -> str:
    """A platform-issued token UID: 14 hex characters, the shape of a 7-byte RFID UID."""
    return secrets.token_hex(7).upper()


#: Letters and digits for eMA instance ids (ISO 15118 / eMI3: alphanumeric, upper case).
_EMA_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def ema_instance() -> str:
    """The instance part of an eMA id: ``C`` + 8 random alphanumerics (36^8 ≈ 2.8 × 10^12).
    Random rather than taken from the token's UID: 4-byte NXP UIDs have 24–32 bits of entropy
    and collide after a few thousand cards; a unique key catches the rare random clash."""
    return "C" + "".join(secrets.choice(_EMA_ALPHABET) for _ in range(8))
