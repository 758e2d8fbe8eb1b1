"""OCPI 2.2.1 common types (types.asciidoc) and the base every OCPI model shares.

Spec: OCPI 2.2.1-d2 + errata, branch ``release-2.2.1-bugfixes`` of ocpi/ocpi, files
``types.asciidoc`` and ``transport_and_format.asciidoc``.

What holds for every model built on :class:`OcpiModel`:

* Unknown JSON fields are accepted and kept (``extra="allow"``): OCPI asks receivers not to
  reject fields they do not know (2.3.0 transport_and_format § Non-specified JSON fields makes
  it a SHALL), and keeping them makes a stored object re-serialize without loss.
* ``number`` is :class:`~decimal.Decimal`. JSON bodies must be read with :func:`load_json`
  (or :meth:`OcpiModel.from_ocpi_json`) and written with :func:`dump_json`
  (or :meth:`OcpiModel.to_ocpi_json`): that pair keeps the number text exact, so ``0.25``
  stays ``0.25`` and ``2.00`` stays ``2.00``. ``model_validate_json`` would parse numbers
  as floats first, and ``model_dump(mode="json")`` can only emit them as floats.
* ``DateTime`` parses ``Z``, an offset, or no zone (which OCPI defines as UTC), and is held
  as an aware UTC datetime; it is written as ``YYYY-MM-DDTHH:MM:SS[.ffff]Z``.
* String lengths and character sets are enforced on every validation, so an over-long id
  is refused before we send it, not only when we receive it.
* An optional field sent as ``null`` is read as not sent, outside PATCH bodies (CPOs in the
  field send every unset field as ``null``, whole objects of nulls included); a required
  field sent as ``null`` is still refused, naming the field. Stored copies drop the nulls
  too (``without_nulls``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    model_validator,
)

# --- JSON in and out ---------------------------------------------------------------------


def without_nulls(value: Any) -> Any:
    """A received object as we store it: every key whose value is ``null`` dropped, at any
    depth (an optional field sent as null is not set; see :class:`OcpiModel`)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def load_json(raw: str | bytes | bytearray) -> Any:
    """Parse an OCPI JSON body, reading every non-integer number as an exact Decimal."""
    return json.loads(raw, parse_float=Decimal)


def _encode_default(value: object) -> object:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"OCPI numbers are finite, got {value}")
        # str() of a finite Decimal is always a valid JSON number and keeps its digits.
        return orjson.Fragment(str(value))
    if isinstance(value, datetime):
        return format_datetime(value)
    raise TypeError(f"cannot encode {type(value).__name__} as OCPI JSON")


def _plain(value: object, exclude_unset: bool) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python", exclude_unset=exclude_unset)
    if isinstance(value, (list, tuple)):
        return [_plain(item, exclude_unset) for item in value]
    return value


def dump_json(value: object, *, exclude_unset: bool = True) -> bytes:
    """Serialize a model (or a list of models) to OCPI JSON, Decimals as exact numbers.

    ``exclude_unset`` (the default) writes only fields that were set, so a parsed object
    writes back exactly what was received, and a PATCH body holds only what was set.
    """
    return orjson.dumps(
        _plain(value, exclude_unset),
        default=_encode_default,
        option=orjson.OPT_PASSTHROUGH_DATETIME,
    )


