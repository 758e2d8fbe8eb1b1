"""ORM models. Invariants the database can hold (unique keys, foreign keys, checks) live here.

The one invariant it cannot hold on both dialects (no two live bookings of one EVSE overlap)
is kept by :func:`chargebook.services.booking_create.create_booking` in one locked transaction.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chargebook.db.types import CiString, Money, StrEnumColumn, UTCDateTime
from chargebook.domain.outbox import OutboxState

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Money(), dict[str, Any]: JSON()}


# --- tenants -------------------------------------------------------------------------------


class Client(Base):
    """A tenant: an EMP, fleet operator, corporate or depot using the client API."""

    __tablename__ = "clients"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | suspended
    reservation_fee: Mapped[Decimal]
    commission_percent: Mapped[Decimal]
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=100)
    monthly_quota: Mapped[int] = mapped_column(Integer, default=10_000)
    created_at: Mapped[datetime]
    # The client's contract: every connected CPO (True), or only those in client_cpos.
    all_cpos: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    __table_args__ = (CheckConstraint("status in ('active', 'suspended')", name="status"),)


class ClientCpo(Base):
    """A CPO in a client's contract, when the client is not contracted for every CPO
    (``clients.all_cpos`` false): search, booking and reads show only these CPOs."""

    __tablename__ = "client_cpos"
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    party_pk: Mapped[str] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), primary_key=True)


class ApiKey(Base):
    """A client's key, stored as a SHA-256 hash; the key itself is shown once."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # first characters, to recognise a key in logs
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Customer(Base):
    """A driver of a client."""

    __tablename__ = "customers"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    external_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class FleetGroup(Base):
    """Vehicles and drivers sharing tokens and spending limits."""

    __tablename__ = "fleet_groups"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    monthly_limit: Mapped[Decimal | None]
    session_limit: Mapped[Decimal | None]
    created_at: Mapped[datetime]


class Token(Base):
    """An OCPI token we issue (we are the Token Sender). Pipelet UIDs never get one."""

    __tablename__ = "tokens"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # driver | group | ad_hoc
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    fleet_group_id: Mapped[str | None] = mapped_column(ForeignKey("fleet_groups.id"), index=True)
    # OCPI 2.2.1 mod_tokens.asciidoc § Token Object
    uid: Mapped[str] = mapped_column(CiString(36), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    contract_id: Mapped[str] = mapped_column(CiString(36), unique=True)  # the eMA id: one per token
    visual_number: Mapped[str | None] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(36))
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    whitelist: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(2))
    last_updated: Mapped[datetime] = mapped_column(index=True)
    # ad_hoc scope: the booking's EVSE and window
    booking_id: Mapped[str | None] = mapped_column(String(40))
    scope_location_id: Mapped[str | None] = mapped_column(CiString(36))
    scope_evse_uid: Mapped[str | None] = mapped_column(CiString(36))
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]


# --- CPOs and their catalogue --------------------------------------------------------------


class Party(Base):
    """A CPO we talk OCPI to: its identity, the credentials both ways, its endpoints."""

    __tablename__ = "parties"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    country_code: Mapped[str] = mapped_column(CiString(2))
    party_id: Mapped[str] = mapped_column(CiString(3))
    name: Mapped[str] = mapped_column(String(200))
    max_reservation_minutes: Mapped[int] = mapped_column(Integer, default=240)
    created_at: Mapped[datetime]
    # OCPI connection (None for a catalogue stored without OCPI, e.g. a benchmark)
    status: Mapped[str] = mapped_column(String(16), default="local", server_default="local")
    version: Mapped[str | None] = mapped_column(String(10))
    versions_url: Mapped[str | None] = mapped_column(String(255))
    endpoints: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # "module:role" -> url
    token_for_them: Mapped[str | None] = mapped_column(String(64))  # we send this to them
    token_from_them_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # they send
    # RESERVE_NOW reserves "from now until expiry", so it is sent this long before the window.
    reserve_lead_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    command_timeout_seconds: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    last_sync_at: Mapped[datetime | None]
    # OCPI 2.3.0 Bookings (see the section below): the CPO's Bookings Sender URL, if offered.
    bookings_url: Mapped[str | None] = mapped_column(String(255))
    # A token we issued in a credentials update still in flight: valid beside the current one
    # until the exchange completes (OCPI leaves this open: ocpi/ocpi#568).
    pending_token_hash: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("country_code", "party_id"),)


