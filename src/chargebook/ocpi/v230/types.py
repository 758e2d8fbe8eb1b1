"""OCPI 2.3.0 common types (types.asciidoc): what changed from 2.2.1, plus re-exports.

Spec: branch ``2.3.0/release/bookings`` of ocpi/ocpi (2.3.0 core edition 1 + Bookings 1.1),
compared with tag ``v2.3.0``; the types file is identical on both.

Changes from 2.2.1:

* Price is ``{before_taxes, taxes: TaxAmount[*]}`` instead of ``{excl_vat, incl_vat}``.
* Role no longer has ``HUB``: a 2.3.0 Hub lists the parties it reaches in ``roles``.
* The ``OpenEnum`` type is defined (2.2.1 models already accept unknown values for the
  enums 2.3.0 opens; see ``v221/locations.py``).
"""

from __future__ import annotations

from enum import StrEnum

from chargebook.ocpi.v221.types import (
    NOT_AVAILABLE,
    CiString,
    CiString2,
    CiString3,
    CiString4,
    CiString5,
    CiString25,
    CiString32,
    CiString36,
    CiString39,
    CiString48,
    DateTime,
    DisplayText,
    Number,
    OcpiModel,
    String,
    String2,
    String3,
    String4,
    String5,
    String10,
    String12,
    String16,
    String20,
    String45,
    String50,
    String64,
    String100,
    String255,
    String512,
    String5000,
    Url,
    ci_equal,
    ci_key,
    dump_json,
    format_datetime,
    has_unique,
    load_json,
    parse_datetime,
)


class TaxAmount(OcpiModel):
    """OCPI 2.3.0 types.asciidoc § TaxAmount class."""

    name: String  # e.g. "VAT", or a named tax like "QST" where the law wants the name
    account_number: String | None = None
    percentage: Number | None = None
    amount: Number


class Price(OcpiModel):
    """OCPI 2.3.0 types.asciidoc § Price class (replaces 2.2.1 excl_vat/incl_vat)."""

    before_taxes: Number
    taxes: list[TaxAmount] | None = None


class Role(StrEnum):
    """OCPI 2.3.0 types.asciidoc § Role enum (2.2.1 minus ``HUB``)."""

    CPO = "CPO"
    EMSP = "EMSP"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


__all__ = [
    "NOT_AVAILABLE",
    "CiString",
    "CiString2",
    "CiString3",
    "CiString4",
    "CiString5",
    "CiString25",
    "CiString32",
    "CiString36",
    "CiString39",
    "CiString48",
    "DateTime",
    "DisplayText",
    "Number",
    "OcpiModel",
    "Price",
    "Role",
    "String",
    "String2",
    "String3",
    "String4",
    "String5",
    "String10",
    "String12",
    "String16",
    "String20",
    "String45",
    "String50",
    "String64",
    "String100",
    "String255",
    "String512",
    "String5000",
    "TaxAmount",
    "Url",
    "ci_equal",
    "ci_key",
    "dump_json",
    "format_datetime",
    "has_unique",
    "load_json",
    "parse_datetime",
]
