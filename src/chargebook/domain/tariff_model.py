"""The OCPI Tariff as the tariff engine reads it: a small, frozen, typed model.

Spec: OCPI 2.2.1 (branch ``release-2.2.1-bugfixes``), ``mod_tariffs.asciidoc`` § Object
description; OCPI 2.3.0 (branch ``2.3.0/release/bookings``) where it differs. Only what
pricing needs is kept (plus the alt text and URL, which tell drivers what the elements
cannot); unknown fields are ignored, as OCPI asks receivers to do. Numbers become
``Decimal`` (floats go through ``str``, so 0.1 stays 0.1).

The domain imports nothing of ours, so this is a second model of the Tariff beside
``ocpi/v221/tariffs.py`` and ``ocpi/v230/tariffs.py``. It accepts exactly what they accept
(``tests/domain/test_tariff_model_agrees.py`` generates valid and near-valid tariffs and
asks both), with two exceptions that only widen it: the identity fields (``country_code``,
``party_id``, ``id``, ``last_updated``) may be absent, so a hand-written tariff prices, and
``energy_mix``, which pricing never reads, is not checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from chargebook.domain.errors import InvalidRequest


class InvalidTariff(InvalidRequest):
    """The object is not an OCPI 2.2.1 Tariff the engine can price; the message says where."""


class TariffDimensionType(StrEnum):
    """OCPI 2.2.1 mod_tariffs.asciidoc § TariffDimensionType enum."""

    ENERGY = "ENERGY"  # per kWh, step_size unit 1 Wh
    FLAT = "FLAT"  # no unit, step_size meaningless
    PARKING_TIME = "PARKING_TIME"  # per hour not charging, step_size unit 1 s
    TIME = "TIME"  # per hour charging (or reserved, in a reservation element), step 1 s


class ReservationRestrictionType(StrEnum):
    """OCPI 2.2.1 mod_tariffs.asciidoc § ReservationRestrictionType enum."""

    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class DayOfWeek(StrEnum):
    """OCPI 2.2.1 mod_tariffs.asciidoc § DayOfWeek enum (declared Monday first, like ISO)."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"

    @property
    def weekday(self) -> int:
        """0 for Monday, as ``datetime.weekday()`` counts."""
        return list(DayOfWeek).index(self)


class TariffType(StrEnum):
    """OCPI 2.2.1 mod_tariffs.asciidoc § TariffType enum."""

    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _clock_time(value: Any) -> Any:
    """``HH:MM`` (the spec's regex) to a ``time``.

    ``24:00`` is not in the regex but some CPOs send it for "end of day"; it means the same
    as the spec's ``00:00`` end_time, so it is read as that rather than refused.
    """
    if value is None or isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string HH:MM")  # noqa: TRY004 (pydantic wants ValueError)
    if value == "24:00":
        return time(0, 0)
    if not _CLOCK.fullmatch(value):
        raise ValueError(f"{value!r} is not a time of day HH:MM (24h, leading zeros)")
    return time(int(value[:2]), int(value[3:]))


# OCPI 2.2.1 types.asciidoc § DateTime: RFC 3339, zone designator optional (absent = UTC).
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$", re.ASCII
)
# OCPI 2.2.1 mod_tariffs.asciidoc § TariffRestrictions class: a local date YYYY-MM-DD.
_DATE = re.compile(r"([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])", re.ASCII)


def _date_time(value: Any) -> Any:
    """An OCPI DateTime to an aware UTC ``datetime``; offsets are converted."""
    if value is None or isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and _DATETIME.match(value):
        parsed = datetime.fromisoformat(value.upper())
    else:
        raise ValueError(f"{value!r} is not an OCPI DateTime (RFC 3339)")
    if parsed is not None and parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)  # OCPI means UTC when no offset is given
    return parsed if parsed is None else parsed.astimezone(UTC)


def _local_date(value: Any) -> Any:
    """``YYYY-MM-DD`` (the spec's regex) that names a real day."""
    if value is None or isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError(f"{value!r} is not a local date YYYY-MM-DD")
    return date.fromisoformat(value)


# OCPI 2.2.1 types.asciidoc § CiString: printable ASCII; § string: no control characters.
def _ci_string(length: int) -> Any:
    return StringConstraints(max_length=length, pattern=r"^[\x20-\x7E]*$")