class OcpiInvite(Base):
    """A token A we issued so that a CPO can register with us (stored hashed, used once)."""

    __tablename__ = "ocpi_invites"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    party_pk: Mapped[str | None] = mapped_column(ForeignKey("parties.id", ondelete="SET NULL"))
    # The identity this invite registers: set by the operator, or by the first registration.
    country_code: Mapped[str | None] = mapped_column(String(2))
    party_id: Mapped[str | None] = mapped_column(String(3))


class OcpiRegistration(Base):
    """Our registration with a CPO while our credentials POST is in flight (`ocpi connect`):
    the token B we gave it (hashed) opens versions, version details and credentials GET; once
    the CPO's identity is known the registration is bound to its party, and token B then opens
    that party's pushes too. Removed when the handshake ends either way, or it expires."""

    __tablename__ = "ocpi_registrations"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    versions_url: Mapped[str] = mapped_column(String(255))
    party_pk: Mapped[str | None] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Tariff(Base):
    """OCPI 2.2.1 mod_tariffs.asciidoc § Tariff Object, kept whole in `data`."""

    __tablename__ = "tariffs"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    party_pk: Mapped[str] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    id: Mapped[str] = mapped_column(CiString(36))
    currency: Mapped[str] = mapped_column(String(3))
    data: Mapped[dict[str, Any]]
    last_updated: Mapped[datetime]
    __table_args__ = (UniqueConstraint("party_pk", "id"),)


class Location(Base):
    """OCPI 2.2.1 mod_locations.asciidoc § Location Object; the whole object is kept in `data`."""

    __tablename__ = "locations"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    party_pk: Mapped[str] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    id: Mapped[str] = mapped_column(CiString(36))  # the CPO's location id
    name: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(45))
    city: Mapped[str] = mapped_column(String(45))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    country: Mapped[str] = mapped_column(String(3))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    time_zone: Mapped[str] = mapped_column(String(255))
    publish: Mapped[bool] = mapped_column(Boolean, default=True)
    data: Mapped[dict[str, Any]]
    last_updated: Mapped[datetime]
    # Search's spatial index (domain/geocells.py), kept by services/catalogue.store_location:
    # the 0.01° latitude band, and the highest connector power search can list here, over
    # all listed EVSEs and over bookable ones (None: nothing to list, or unpublished).

    @staticmethod
    def _lat_band_of_insert(context: Any) -> int:
        # A row inserted without its band (anywhere but store_location) still gets it right.
        from chargebook.domain.geocells import lat_band

        return lat_band(float(context.get_current_parameters()["latitude"]))

    lat_band: Mapped[int] = mapped_column(Integer, default=_lat_band_of_insert, server_default="0")
    search_power_kw: Mapped[float | None] = mapped_column(Float)
    bookable_power_kw: Mapped[float | None] = mapped_column(Float)
    __table_args__ = (
        UniqueConstraint("party_pk", "id"),
        Index("ix_locations_id", "id"),
        # Covers search's candidate query: one seek per band (lat_band IN …, longitude
        # BETWEEN …), the rest read from the index itself (pk too: PostgreSQL's index-only
        # scans need it in the index; SQLite keeps the rowid there anyway).
        Index(
            "ix_locations_search",
            "lat_band", "longitude", "latitude", "search_power_kw", "bookable_power_kw", "pk",
        ),
    )


