"""What a create is asked (the request, after its token strategy), under which rules, and
the EVSE it holds locked while it decides (step 1 of services/booking_create)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from chargebook.domain.tokens import (
    StrategyFields,
    TokenStrategy,
    strategy_fields,
)
from chargebook.services.tokens import Issuer

#: How many CPOs an ambiguous id names at most in its 409.
MAX_CHOICES = 10


@dataclass(frozen=True, slots=True)
class BookingRequest:
    location_id: str
    evse_uid: str
    reservation_start: datetime
    reservation_end: datetime
    token_strategy: TokenStrategy = TokenStrategy.AD_HOC
    connector_id: str | None = None
    external_id: str | None = None
    customer_id: str | None = None
    token_id: str | None = None
    fleet_group_id: str | None = None
    token_uid: str | None = None
    cpo_party_id: str | None = None  # as search returns it: which CPO's location_id this is
    cpo_country_code: str | None = None

    def effective(self) -> BookingRequest:
        """The request as its strategy reads it: fields it does not use are dropped (EV Suite
        marks them "not required", not forbidden); a missing or malformed one raises."""
        kept = strategy_fields(self.token_strategy, StrategyFields(
            customer_id=self.customer_id, token_id=self.token_id,
            fleet_group_id=self.fleet_group_id, token_uid=self.token_uid))
        return replace(self, customer_id=kept.customer_id, token_id=kept.token_id,
                       fleet_group_id=kept.fleet_group_id, token_uid=kept.token_uid)

    def fingerprint(self) -> str:
        """Same request, same fingerprint: how a repeated external_id is told from a clash.
        Taken of the effective request, so fields the strategy ignores never make a clash."""
        body = {
            "location_id": self.location_id,
            "evse_uid": self.evse_uid,
            "connector_id": self.connector_id,
            "reservation_start": self.reservation_start.timestamp(),
            "reservation_end": self.reservation_end.timestamp(),
            "token_strategy": str(self.token_strategy),
            "customer_id": self.customer_id,
            "token_id": self.token_id,
            "fleet_group_id": self.fleet_group_id,
            "token_uid": self.token_uid.upper() if self.token_uid else None,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class BookingPolicy:
    """The platform's booking rules (from settings)."""

    min_lead: timedelta = timedelta(minutes=15)
    max_horizon: timedelta = timedelta(days=365)
    issuer: Issuer = Issuer()


@dataclass(frozen=True, slots=True)
class LockedEvse:
    """The EVSE row a create holds locked, with what the rules need of its location and CPO."""

    pk: int
    uid: str
    status: str
    reservable: bool
    data: dict[str, Any]
    location_id: str
    city: str | None
    time_zone: str | None
    party_pk: str
    country_code: str
    party_id: str
    max_reservation_minutes: int
    bookings_url: str | None
    party_status: str
    reserve_lead_minutes: int
    has_webhooks: bool

    @property
    def connectors(self) -> list[dict[str, Any]]:
        return list(self.data.get("connectors") or [])