def _string(length: int) -> Any:
    return StringConstraints(max_length=length, pattern=r"^[^\p{Cc}]*$")


ClockTime = Annotated[time | None, BeforeValidator(_clock_time)]
LocalDate = Annotated[date | None, BeforeValidator(_local_date)]
UtcDateTime = Annotated[datetime | None, BeforeValidator(_date_time)]
NonNegative = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Url = Annotated[str, StringConstraints(max_length=255, pattern=r"^\S+$")]


class _OcpiModel(BaseModel):
    # OCPI asks receivers to accept objects carrying fields they do not know.
    model_config = ConfigDict(frozen=True, extra="ignore")


class PriceComponent(_OcpiModel):
    """OCPI 2.2.1 mod_tariffs.asciidoc § PriceComponent class.

    ``price`` is per unit and excludes VAT. ``vat`` absent means no VAT applies, which the
    spec says differs from ``0.0``. ``step_size`` 0 (the free-tariff example uses it) is read
    as "no rounding".
    """

    type: TariffDimensionType
    price: NonNegative
    vat: NonNegative | None = None
    step_size: int = Field(ge=0)


class TariffRestrictions(_OcpiModel):
    """OCPI 2.2.1 mod_tariffs.asciidoc § TariffRestrictions class.

    All present fields are ANDed; they switch an element on and off *during* a session.
    Times and dates are local to the Location's ``time_zone``.
    """

    start_time: ClockTime = None
    end_time: ClockTime = None  # exclusive; 00:00 is the end of the day
    start_date: LocalDate = None  # inclusive
    end_date: LocalDate = None  # exclusive
    min_kwh: NonNegative | None = None
    max_kwh: NonNegative | None = None
    min_current: NonNegative | None = None
    max_current: NonNegative | None = None
    min_power: NonNegative | None = None
    max_power: NonNegative | None = None
    min_duration: int | None = Field(default=None, ge=0)  # seconds
    max_duration: int | None = Field(default=None, ge=0)  # seconds
    day_of_week: tuple[DayOfWeek, ...] | None = None
    reservation: ReservationRestrictionType | None = None


class TariffElement(_OcpiModel):
    """OCPI 2.2.1 mod_tariffs.asciidoc § TariffElement class."""

    price_components: tuple[PriceComponent, ...] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None

    @model_validator(mode="after")
    def _reservation_prices_flat_and_time_only(self) -> TariffElement:
        # TariffRestrictions.reservation: "A reservation can only have: FLAT and TIME".
        allowed = {TariffDimensionType.FLAT, TariffDimensionType.TIME}
        if self.reservation is not None and any(
            c.type not in allowed for c in self.price_components
        ):
            raise ValueError("a reservation element may only price FLAT and TIME")
        return self

    @property
    def reservation(self) -> ReservationRestrictionType | None:
        return None if self.restrictions is None else self.restrictions.reservation

    def component(self, dimension: TariffDimensionType) -> PriceComponent | None:
        """This element's component for ``dimension`` (the first, if a CPO sent two)."""
        return next((c for c in self.price_components if c.type is dimension), None)


class Price(_OcpiModel):
    """OCPI 2.2.1 types.asciidoc § Price class."""

    excl_vat: NonNegative
    incl_vat: NonNegative | None = None


class DisplayText(_OcpiModel):
    """OCPI 2.2.1 types.asciidoc § DisplayText class."""

    language: Annotated[str, _string(2)]  # ISO 639-1
    text: Annotated[str, _string(512)]


