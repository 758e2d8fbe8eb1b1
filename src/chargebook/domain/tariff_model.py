"""The OCPI 2.2.1 Tariff as the tariff engine reads it: a small, frozen, typed model.

Spec: OCPI 2.2.1 (branch ``release-2.2.1-bugfixes``), ``mod_tariffs.asciidoc`` § Object
description. Only what pricing needs is kept (plus the alt text and URL, which tell drivers
what the elements cannot); unknown fields are ignored, as OCPI asks receivers to do.
Numbers become ``Decimal`` (floats go through ``str``, so 0.1 stays 0.1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

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


def _utc(value: datetime | None) -> datetime | None:
    # Peers send DateTimes with and without an offset; OCPI means UTC either way.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


ClockTime = Annotated[time | None, BeforeValidator(_clock_time)]
UtcDateTime = Annotated[datetime | None, AfterValidator(_utc)]
NonNegative = Annotated[Decimal, Field(ge=0)]


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
    start_date: date | None = None  # inclusive
    end_date: date | None = None  # exclusive
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

    language: str
    text: str


class Tariff(_OcpiModel):
    """OCPI 2.2.1 mod_tariffs.asciidoc § Tariff Object.

    ``country_code``, ``party_id``, ``id`` and ``last_updated`` are required on the wire
    but not for pricing, so a hand-written tariff without them still prices.
    """

    country_code: str | None = None
    party_id: str | None = None
    id: str | None = None
    currency: str = Field(min_length=3, max_length=3)
    type: TariffType | None = None
    tariff_alt_text: tuple[DisplayText, ...] = ()
    tariff_alt_url: str | None = None
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


def parse_tariff(obj: Mapping[str, Any]) -> Tariff:
    """Read an OCPI 2.2.1 Tariff object (a JSON dict); raise :class:`InvalidTariff` if not."""
    if not isinstance(obj, Mapping):
        raise InvalidTariff("a Tariff must be a JSON object")
    try:
        return Tariff.model_validate(dict(obj))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "tariff"
        raise InvalidTariff(f"not an OCPI 2.2.1 Tariff: {where}: {first['msg']}") from exc
