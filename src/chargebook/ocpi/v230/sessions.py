"""OCPI 2.3.0 Sessions module (mod_sessions.asciidoc): what changed from 2.2.1.

The module text is unchanged; the Session changes only through its types: ``total_cost``
is the 2.3.0 Price and ``charging_periods`` carry the 2.3.0 dimension types. PATCH still
appends ``charging_periods``; PUT replaces them.
"""

from __future__ import annotations

from chargebook.ocpi.v221.sessions import (
    ChargingPreferences,
    ChargingPreferencesResponse,
    ProfileType,
    SessionBase,
    SessionPatchBase,
    SessionStatus,
)
from chargebook.ocpi.v230.cdrs import ChargingPeriod
from chargebook.ocpi.v230.types import Price


class Session(SessionBase):
    """OCPI 2.3.0 mod_sessions.asciidoc § Session Object (absent total_cost is not free)."""

    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None


class SessionPatch(SessionPatchBase):
    """PATCH body for a Session: OCPI 2.3.0 mod_sessions.asciidoc § PATCH Method.

    Every field is optional except ``last_updated``; ``model_fields_set`` tells a field
    sent as null from one not sent. ``charging_periods`` here are to be appended.
    """

    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None


__all__ = [
    "ChargingPreferences",
    "ChargingPreferencesResponse",
    "ProfileType",
    "Session",
    "SessionPatch",
    "SessionStatus",
]
