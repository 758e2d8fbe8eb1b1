"""ORM rows → response models."""

from __future__ import annotations

from decimal import Decimal

from chargebook.api.schemas import (
    BookingOut,
    CustomerOut,
    GroupOut,
    PriceBreakdown,
    SpendOut,
    TokenOut,
    TransitionOut,
)
from chargebook.db.models import Customer, FleetGroup, Token
from chargebook.domain.tokens import TokenKind, qr_payload
from chargebook.services.bookings import BookingView
from chargebook.services.fleet import GroupSpend


def token_out(token: Token) -> TokenOut:
    return TokenOut(
        id=token.id,
        uid=token.uid,
        type=token.type,
        contract_id=token.contract_id,
        visual_number=token.visual_number,
        issuer=token.issuer,
        group_id=token.group_id,
        valid=token.valid,
        whitelist=token.whitelist,
        last_updated=token.last_updated,
        customer_id=token.customer_id,
        fleet_group_id=token.fleet_group_id,
        valid_from=token.valid_from,
        valid_until=token.valid_until,
        qr_payload=(
            qr_payload(token.uid, token.booking_id or "", token.scope_evse_uid or "")
            if token.kind == TokenKind.AD_HOC
            else None
        ),
    )


def booking_out(view: BookingView, *, with_history: bool = False) -> BookingOut:
    b = view.booking
    breakdown = b.price_breakdown
    return BookingOut(
        id=b.id,
        external_id=b.external_id,
        status=b.status,
        status_reason=b.status_reason,
        status_message=b.status_message,
        status_updated_at=b.status_updated_at,
        created_at=b.created_at,
        location_id=b.location_id,
        location_city=b.location_city,
        evse_uid=b.evse_uid,
        connector_id=b.connector_id,
        reservation_start=b.reservation_start,
        reservation_end=b.reservation_end,
        token_strategy=b.token_strategy,
        customer_id=b.customer_id,
        fleet_group_id=b.fleet_group_id,
        token_uid=b.token_uid,
        token=token_out(view.token) if view.token else None,
        cpo_reservation_id=b.cpo_reservation_id,
        client_price=b.client_price,
        client_price_currency=b.client_price_currency,
        price_breakdown=PriceBreakdown.model_validate(breakdown) if breakdown else None,
        status_history=(
            [
                TransitionOut(
                    from_status=t.from_status,
                    to_status=t.to_status,
                    event=t.event,
                    reason=t.reason,
                    actor=t.actor,
                    message=t.message,
                    at=t.at,
                )
                for t in view.history
            ]
            if with_history
            else None
        ),
    )


def customer_out(c: Customer) -> CustomerOut:
    return CustomerOut(id=c.id, name=c.name, email=c.email, external_ref=c.external_ref, created_at=c.created_at)


def group_out(g: FleetGroup, spend: GroupSpend | None = None, token_count: int | None = None) -> GroupOut:
    spend_out = None
    if spend is not None:
        remaining = None
        if g.monthly_limit is not None:
            remaining = max(Decimal("0"), g.monthly_limit - spend.total)
        spend_out = SpendOut(
            period_start=spend.month_start,
            completed=spend.completed,
            held=spend.held,
            total=spend.total,
            monthly_limit_remaining=remaining,
        )
    return GroupOut(
        id=g.id,
        name=g.name,
        monthly_limit=g.monthly_limit,
        session_limit=g.session_limit,
        created_at=g.created_at,
        token_count=token_count,
        spend=spend_out,
    )
