"""Request and response models of the client API.

Unknown fields: the requests EV Suite documents (``POST /bookings``, its cancel, bulk group
tokens) ignore them, as an integration written for EV Suite may send fields it knows; the
chargebook extensions (customers, tokens, groups, webhooks) refuse them, so a typo in a
request written from our own docs is caught (docs/decisions.md).

Every field carries a description and an example: they are the OpenAPI document at
``/openapi.json`` and ``/docs``. Search's response models live in ``search_schemas.py``.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from chargebook.api.openapi import Error, errors
from chargebook.api.wire import Iso8601, WireMoney, WireTime
from chargebook.domain.lifecycle import BookingEvent, BookingStatus, StatusReason
from chargebook.domain.tokens import TokenStrategy, TokenType, WhitelistType

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
OcpiId = Annotated[str, StringConstraints(min_length=1, max_length=36, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(max_length=500)]

BOOKING_ID = "5a06797c-78e8-4671-bf0c-ad57d15aa35f"
LOCATION_ID = "DE-SIM-E0000009"
EVSE_UID = "DE*SIM*E0000009*2"
CUSTOMER_ID = "cust_83dfca3cd3717ddb"
TOKEN_ID = "tok_56b4a7a5dac75af1"
GROUP_ID = "group_13e91c0f3f1d25bb"
WHEN = "2026-11-24T20:02:20.557Z"


def doc(description: str, example: Any, **kwargs: Any) -> Any:
    """A field's description and example, as the OpenAPI document shows them."""
    return Field(description=description, examples=[example], **kwargs)


def nested(description: str, **kwargs: Any) -> Any:
    """A field holding other models: their own fields carry the examples."""
    return Field(description=description, **kwargs)