class Evse(Base):
    """OCPI 2.2.1 mod_locations.asciidoc § EVSE Object. Booking locks this row."""

    __tablename__ = "evses"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    location_pk: Mapped[int] = mapped_column(ForeignKey("locations.pk", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(CiString(36))
    evse_id: Mapped[str | None] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(16))
    reservable: Mapped[bool] = mapped_column(Boolean)  # capabilities contain RESERVABLE
    max_power_kw: Mapped[float] = mapped_column(Float, default=0.0)
    data: Mapped[dict[str, Any]]
    last_updated: Mapped[datetime]
    __table_args__ = (UniqueConstraint("location_pk", "uid"),)


class Connector(Base):
    """OCPI 2.2.1 mod_locations.asciidoc § Connector Object (indexed columns for search)."""

    __tablename__ = "connectors"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    evse_pk: Mapped[int] = mapped_column(ForeignKey("evses.pk", ondelete="CASCADE"), index=True)
    id: Mapped[str] = mapped_column(CiString(36))
    standard: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(8))
    power_type: Mapped[str] = mapped_column(String(16))
    power_kw: Mapped[float] = mapped_column(Float)
    tariff_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    __table_args__ = (UniqueConstraint("evse_pk", "id"),)


#: Both outbox tables hold only the states of domain/outbox.py.
OUTBOX_STATES = "state in ({})".format(", ".join(f"'{s.value}'" for s in OutboxState))


class Command(Base):
    """A command we send to a CPO. Rows are the worker's to-do list: a command is created in the
    transaction that decides it, sent after commit, and its outcome recorded in a new one."""

    __tablename__ = "ocpi_commands"
    id: Mapped[str] = mapped_column(CiString(40), primary_key=True)  # in our response_url
    party_pk: Mapped[str] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    booking_id: Mapped[str | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(24))  # OCPI CommandType
    state: Mapped[OutboxState] = mapped_column(StrEnumColumn(OutboxState, 16))  # domain/outbox.py
    body: Mapped[dict[str, Any]]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]  # when to (re)send
    response: Mapped[str | None] = mapped_column(String(24))  # CommandResponseType
    result: Mapped[str | None] = mapped_column(String(24))  # CommandResultType
    message: Mapped[str | None] = mapped_column(Text)
    timeout_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # operations (0007): the request id sent as X-Correlation-ID; the worker that claimed it
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    __table_args__ = (
        Index("ix_ocpi_commands_state_due", "state", "due_at"),
        CheckConstraint(OUTBOX_STATES, name="state"),
    )


class ChargingSession(Base):
    """OCPI 2.2.1 mod_sessions.asciidoc § Session Object, as the CPO pushed it."""

    __tablename__ = "sessions"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    party_pk: Mapped[str] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    id: Mapped[str] = mapped_column(CiString(36))
    booking_id: Mapped[str | None] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(16))
    token_uid: Mapped[str] = mapped_column(CiString(36))
    location_id: Mapped[str] = mapped_column(CiString(36))
    evse_uid: Mapped[str] = mapped_column(CiString(36))
    data: Mapped[dict[str, Any]]
    last_updated: Mapped[datetime]
    __table_args__ = (UniqueConstraint("party_pk", "id"),)


