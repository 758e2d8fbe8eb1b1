"""Request and response models of the client API. Requests refuse unknown fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from chargebook.api.wire import WireMoney, WireTime
from chargebook.domain.lifecycle import BookingStatus
from chargebook.domain.tokens import TokenStrategy, TokenType, WhitelistType

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
OcpiId = Annotated[str, StringConstraints(min_length=1, max_length=36, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(max_length=500)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BookingCreate(Request):
    location_id: OcpiId
    evse_uid: OcpiId
    connector_id: OcpiId | None = None
    reservation_start: AwareDatetime = Field(description="ISO 8601 with offset, e.g. 2026-02-10T14:00:00Z")
    reservation_end: AwareDatetime
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="Your own reference; unique per client, makes retries safe."
    )
    token_strategy: TokenStrategy = Field(
        default=TokenStrategy.AD_HOC, description="Left out means ad_hoc."
    )
    customer_id: Id | None = None
    token_id: Id | None = None
    fleet_group_id: Id | None = None
    token_uid: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = Field(
        default=None, description="pipelet: RFID UID of 8, 14 or 20 hex characters"
    )


class CancelRequest(Request):
    reason: Text | None = None


class CustomerCreate(Request):
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    external_ref: Annotated[str, StringConstraints(max_length=100)] | None = None


class TokenCreate(Request):
    type: Literal[TokenType.RFID, TokenType.APP_USER, TokenType.OTHER] = TokenType.RFID
    visual_number: Annotated[str, StringConstraints(max_length=64)] | None = None
    uid: Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")] | None = (
        Field(default=None, description="An existing card's UID; generated when left out.")
    )


Limit = Annotated[Decimal, Field(ge=0, le=Decimal("1000000"), decimal_places=2, max_digits=9)]


class GroupCreate(Request):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    monthly_limit: Limit | None = Field(default=None, description="EUR per calendar month (UTC)")
    session_limit: Limit | None = Field(default=None, description="EUR per booking (estimated price)")


class BulkTokens(Request):
    count: Annotated[int, Field(ge=1, le=1000)]


# --- responses -----------------------------------------------------------------------------


class TokenOut(BaseModel):
    """OCPI-shaped token (OCPI 2.2.1 mod_tokens.asciidoc § Token Object) plus our scope."""

    id: str
    uid: str
    type: TokenType
    contract_id: str
    visual_number: str | None
    issuer: str
    group_id: str | None
    valid: bool
    whitelist: WhitelistType
    last_updated: WireTime
    customer_id: str | None = None
    fleet_group_id: str | None = None
    valid_from: WireTime | None = None
    valid_until: WireTime | None = None
    qr_payload: str | None = None


class PriceBreakdown(BaseModel):
    """client_price = cpo_cost + reservation_fee + commission. At booking, cpo_cost is the CPO's
    reservation cost for the window; at completion, the CDR's cost."""

    cpo_cost: WireMoney
    reservation_fee: WireMoney
    commission: WireMoney
    currency: str
    vat: WireMoney | None
    estimated: bool
    tariff_id: str | None = None
    estimated_charging_cost: WireMoney | None = Field(
        default=None, description="What charging through the whole window would cost (not in the price)."
    )
    cdr_id: str | None = None


class TransitionOut(BaseModel):
    from_status: BookingStatus | None
    to_status: BookingStatus
    event: str
    reason: str | None
    actor: str
    message: str | None
    at: WireTime


class BookingOut(BaseModel):
    id: str
    external_id: str | None
    status: BookingStatus
    status_reason: str | None
    status_message: str | None
    status_updated_at: WireTime
    created_at: WireTime
    location_id: str
    location_city: str | None
    evse_uid: str
    connector_id: str | None
    reservation_start: WireTime
    reservation_end: WireTime
    token_strategy: TokenStrategy
    customer_id: str | None
    fleet_group_id: str | None
    token_uid: str
    token: TokenOut | None
    cpo_reservation_id: str | None
    client_price: WireMoney | None
    client_price_currency: str
    price_breakdown: PriceBreakdown | None
    status_history: list[TransitionOut] | None = None


class BookingList(BaseModel):
    bookings: list[BookingOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class CustomerOut(BaseModel):
    id: str
    name: str | None
    email: str | None
    external_ref: str | None
    created_at: WireTime


class CustomerList(BaseModel):
    customers: list[CustomerOut]


class TokenList(BaseModel):
    tokens: list[TokenOut]


class SpendOut(BaseModel):
    period_start: WireTime
    completed: WireMoney
    held: WireMoney
    total: WireMoney
    monthly_limit_remaining: WireMoney | None


class GroupOut(BaseModel):
    id: str
    name: str
    monthly_limit: WireMoney | None
    session_limit: WireMoney | None
    created_at: WireTime
    token_count: int | None = None
    spend: SpendOut | None = None


class GroupList(BaseModel):
    groups: list[GroupOut]


class ErrorOut(BaseModel):
    error: str = Field(examples=["reservation_start must be at least 15 minutes in the future"])


ERRORS = {
    400: {"model": ErrorOut, "description": "Invalid input (the message names the field)"},
    401: {"model": ErrorOut, "description": "Missing or invalid API key"},
    403: {"model": ErrorOut, "description": "Client suspended"},
    404: {"model": ErrorOut, "description": "Not found (or not yours)"},
}

