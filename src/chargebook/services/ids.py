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
