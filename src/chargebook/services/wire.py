"""How a booking is written for clients: one renderer for API responses and webhook payloads.

A webhook event carries exactly what ``GET /bookings/{id}`` returns at that moment, so the
event and the API share these functions. They live in ``services/`` because the event is
written inside the use case's transaction; ``api/views.py`` and ``api/wire.py`` re-export
them. Timestamps are UTC with a ``Z``; money is a JSON number in major units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chargebook.db.models import Booking, BookingTransition, Token
from chargebook.domain.tokens import TokenKind, qr_payload


def iso_z(value: datetime) -> str:
    value = value.astimezone(UTC)
    spec = "milliseconds" if value.microsecond else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def money_number(value: Decimal) -> float:
    # Cents-rounded Decimals convert to the float whose shortest repr is the same digits.
    return float(value)


def money_or_none(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def time_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso_z(value)


@dataclass(slots=True)
class BookingView:
    """A booking with what the wire shows beside it."""

    booking: Booking
    token: Token | None = None
    history: list[BookingTransition] = field(default_factory=list)
    replayed: bool = False


def token_json(token: Token) -> dict[str, Any]:
    """OCPI-shaped token as the wire shows it (schema: ``TokenOut``)."""
    return {
        "id": token.id,
        "uid": token.uid,
        "type": token.type,
        "contract_id": token.contract_id,
        "visual_number": token.visual_number,
        "issuer": token.issuer,
        "group_id": token.group_id,
        "valid": token.valid,
        "whitelist": token.whitelist,
        "last_updated": iso_z(token.last_updated),
        "customer_id": token.customer_id,
        "fleet_group_id": token.fleet_group_id,
        "valid_from": time_or_none(token.valid_from),
        "valid_until": time_or_none(token.valid_until),
        "qr_payload": (
            qr_payload(token.uid, token.booking_id or "", token.scope_evse_uid or "")
            if token.kind == TokenKind.AD_HOC
            else None
        ),
    }


def _breakdown_json(breakdown: dict[str, Any] | None) -> dict[str, Any] | None:
    if not breakdown:
        return None
    money = ("cpo_cost", "reservation_fee", "commission", "vat", "reservation_cost",
             "estimated_charging_cost")
    return {k: (float(Decimal(v)) if k in money and v is not None else v) for k, v in breakdown.items()}


def booking_json(view: BookingView, *, with_history: bool = False) -> dict[str, Any]:
    """The booking as the wire shows it (schema: ``BookingOut``)."""
    b = view.booking
    return {
        "id": b.id,
        "external_id": b.external_id,
        "status": b.status,
        "status_reason": b.status_reason,
        "status_message": b.status_message,
        "status_updated_at": iso_z(b.status_updated_at),
        "created_at": iso_z(b.created_at),
        "location_id": b.location_id,
        "location_city": b.location_city,
        "evse_uid": b.evse_uid,
        "connector_id": b.connector_id,
        "reservation_start": iso_z(b.reservation_start),
        "reservation_end": iso_z(b.reservation_end),
        "token_strategy": b.token_strategy,
        "customer_id": b.customer_id,
        "fleet_group_id": b.fleet_group_id,
        "token_uid": b.token_uid,
        "token": token_json(view.token) if view.token else None,
        "cpo_reservation_id": b.cpo_reservation_id,
        "cpo_request_at": time_or_none(b.cpo_request_at),
        "client_price": money_or_none(b.client_price),
        "client_price_currency": b.client_price_currency,
        "price_breakdown": _breakdown_json(b.price_breakdown),
        "status_history": (
            [
                {
                    "from_status": t.from_status,
                    "to_status": t.to_status,
                    "event": t.event,
                    "reason": t.reason,
                    "actor": t.actor,
                    "message": t.message,
                    "at": iso_z(t.at),
                }
                for t in view.history
            ]
            if with_history
            else None
        ),
    }