class Tariff(_OcpiModel):
    """OCPI 2.2.1 mod_tariffs.asciidoc § Tariff Object.

    ``country_code``, ``party_id``, ``id`` and ``last_updated`` are required on the wire
    but not for pricing, so a hand-written tariff without them still prices.
    """

    country_code: Annotated[str, _ci_string(2)] | None = None
    party_id: Annotated[str, _ci_string(3)] | None = None
    id: Annotated[str, _ci_string(36)] | None = None
    currency: Annotated[str, _string(3), Field(min_length=3)]  # ISO 4217
    type: TariffType | None = None
    tariff_alt_text: Annotated[
        tuple[DisplayText, ...], BeforeValidator(lambda v: () if v is None else v)
    ] = ()
    tariff_alt_url: Url | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    elements: tuple[TariffElement, ...] = Field(min_length=1)
    start_date_time: UtcDateTime = None
    end_date_time: UtcDateTime = None
    last_updated: UtcDateTime = None

    @property
    def has_vat(self) -> bool:
        """True when some component states a VAT; otherwise prices incl. VAT are unknown."""
        return any(c.vat is not None for e in self.elements for c in e.price_components)

    @property
    def label(self) -> str:
        """``DE*ALL*14``-style name for messages."""
        parts = [p for p in (self.country_code, self.party_id, self.id) if p]
        return "*".join(parts) or "(unnamed tariff)"

    def is_valid_at(self, moment: datetime) -> bool:
        """Inside [start_date_time, end_date_time) (the spec gives both in UTC)."""
        if self.start_date_time is not None and moment < self.start_date_time:
            return False
        return self.end_date_time is None or moment < self.end_date_time


class TaxIncluded(StrEnum):
    """OCPI 2.3.0 mod_tariffs.asciidoc § TaxIncluded enum."""

    YES = "YES"
    NO = "NO"
    N_A = "N/A"


class BookingRestrictionType(StrEnum):
    """OCPI 2.3.0 Bookings 1.1 mod_tariffs.asciidoc § BookingRestrictionType enum."""

    BOOKING = "BOOKING"
    BOOKING_EXPIRES = "BOOKING_EXPIRES"
    BOOKING_CANCELLATION_FEES = "BOOKING_CANCELLATION_FEES"
    BOOKING_OVERTIME = "BOOKING_OVERTIME"


class PriceLimit(_OcpiModel):
    """OCPI 2.3.0 mod_tariffs.asciidoc § PriceLimit class (Tariff min_price/max_price)."""

    before_taxes: NonNegative
    after_taxes: NonNegative | None = None


class _Restrictions230(_OcpiModel):
    booking: BookingRestrictionType | None = None


class _Element230(_OcpiModel):
    price_components: tuple[PriceComponent, ...] = ()
    restrictions: _Restrictions230 | None = None

    @model_validator(mode="after")
    def _booking_prices_flat_and_time_only(self) -> _Element230:
        # TariffRestrictions.booking: "A booking can only have: FLAT and TIME".
        allowed = {TariffDimensionType.FLAT, TariffDimensionType.TIME}
        booking = None if self.restrictions is None else self.restrictions.booking
        if booking is not None and any(c.type not in allowed for c in self.price_components):
            raise ValueError("a booking element may only price FLAT and TIME")
        return self


class _Edition230(_OcpiModel):
    """What OCPI 2.3.0 changes in a Tariff: checked here, then the terms read as 2.2.1's
    (a PriceLimit's ``before_taxes``/``after_taxes`` as ``excl_vat``/``incl_vat``)."""

    tax_included: TaxIncluded
    min_price: PriceLimit | None = None
    max_price: PriceLimit | None = None
    preauthorize_amount: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None
    elements: tuple[_Element230, ...] = ()


def _as_price(limit: PriceLimit | None) -> dict[str, Decimal | None] | None:
    return None if limit is None else {"excl_vat": limit.before_taxes, "incl_vat": limit.after_taxes}


def _terms_230(obj: Mapping[str, Any]) -> dict[str, Any]:
    edition = _Edition230.model_validate(dict(obj))
    terms = dict(obj)
    for name in ("min_price", "max_price"):
        if name in terms:
            terms[name] = _as_price(getattr(edition, name))
    return terms


def parse_tariff(obj: Mapping[str, Any], edition: str = "2.2.1") -> Tariff:
    """Read an OCPI Tariff object (a JSON dict) of ``edition`` (``2.2.1`` or ``2.3.0``);
    raise :class:`InvalidTariff` if it is not one."""
    if not isinstance(obj, Mapping):
        raise InvalidTariff("a Tariff must be a JSON object")
    try:
        terms = _terms_230(obj) if edition == "2.3.0" else dict(obj)
        return Tariff.model_validate(terms)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "tariff"
        raise InvalidTariff(f"not an OCPI {edition} Tariff: {where}: {first['msg']}") from exc