class ChargeDetailRecord(Base):
    """OCPI 2.2.1 mod_cdrs.asciidoc § CDR Object. Every CDR received is kept, never lost:
    one we cannot match or have seen before is stored and flagged."""

    __tablename__ = "cdrs"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    party_pk: Mapped[str] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    id: Mapped[str] = mapped_column(CiString(39))
    session_id: Mapped[str | None] = mapped_column(CiString(36))
    booking_id: Mapped[str | None] = mapped_column(String(40), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total_cost_excl_vat: Mapped[Decimal]
    total_cost_incl_vat: Mapped[Decimal | None]
    our_cost_excl_vat: Mapped[Decimal | None]
    flag: Mapped[str | None] = mapped_column(String(24))  # duplicate | unmatched | price_mismatch
    data: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    __table_args__ = (Index("ix_cdrs_party_id", "party_pk", "id"),)


# --- bookings ------------------------------------------------------------------------------


#: The live statuses, spelt out for the partial unique index (``domain.lifecycle.LIVE_STATES``).
LIVE_EXTERNAL_ID = text(
    "external_id IS NOT NULL AND status IN ('REQUESTED', 'PENDING', 'CONFIRMED', 'ATTENDING')"
)


class Booking(Base):
    __tablename__ = "bookings"
    id: Mapped[str] = mapped_column(CiString(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    evse_pk: Mapped[int] = mapped_column(ForeignKey("evses.pk"))
    location_id: Mapped[str] = mapped_column(CiString(36))
    location_city: Mapped[str | None] = mapped_column(String(45))
    evse_uid: Mapped[str] = mapped_column(CiString(36))
    connector_id: Mapped[str | None] = mapped_column(CiString(36))
    reservation_start: Mapped[datetime]
    reservation_end: Mapped[datetime]
    token_strategy: Mapped[str] = mapped_column(String(16))
    token_pk: Mapped[str | None] = mapped_column(ForeignKey("tokens.id"))
    token_uid: Mapped[str] = mapped_column(CiString(36))
    customer_id: Mapped[str | None] = mapped_column(String(40))
    fleet_group_id: Mapped[str | None] = mapped_column(ForeignKey("fleet_groups.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(40))
    status_message: Mapped[str | None] = mapped_column(Text)
    status_updated_at: Mapped[datetime]
    cpo_reservation_id: Mapped[str | None] = mapped_column(CiString(36))
    client_price: Mapped[Decimal | None]
    client_price_currency: Mapped[str] = mapped_column(String(3), default="EUR")
    price_breakdown: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    # operations (0007): the X-Request-ID of the call that created it (logs, OCPI correlation)
    request_id: Mapped[str | None] = mapped_column(String(64))
    # When the request to the CPO goes out (or went out): the RESERVE_NOW's send time, or the
    # creation for a Bookings-module request; None for a CPO not connected over OCPI.
    cpo_request_at: Mapped[datetime | None]
    __table_args__ = (
        # An external_id names at most one live booking of a client; ended ones free it.
        Index("uq_bookings_live_external_id", "client_id", "external_id", unique=True,
              sqlite_where=LIVE_EXTERNAL_ID, postgresql_where=LIVE_EXTERNAL_ID),
        Index("ix_bookings_client_external", "client_id", "external_id"),
        Index("ix_bookings_evse_window", "evse_pk", "reservation_start", "reservation_end"),
        Index("ix_bookings_client_created", "client_id", "created_at", "id"),
        Index("ix_bookings_status_start", "status", "reservation_start"),
        CheckConstraint("reservation_end > reservation_start", name="window"),
    )


class BookingTransition(Base):
    """Every lifecycle step of a booking: from, to, when, what caused it."""

    __tablename__ = "booking_transitions"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(40))  # client | cpo | worker | operator
    message: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class LedgerEntry(Base):
    """One charge to a client, append-only: the final price of a booking when it ends, and an
    adjustment whenever that price changes later (e.g. a CDR after a no-show). A booking's
    entries always add up to its ``client_price``, and each entry's parts add up to its
    amount. ``period`` is the billing period it is booked in: the month of the booking's
    start (``service_period``) while that period is open, else the next open one."""

    __tablename__ = "ledger_entries"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # charge | adjustment
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM (UTC): the billing period
    description: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # 0011: the month the booking belongs to, and the amount's parts (they add up to it)
    service_period: Mapped[str | None] = mapped_column(String(7))
    cpo_cost: Mapped[Decimal | None]
    reservation_fee: Mapped[Decimal | None]
    commission: Mapped[Decimal | None]
    __table_args__ = (Index("ix_ledger_entries_client_period", "client_id", "period"),)


class BillingPeriod(Base):
    """A client's calendar month (UTC) of billing. A row appears when the first entry is booked
    in the month (or when it is closed); its lock keeps a close and a late charge apart. A
    closed period keeps the statement as it was at closing, JSON and CSV, never to change."""

    __tablename__ = "billing_periods"
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM (UTC)
    status: Mapped[str] = mapped_column(String(8))  # open | closed
    closed_at: Mapped[datetime | None]
    statement: Mapped[str | None] = mapped_column(Text)  # the JSON answer, byte for byte
    statement_csv: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (CheckConstraint("status in ('open', 'closed')", name="status"),)


# --- webhooks ------------------------------------------------------------------------------


class WebhookEndpoint(Base):
    """Where a client wants booking events pushed. The secret is kept as is, not hashed: the
    worker signs every delivery with it (docs/decisions.md, "Webhook secrets")."""

    __tablename__ = "webhook_endpoints"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation deliveries are signed with both secrets until this time.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One event for one endpoint: the exact bytes to send (every retry sends the same) and
    where it stands. ``pk`` orders a booking's events: the worker never sends one while an
    earlier one of the same booking to the same endpoint is still pending."""

    __tablename__ = "webhook_deliveries"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    booking_id: Mapped[str | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]  # due time; a lease while a worker sends it
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    __table_args__ = (
        CheckConstraint("status in ('pending', 'delivered', 'failed')", name="status"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "pk"),
        Index("ix_webhook_deliveries_order", "endpoint_id", "booking_id", "pk"),
    )


class WebhookAttempt(Base):
    """One POST of a delivery: when, the HTTP status or the error, how long it took."""

    __tablename__ = "webhook_attempts"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_pk: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.pk", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)


# --- OCPI 2.3.0 Bookings module ------------------------------------------------------------


class BookingLocation(Base):
    """OCPI 2.3.0 mod_bookings.asciidoc § BookingLocation Object, kept whole in ``data``
    (calendars included). ``evse_uid`` is None when the CPO books the location as a whole
    (no EVSE named, or ``#NA``)."""

    __tablename__ = "booking_locations"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    party_pk: Mapped[str] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    id: Mapped[str] = mapped_column(CiString(36))
    location_id: Mapped[str] = mapped_column(CiString(36))
    evse_uid: Mapped[str | None] = mapped_column(CiString(36))
    data: Mapped[dict[str, Any]]
    last_updated: Mapped[datetime]
    __table_args__ = (
        UniqueConstraint("party_pk", "id"),
        Index("ix_booking_locations_party_location", "party_pk", "location_id"),
    )


class BookingTimeslot(Base):
    """One ``available_timeslots`` entry of a Calendar, as a row so that search and booking
    ask "is this window inside an available slot?" with one indexed query."""

    __tablename__ = "booking_timeslots"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_location_pk: Mapped[int] = mapped_column(ForeignKey("booking_locations.pk", ondelete="CASCADE"))
    calendar_id: Mapped[str] = mapped_column(CiString(36))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    __table_args__ = (Index("ix_booking_timeslots_location_start", "booking_location_pk", "start_at"),)


class OcpiBooking(Base):
    """The CPO's side of one of our bookings sent through the Bookings module: its Booking
    object as last heard (POST answer, push or poll) and when to poll it next."""

    __tablename__ = "ocpi_bookings"
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    party_pk: Mapped[str] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    booking_location_id: Mapped[str] = mapped_column(CiString(36))
    request_id: Mapped[str] = mapped_column(CiString(36))  # ours, the same for every edit
    cpo_booking_id: Mapped[str | None] = mapped_column(CiString(36))
    reservation_status: Mapped[str | None] = mapped_column(String(16))  # None: not answered yet
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_updated: Mapped[datetime | None]  # the CPO's
    answer_due_at: Mapped[datetime | None]  # a PENDING booking must be answered by then
    poll_at: Mapped[datetime | None]  # when to ask the CPO again (None: nothing to follow)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __table_args__ = (
        Index("ix_ocpi_bookings_party_cpo_id", "party_pk", "cpo_booking_id"),
        Index("ix_ocpi_bookings_poll_at", "poll_at"),
    )


class OcpiBookingRequest(Base):
    """A BookingRequest we POST to a CPO (create, change or cancel; one ``request_id`` per
    booking). Like commands: a row first, sent by the worker after commit, retried with
    backoff, the outcome recorded in a new transaction."""

    __tablename__ = "ocpi_booking_requests"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    party_pk: Mapped[str] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # create | change | cancel
    state: Mapped[OutboxState] = mapped_column(StrEnumColumn(OutboxState, 16))  # domain/outbox.py
    body: Mapped[dict[str, Any]]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    outcome: Mapped[str | None] = mapped_column(String(16))  # ReservationRequestStatus
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # outbox (0010), as on commands: the request id sent as X-Correlation-ID; the last claimer
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    __table_args__ = (
        Index("ix_ocpi_booking_requests_state_due", "state", "due_at"),
        CheckConstraint(OUTBOX_STATES, name="state"),
    )

# --- operations ----------------------------------------------------------------------------


class WorkerHeartbeat(Base):
    """A running ``chargebook worker`` process, written every pass. Readiness asks for a fresh
    one; rows of workers that died without saying goodbye are pruned after a while."""

    __tablename__ = "worker_heartbeats"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime] = mapped_column(index=True)
    last_pass_seconds: Mapped[float | None] = mapped_column(Float)
    lag_seconds: Mapped[float | None] = mapped_column(Float)

# --- rate limits ---------------------------------------------------------------------------
# The database backend of services/rate_limits.py (the Redis backend keeps the same state in
# Redis instead).


class RateLimitUsage(Base):
    """A client's admitted requests in one calendar month (UTC). Its row is also the lock that
    serializes one client's rate-limit checks on PostgreSQL."""

    __tablename__ = "rate_limit_usage"
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM (UTC)
    used: Mapped[int] = mapped_column(Integer)


class RateLimitHit(Base):
    """One admitted request in a client's sliding minute. ``seq`` numbers a client's hits
    without gaps and ``at`` never goes backwards in ``seq`` order, so the window is always
    one run of seqs: counting it and finding its oldest member are primary-key lookups."""

    __tablename__ = "rate_limit_hits"
    client_id: Mapped[str] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]

# --- console (the web dashboard under /console) --------------------------------------------
# People who log in, their sessions and invitations, login attempts, the audit log, and the
# key that signs console cookies. See src/chargebook/console/README.md.


class ConsoleUser(Base):
    """A person who logs in to the console: an operator (platform staff, no client) or a user
    of one client (its fleet managers). The email is the login, one account per address."""

    __tablename__ = "console_users"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    role: Mapped[str] = mapped_column(String(16))  # operator | client
    client_id: Mapped[str | None] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), index=True
    )
    # argon2id; None until an invited user accepts
    password_hash: Mapped[str | None] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # invited | active | disabled
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    __table_args__ = (
        CheckConstraint("role in ('operator', 'client')", name="role"),
        CheckConstraint(
            "(role = 'operator' AND client_id IS NULL) OR "
            "(role = 'client' AND client_id IS NOT NULL)",
            name="role_client",
        ),
        CheckConstraint("status in ('invited', 'active', 'disabled')", name="status"),
    )