class OcpiModel(BaseModel):
    """Base of every OCPI object: unknown fields kept, assignments validated.

    OCPI 2.2.1 transport_and_format.asciidoc § Request format / § Response format (JSON
    bodies); OCPI 2.3.0 transport_and_format.asciidoc § Non-specified JSON fields.
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_unset(cls, data: Any) -> Any:
        # Tolerance (docs/ocpi-conformance.md): an optional field sent as null is not set.
        # A PATCH body (``…Patch`` models) is the exception: there null is a value, and its
        # handler tells "sent as null" from "not sent" with ``model_fields_set``.
        if cls.__name__.endswith("Patch"):
            return data
        if isinstance(data, dict) and any(v is None for v in data.values()):
            fields = cls.model_fields
            return {
                k: v
                for k, v in data.items()
                if v is not None or (k in fields and fields[k].is_required())
            }
        return data

    @classmethod
    def from_ocpi_json(cls, raw: str | bytes | bytearray) -> Self:
        """Validate a JSON body, keeping the exact text of every number."""
        return cls.model_validate(load_json(raw))

    def to_ocpi_json(self, *, exclude_unset: bool = True) -> bytes:
        """This object as OCPI JSON (see :func:`dump_json`)."""
        return dump_json(self, exclude_unset=exclude_unset)


# --- number ------------------------------------------------------------------------------

# OCPI 2.2.1 types.asciidoc § number: a JSON number (4 decimals unless stated otherwise).
# Held as Decimal; the JSON-mode fallback writes a float so pydantic's own JSON output is
# still a number (exact text needs dump_json).
Number = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    PlainSerializer(float, return_type=float, when_used="json"),
]

# --- DateTime ----------------------------------------------------------------------------

# OCPI 2.2.1 types.asciidoc § DateTime: RFC 3339, UTC, zone designator optional (absent =
# UTC), fractional seconds allowed. Offsets are accepted and converted (peers send them).
_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$", re.ASCII
)


def parse_datetime(value: object) -> datetime:
    """Parse an OCPI DateTime (or take a datetime) into an aware UTC datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        if _DATETIME_RE.match(value) is None:
            raise ValueError(f"not an OCPI DateTime (RFC 3339): {value!r}")
        # fromisoformat keeps microseconds of longer fractions and raises on second 99.
        parsed = datetime.fromisoformat(value.upper())
    else:
        raise ValueError(f"a DateTime must be a string, got {type(value).__name__}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """Format as OCPI wants it: UTC with ``Z``, at most 4 fraction digits (string(25))."""
    if value.tzinfo is None:
        raise ValueError("refusing to send a naive datetime; OCPI times are UTC")
    utc = value.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{utc.microsecond:06d}".rstrip("0")[:4]
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


DateTime = Annotated[
    datetime,
    BeforeValidator(parse_datetime),
    PlainSerializer(format_datetime, return_type=str, when_used="json"),
]

# --- string and CiString -----------------------------------------------------------------

# OCPI 2.2.1 types.asciidoc § CiString: case-insensitive, printable ASCII only.
_PRINTABLE_ASCII = r"^[\x20-\x7E]*$"
# OCPI 2.2.1 types.asciidoc § string: printable UTF-8, no CR/LF/TAB or other controls.
_PRINTABLE_UTF8 = r"^[^\p{Cc}]*$"


def _ci(length: int) -> Any:
    return StringConstraints(max_length=length, pattern=_PRINTABLE_ASCII)


def _s(length: int | None) -> Any:
    return StringConstraints(max_length=length, pattern=_PRINTABLE_UTF8)


CiString2 = Annotated[str, _ci(2)]
CiString3 = Annotated[str, _ci(3)]
CiString4 = Annotated[str, _ci(4)]
CiString5 = Annotated[str, _ci(5)]
CiString25 = Annotated[str, _ci(25)]
CiString32 = Annotated[str, _ci(32)]
CiString36 = Annotated[str, _ci(36)]
CiString39 = Annotated[str, _ci(39)]
CiString48 = Annotated[str, _ci(48)]
CiString = Annotated[str, _ci(255)]  # no length given by the spec; 255 keeps storage sane

String = Annotated[str, _s(None)]
String2 = Annotated[str, _s(2)]
String3 = Annotated[str, _s(3)]
String4 = Annotated[str, _s(4)]
String5 = Annotated[str, _s(5)]
String10 = Annotated[str, _s(10)]
String12 = Annotated[str, _s(12)]
String16 = Annotated[str, _s(16)]
String20 = Annotated[str, _s(20)]
String45 = Annotated[str, _s(45)]
String50 = Annotated[str, _s(50)]
String64 = Annotated[str, _s(64)]
String100 = Annotated[str, _s(100)]
String255 = Annotated[str, _s(255)]
String512 = Annotated[str, _s(512)]
String5000 = Annotated[str, _s(5000)]

# OCPI 2.2.1 types.asciidoc § URL: a string(255) following the w3.org URI spec.
Url = Annotated[str, StringConstraints(max_length=255, pattern=r"^\S+$")]

# The value OCPI allows in a required string field whose value truly cannot exist
# (transport_and_format.asciidoc § No data available), e.g. Session.evse_uid of a reservation.
NOT_AVAILABLE = "#NA"


def ci_key(value: str) -> str:
    """Key for a CiString: compare and index ids with this, never with the raw value."""
    return value.casefold()


def ci_equal(left: str, right: str) -> bool:
    """CiString equality (OCPI 2.2.1 types.asciidoc § CiString: case-insensitive)."""
    return ci_key(left) == ci_key(right)


def has_unique(items: Sequence[Any], *keys: str) -> bool:
    """True when no two items share the CiString-compared values of ``keys``."""
    seen = {tuple(ci_key(str(getattr(item, k))) for k in keys) for item in items}
    return len(seen) == len(items)


# --- classes and enums -------------------------------------------------------------------


class DisplayText(OcpiModel):
    """OCPI 2.2.1 types.asciidoc § DisplayText class."""

    language: String2  # ISO 639-1
    text: String512  # plain text: no markup


class Price(OcpiModel):
    """OCPI 2.2.1 types.asciidoc § Price class (replaced in 2.3.0 by before_taxes/taxes)."""

    excl_vat: Number
    incl_vat: Number | None = None


class Role(StrEnum):
    """OCPI 2.2.1 types.asciidoc § Role enum."""

    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"