STATUS_HELP = (
    "EV Suite's eight values, no others: REQUESTED (accepted, not yet sent to the CPO), PENDING "
    "(sent, awaiting the CPO), CONFIRMED (the CPO accepted), ATTENDING (the vehicle is at the "
    "charger), COMPLETED (session ended, priced from the CDR), CANCELLED, EXPIRED (the window "
    "began before the CPO confirmed), NO_SHOW (confirmed but never attended)."
)
STRATEGY_HELP = (
    "How the CPO will recognise the driver. `driver_token`: a customer's own token (needs "
    "`customer_id` or `token_id`); `group_token`: a fleet group's shared token (needs "
    "`fleet_group_id`); `ad_hoc`: a one-off token made for this booking (needs nothing); "
    "`pipelet`: your own RFID UID, forwarded as is (needs `token_uid`). Left out means `ad_hoc`."
)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EvSuiteRequest(BaseModel):
    """A request EV Suite documents: unknown fields are ignored, never an error."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class BookingCreate(EvSuiteRequest):
    location_id: OcpiId = doc("The location, as search returned it.", LOCATION_ID)
    evse_uid: OcpiId = doc("The EVSE to book at that location, as search returned it.", EVSE_UID)
    connector_id: OcpiId | None = doc("A connector of the EVSE (404 if it has none such).", "1", default=None)
    reservation_start: Annotated[AwareDatetime, Iso8601] = doc(
        "Start of the window, ISO 8601 with an offset; at least 15 minutes ahead.", "2026-11-24T20:22:00Z")
    reservation_end: Annotated[AwareDatetime, Iso8601] = doc(
        "End of the window (exclusive), ISO 8601 with an offset; at most the CPO's maximum "
        "duration (typically 4 hours) after the start.", "2026-11-24T21:22:00Z")
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = doc(
        "Your own reference; it may repeat over time. A create with the external_id of one of your "
        "live bookings and the same request is a replay (202, that booking, header "
        "`Idempotent-Replayed: true`); with another request it is 409. Once that booking has "
        "ended, the same external_id makes a new booking.",
        "sales-emp007-20261125", default=None)
    token_strategy: TokenStrategy = doc(STRATEGY_HELP, TokenStrategy.AD_HOC, default=TokenStrategy.AD_HOC)
    customer_id: Id | None = doc("driver_token: the customer whose token is used.", CUSTOMER_ID, default=None)
    token_id: Id | None = doc("driver_token: one particular token of a customer.", TOKEN_ID, default=None)
    fleet_group_id: Id | None = doc("group_token: the fleet group whose token is used.", GROUP_ID, default=None)
    token_uid: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = doc(
        "pipelet: your RFID UID in hex, 4, 7 or 10 bytes (8, 14 or 20 hex characters); "
        "normalised to upper case.", "04A2B3C4D5E6F7", default=None)
    cpo_party_id: Annotated[str, StringConstraints(min_length=1, max_length=3)] | None = doc(
        "The CPO whose location_id this is, as search returned it. Needed when two CPOs use the "
        "same location_id and evse_uid (409 AMBIGUOUS_CPO otherwise).", "SIM", default=None)
    cpo_country_code: Annotated[str, StringConstraints(min_length=2, max_length=2)] | None = doc(
        "The CPO's country code, as search returned it; with cpo_party_id.", "DE", default=None)


class CancelRequest(EvSuiteRequest):
    reason: Text | None = doc("Why, in your words; kept in the booking's history.", "Driver changed plans",
                              default=None)


class CustomerCreate(Request):
    name: Annotated[str, StringConstraints(max_length=200)] | None = doc(
        "The driver's name.", "Erika Mustermann", default=None)
    email: Annotated[str, StringConstraints(max_length=254)] | None = doc(
        "The driver's e-mail address (not checked, not used to send mail).", "erika@example.com", default=None)
    external_ref: Annotated[str, StringConstraints(max_length=100)] | None = doc(
        "Your own reference for the driver.", "emp042", default=None)


class TokenCreate(Request):
    type: Literal[TokenType.RFID, TokenType.APP_USER, TokenType.OTHER] = doc(
        "OCPI TokenType of the new token.", TokenType.RFID, default=TokenType.RFID)
    visual_number: Annotated[str, StringConstraints(max_length=64)] | None = doc(
        "What is printed on the card.", "DE-CBK-0042", default=None)
    uid: Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9-]+$")] | None = doc(
        "An existing card's UID; 14 hex characters are generated when left out. A UID in use is 409.",
        "458025BB0DAD57", default=None)


Limit = Annotated[Decimal, Field(ge=0, le=Decimal(1000000), decimal_places=2, max_digits=9)]


class GroupCreate(Request):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = doc(
        "The group's name.", "Delivery team")
    monthly_limit: Limit | None = doc(
        "EUR per calendar month (UTC), completed plus held bookings; left out means no limit. "
        "A number or a string with at most 2 decimals.", "500.00", default=None)
    session_limit: Limit | None = doc(
        "EUR per booking (its estimated price); left out means no limit.", 30, default=None)


class BulkTokens(EvSuiteRequest):
    count: Annotated[int, Field(ge=1, le=1000)] = doc("How many RFID tokens to issue (1..1000).", 25)


# --- responses -----------------------------------------------------------------------------


class Actor(StrEnum):
    """Who caused a transition."""

    CLIENT = "client"
    CPO = "cpo"
    WORKER = "worker"
    OPERATOR = "operator"


#: A transition's event: the booking's creation, or one of the lifecycle's events.
TransitionEvent = StrEnum(  # type: ignore[misc]  # members built from the lifecycle's
    "TransitionEvent", {"CREATED": "CREATED", **{e.name: e.value for e in BookingEvent}}
)


class TokenOut(BaseModel):
    """OCPI-shaped token (OCPI 2.2.1 mod_tokens.asciidoc § Token Object) plus our scope."""

    id: str = doc("chargebook's id of the token.", TOKEN_ID)
    uid: str = doc("The UID the CPO sees (OCPI Token.uid).", "458025BB0DAD57")
    type: TokenType = doc("OCPI TokenType.", TokenType.RFID)
    contract_id: str = doc("The eMA id (OCPI Token.contract_id), derived from the UID.", "DE-CBK-C458025BB")
    visual_number: str | None = doc("What is printed on the card.", "DE-CBK-0042")
    issuer: str = doc("Who issued the token (OCPI Token.issuer).", "chargebook")
    group_id: str | None = doc("OCPI Token.group_id: the fleet group's id for group tokens.", None)
    valid: bool = doc("Whether the token may be used now.", True)
    whitelist: WhitelistType = doc("OCPI WhitelistType: how the CPO may authorise it offline.",
                                   WhitelistType.ALLOWED)
    last_updated: WireTime = doc("When the token last changed (UTC).", WHEN)
    customer_id: str | None = doc("The customer who owns it (driver tokens).", CUSTOMER_ID, default=None)
    fleet_group_id: str | None = doc("The fleet group that owns it (group tokens).", None, default=None)
    valid_from: WireTime | None = doc("ad_hoc: valid from the booking's start.", "2026-11-24T20:22:00Z",
                                      default=None)
    valid_until: WireTime | None = doc("ad_hoc: valid until the booking's end.", "2026-11-24T21:22:00Z",
                                       default=None)
    qr_payload: str | None = doc(
        "ad_hoc: what a guest scans at the charger.",
        f"chargebook:token?uid=E6C6F64DFA50F9&booking={BOOKING_ID}&evse={EVSE_UID}", default=None)


class PriceBreakdown(BaseModel):
    """client_price = cpo_cost + reservation_fee + commission. While a quote, cpo_cost is the
    estimate search showed (reservation + charging through the window, docs/api.md "The
    estimate"); once final, what the booking's end costs (the CDR's cost when completed)."""

    cpo_cost: WireMoney = doc("The CPO's cost (incl. VAT when the tariff or CDR states it).", 10.47)
    reservation_fee: WireMoney = doc("Your configured reservation fee.", 2.5)
    commission: WireMoney = doc("Your configured commission percentage of cpo_cost.", 1.05)
    currency: str = doc("ISO 4217 currency of every amount here.", "EUR")
    vat: WireMoney | None = doc("The VAT part of cpo_cost, when the CPO states it.", 1.67)
    estimated: bool = doc("true while the price is a quote; false once final.", False)
    tariff_id: str | None = doc("The CPO tariff the quote used; null: platform fees only.", "AC-STD",
                                default=None)
    reservation_cost: WireMoney | None = doc(
        "Quotes: the part of cpo_cost for holding the EVSE through the window.", 0.0, default=None)
    estimated_charging_cost: WireMoney | None = doc(
        "Quotes: the part of cpo_cost for charging through the whole window at the connector's "
        "power.", 9.6, default=None)
    cdr_id: str | None = doc("The CDR that set the final price.", "CDR000004", default=None)


class TransitionOut(BaseModel):
    """One step of a booking's lifecycle."""

    from_status: BookingStatus | None = doc("The status before; null for the creation.", BookingStatus.PENDING)
    to_status: BookingStatus = doc("The status after.", BookingStatus.CONFIRMED)
    event: TransitionEvent = doc("What happened.", "CPO_ACCEPTED")
    reason: StatusReason | None = doc("Why the booking ended, on the step that ended it.", None)
    actor: Actor = doc("Who caused it.", Actor.CPO)
    message: str | None = doc("Free text from the client or the CPO.", None)
    at: WireTime = doc("When (UTC).", "2026-11-24T20:02:21.632Z")


class BookingOut(BaseModel):
    """A booking of one EVSE for a time window."""

    id: str = doc("The booking's id (a UUID).", BOOKING_ID)
    external_id: str | None = doc("Your reference, as sent.", "sales-emp007-20261125")
    status: BookingStatus = doc(STATUS_HELP, BookingStatus.CONFIRMED)
    status_reason: StatusReason | None = doc(
        "Why the booking ended, beside the status: machine-readable, for final statuses.",
        StatusReason.CLIENT_CANCELLED)
    status_message: str | None = doc("The client's or CPO's free text about the last change.",
                                     "Driver changed plans")
    status_updated_at: WireTime = doc("When the status last changed (UTC).", WHEN)
    created_at: WireTime = doc("When the booking was created (UTC).", WHEN)
    location_id: str = doc("The booked location.", LOCATION_ID)
    location_city: str | None = doc("The location's city.", "Berlin")
    evse_uid: str = doc("The booked EVSE.", EVSE_UID)
    connector_id: str | None = doc("The connector, if one was asked for.", None)
    reservation_start: WireTime = doc("Start of the window (UTC).", "2026-11-24T20:22:00Z")
    reservation_end: WireTime = doc("End of the window, exclusive (UTC).", "2026-11-24T21:22:00Z")
    token_strategy: TokenStrategy = doc(STRATEGY_HELP, TokenStrategy.AD_HOC)
    customer_id: str | None = doc("driver_token: the customer.", None)
    fleet_group_id: str | None = doc("group_token: the fleet group.", None)
    token_uid: str = doc("The token UID the CPO sees, whatever the strategy.", "E6C6F64DFA50F9")
    token: TokenOut | None = nested("The token record; null for pipelet (and in statement lines).")
    cpo_reservation_id: str | None = doc("The reservation id the CPO knows; set once CONFIRMED.", BOOKING_ID)
    cpo_request_at: WireTime | None = doc(
        "When chargebook sends (or sent) the booking to the CPO (UTC): for an OCPI 2.2.1 CPO its "
        "RESERVE_NOW goes out this long before the window (an hour by default), and the booking "
        "stays REQUESTED until then; at once for a CPO with the OCPI 2.3.0 Bookings module. Null "
        "when the CPO is not connected over OCPI.", "2026-11-24T19:22:00Z", default=None)
    client_price: WireMoney | None = doc("What you pay: a quote while live, final once ended.", 14.02)
    client_price_currency: str = doc("ISO 4217 currency of client_price.", "EUR")
    price_breakdown: PriceBreakdown | None = nested("How client_price adds up.")
    status_history: list[TransitionOut] | None = nested(
        "Every transition, oldest first; on create, get and cancel (null in lists).", default=None)


class BookingList(BaseModel):
    bookings: list[BookingOut] = nested("Bookings, newest first (without status_history).")
    next_cursor: str | None = doc("Pass as `cursor` to get the next page; null on the last page.",
                                  "MjAyNi0xMS0yNFQyMDowMjoyMC41NTcrMDA6MDB8NWEwNjc5N2M")


class CommandOut(BaseModel):
    """An OCPI command sent to the CPO on a booking's behalf (OCPI 2.2.1 mod_commands)."""

    id: str = doc("The command's id (part of the response_url the CPO answers to).", "cmd_3f1e2d4c5b6a7980")
    type: Literal["RESERVE_NOW", "CANCEL_RESERVATION", "START_SESSION", "STOP_SESSION"] = doc(
        "OCPI CommandType.", "START_SESSION")
    state: Literal["due", "sending", "sent", "answered", "failed", "withdrawn"] = doc(
        "due: waiting to be sent; sending; sent: the CPO accepted it; answered: its result "
        "arrived; failed: refused, unreachable or timed out; withdrawn: the booking ended "
        "before it was needed.", "answered")
    response: str | None = doc("The CPO's synchronous CommandResponseType (e.g. ACCEPTED, REJECTED).",
                               "ACCEPTED")
    result: str | None = doc("The CPO's asynchronous CommandResultType (e.g. ACCEPTED, TIMEOUT).", "ACCEPTED")
    message: str | None = doc("The CPO's or our explanation.", None)
    created_at: WireTime = doc("When the command was created (UTC).", WHEN)


class CommandAccepted(BaseModel):
    command: CommandOut = nested("The command, queued to be sent to the CPO.")


class CommandList(BaseModel):
    commands: list[CommandOut] = nested("The booking's commands, oldest first.")


class CustomerOut(BaseModel):
    """A driver of yours."""

    id: str = doc("The customer's id.", CUSTOMER_ID)
    name: str | None = doc("The driver's name.", "Erika Mustermann")
    email: str | None = doc("The driver's e-mail address.", "erika@example.com")
    external_ref: str | None = doc("Your own reference.", "emp042")
    created_at: WireTime = doc("When the customer was created (UTC).", WHEN)


class CustomerList(BaseModel):
    customers: list[CustomerOut] = nested("Customers, oldest first.")


class TokenList(BaseModel):
    tokens: list[TokenOut] = nested("Tokens, oldest first.")


class SpendOut(BaseModel):
    """A fleet group's spend in a calendar month (UTC): what its bookings were billed in that
    month's billing period, plus the quotes of its live bookings whose window starts in it."""

    period_start: WireTime = doc("The month's first instant (UTC).", "2026-11-01T00:00:00Z")
    charged: WireMoney = doc(
        "Billed in the month: final prices of the group's ended bookings whose window starts in "
        "it (completed, and the fees of paid cancellations and no-shows), plus later adjustments "
        "booked in the month.", 0.0)
    completed: WireMoney = doc("Deprecated name of `charged` (same value).", 0.0,
                               json_schema_extra={"deprecated": True})
    held: WireMoney = doc("Quotes of live bookings (REQUESTED, PENDING, CONFIRMED, ATTENDING) whose "
                          "window starts in the month.", 5.0)
    total: WireMoney = doc("charged + held: what the monthly limit is checked against.", 5.0)
    monthly_limit_remaining: WireMoney | None = doc("What the monthly limit still allows; null: no limit.", 0.0)


class GroupOut(BaseModel):
    """A fleet group: pooled vehicles booking with the group's tokens."""

    id: str = doc("The group's id.", GROUP_ID)
    name: str = doc("The group's name.", "Delivery team")
    monthly_limit: WireMoney | None = doc("EUR per calendar month; null: no limit.", 5.0)
    session_limit: WireMoney | None = doc("EUR per booking; null: no limit.", 3.0)
    created_at: WireTime = doc("When the group was created (UTC).", WHEN)
    token_count: int | None = doc("How many tokens the group has (on GET of one group).", 1, default=None)
    spend: SpendOut | None = nested("This month's spend (on GET of one group).", default=None)


class GroupList(BaseModel):
    groups: list[GroupOut] = nested("Groups, oldest first (without token_count and spend).")


class StatementTotals(BaseModel):
    client_price: WireMoney = doc("Sum of the lines' client_price.", 2.5)
    cpo_cost: WireMoney = doc("Sum of the lines' CPO cost.", 0.0)
    reservation_fee: WireMoney = doc("Sum of the lines' reservation fees.", 2.5)
    commission: WireMoney = doc("Sum of the lines' commissions.", 0.0)


class LedgerSummary(BaseModel):
    entries: int = doc("Ledger entries (charges and adjustments) booked in the month.", 2)
    total: WireMoney = doc("Their sum; equals totals.client_price.", 2.5)


class BilledOut(BaseModel):
    """What this period's ledger billed for one booking (its entries here, summed)."""

    amount: WireMoney = doc("Billed in this period: the final price, or an adjustment of it.", 2.5)
    cpo_cost: WireMoney = doc("Its CPO-cost part.", 0.0)
    reservation_fee: WireMoney = doc("Its reservation-fee part.", 2.5)
    commission: WireMoney = doc("Its commission part.", 0.0)


class StatementLine(BookingOut):
    """A booking billed in the period, with what the period billed for it."""

    billed: BilledOut = nested("What this period billed for the booking.")
    adjustment_of: str | None = doc(
        "YYYY-MM of the closed month this line adjusts (a late CDR or fee); null for the "
        "booking's own month.", None)


class StatementOut(BaseModel):
    """A month's statement: the client's ledger for the billing period, one line per booking."""

    month: str = doc("The month, YYYY-MM (UTC).", "2026-11")
    status: Literal["open", "closed"] = doc("closed: this statement never changes again.", "open")
    closed_at: WireTime | None = doc("When the period was closed (UTC); null while open.", None)
    currency: str = doc("ISO 4217 currency of every amount.", "EUR")
    count: int = doc("Number of lines.", 2)
    totals: StatementTotals = nested("Sums of what the period billed (the lines' `billed`).")
    ledger: LedgerSummary = nested("The client's ledger for the month.")
    lines: list[StatementLine] = nested("Bookings billed in the period, with token and status_history null.")


class BillingPeriodOut(BaseModel):
    """A calendar month (UTC) of billing."""

    month: str = doc("YYYY-MM (UTC).", "2026-11")
    status: Literal["open", "closed"] = doc("open: charges for it are still booked in it; closed: "
                                             "its statement is final, later charges go to the "
                                             "next open month.", "closed")
    start: WireTime = doc("The month's first instant (UTC).", "2026-11-01T00:00:00Z")
    end: WireTime = doc("The next month's first instant (UTC).", "2026-12-01T00:00:00Z")
    closed_at: WireTime | None = doc("When it was closed (UTC).", "2026-12-02T09:00:00Z")
    entries: int = doc("Ledger entries booked in the period.", 2)
    total: WireMoney = doc("Their sum: the statement's total.", 2.5)
    currency: str = doc("ISO 4217 currency of total.", "EUR")


class BillingPeriodList(BaseModel):
    periods: list[BillingPeriodOut] = nested("From your first billed month to this month, newest first.")


class RateLimitOut(BaseModel):
    """The per-minute rate limit (sliding: the 60 seconds before each request)."""

    limit: int = doc("Requests allowed in any 60 seconds.", 100)
    remaining: int = doc("Requests left now, after this one.", 87)
    period: Literal["minute"] = doc("The limit's period.", "minute")
    reset_at: WireTime = doc("When `remaining` next goes up: your oldest request of the last "
                             "minute turns 60 s old (UTC).", "2026-11-24T21:48:03Z")


class QuotaOut(BaseModel):
    """The monthly quota (calendar month, UTC)."""

    limit: int = doc("Requests allowed per calendar month.", 10000)
    used: int = doc("Requests served this month, this one included.", 2)
    remaining: int = doc("Requests left this month.", 9998)
    period: Literal["month"] = doc("The quota's period.", "month")
    reset_at: WireTime = doc("When the count starts again: 00:00 UTC on the 1st of next month.",
                             "2026-12-01T00:00:00Z")


class Usage(BaseModel):
    """Your standing against both limits, from the same reading as this response's headers."""

    rate_limit: RateLimitOut = nested("The per-minute rate limit.")
    quota: QuotaOut = nested("The monthly quota.")


ErrorOut = Error  # the `{"error": ...}` body; kept under its older name for importers
ERRORS = errors(400, 404)