class ConsoleInvitation(Base):
    """A one-time link for an invited client user to set a password (the token is hashed)."""

    __tablename__ = "console_invitations"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("console_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(254))  # an operator's email, or "cli"
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """A logged-in browser. The cookie carries a random token (signed); only its hash is kept,
    so the row can be revoked and a stolen database gives no usable session."""

    __tablename__ = "console_sessions"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("console_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # absolute end; idle expiry is last_seen_at + the idle limit
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class ConsoleLoginAttempt(Base):
    """Every login attempt, kept so that failures can be counted per email and per address
    across API processes (the rate limit) and shown to operators."""

    __tablename__ = "console_login_attempts"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    ok: Mapped[bool] = mapped_column(Boolean)
    # ok | bad_password | unknown_user | throttled | account_disabled | account_invited
    reason: Mapped[str] = mapped_column(String(40))
    __table_args__ = (
        Index("ix_console_login_attempts_email_at", "email", "at"),
        Index("ix_console_login_attempts_ip_at", "ip", "at"),
    )


class AuditEntry(Base):
    """Who did what, when, through the console or the CLI. Append-only; no foreign keys, so an
    entry outlives what it names."""

    __tablename__ = "audit_log"
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(254))  # the person's email, or "cli"
    actor_role: Mapped[str] = mapped_column(String(16))  # operator | client | cli
    client_id: Mapped[str | None] = mapped_column(String(40))  # the client the action concerns
    action: Mapped[str] = mapped_column(String(60))  # e.g. client.create, key.rotate
    target: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))
    __table_args__ = (Index("ix_audit_log_client_pk", "client_id", "pk"),)


class ConsoleKey(Base):
    """The key that signs console cookies and CSRF tokens, when CHARGEBOOK_CONSOLE_SECRET_KEY is
    not set: made once and shared through the database, so every API process agrees."""

    __tablename__ = "console_keys"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
