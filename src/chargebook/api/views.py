"""ORM rows → wire bodies (plain dicts on hot paths, response models elsewhere)."""

from __future__ import annotations

from decimal import Decimal

from chargebook.api.schemas import CustomerOut, GroupOut, SpendOut, TokenOut
from chargebook.db.models import Customer, FleetGroup, Token
from chargebook.services.fleet import GroupSpend

# The booking renderer is shared with webhook payloads, so it lives in services/wire.py.
from chargebook.services.wire import booking_json, token_json

__all__ = ["booking_json", "customer_out", "group_out", "token_json", "token_out"]


def token_out(token: Token) -> TokenOut:
    return TokenOut.model_validate(token_json(token))


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
            charged=spend.charged,
            completed=spend.charged,
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
