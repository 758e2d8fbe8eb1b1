"""The simulator's two tariffs, the ones the generated catalogue's connectors point at.

OCPI 2.2.1 mod_tariffs.asciidoc § Tariff Object. German-style prices in EUR with 19 % VAT:

* ``AC-STD``: 0.45 €/kWh, and 3.00 €/h parked after charging (billed per 5 minutes);
* ``DC-STD``: 0.35 € start fee, 0.59 €/kWh, 0.60 €/h charging (per minute), 9.00 €/h parked
  (per minute).

Both price reservations, so a booking costs something even before charging (the spec's
reservation elements, examples 15–18): a RESERVATION element prices the time held (and a
fee), a RESERVATION_EXPIRES element adds a no-show fee. Reservation elements come first and
hold only FLAT and TIME, as the spec requires; the tariff engine keeps reservation and
session elements apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chargebook.ocpi.v221 import Tariff

AC_TARIFF_ID = "AC-STD"
DC_TARIFF_ID = "DC-STD"
VAT = "19.0"


def _component(kind: str, price: str, step_size: int = 1) -> dict[str, Any]:
    return {"type": kind, "price": price, "vat": VAT, "step_size": step_size}


def _reservation(fee: str, per_hour: str, no_show_fee: str) -> list[dict[str, Any]]:
    held = [_component("TIME", per_hour, 60)]
    if fee != "0":
        held.insert(0, _component("FLAT", fee))
    return [
        {"price_components": held, "restrictions": {"reservation": "RESERVATION"}},
        {
            "price_components": [_component("FLAT", no_show_fee)],
            "restrictions": {"reservation": "RESERVATION_EXPIRES"},
        },
    ]


def _alt_text(english: str, german: str) -> list[dict[str, str]]:
    return [{"language": "en", "text": english}, {"language": "de", "text": german}]


def tariff_dicts(
    country_code: str, party_id: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The tariffs as OCPI JSON objects (strings for numbers, so they stay exact)."""
    stamp = (now or datetime(2026, 1, 1, tzinfo=UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ac = {
        "country_code": country_code,
        "party_id": party_id,
        "id": AC_TARIFF_ID,
        "currency": "EUR",
        "tariff_alt_text": _alt_text(
            "0.45 EUR/kWh excl. VAT; 3.00 EUR/h when parked after charging. Reservations: "
            "0.50 EUR + 1.20 EUR/h; 3.00 EUR if unused.",
            "0,45 EUR/kWh zzgl. MwSt.; 3,00 EUR/h Parken nach dem Laden. Reservierung: "
            "0,50 EUR + 1,20 EUR/h; 3,00 EUR bei Nichterscheinen.",
        ),
        "elements": [
            *_reservation("0.50", "1.20", "3.00"),
            {
                "price_components": [
                    _component("ENERGY", "0.45"),
                    _component("PARKING_TIME", "3.00", 300),
                ]
            },
        ],
        "last_updated": stamp,
    }
    dc = {
        "country_code": country_code,
        "party_id": party_id,
        "id": DC_TARIFF_ID,
        "currency": "EUR",
        "tariff_alt_text": _alt_text(
            "0.35 EUR start, 0.59 EUR/kWh, 0.60 EUR/h charging, 9.00 EUR/h parked, excl. VAT. "
            "Reservations: 2.40 EUR/h; 5.00 EUR if unused.",
            "0,35 EUR Start, 0,59 EUR/kWh, 0,60 EUR/h Laden, 9,00 EUR/h Parken, zzgl. MwSt. "
            "Reservierung: 2,40 EUR/h; 5,00 EUR bei Nichterscheinen.",
        ),
        "elements": [
            *_reservation("0", "2.40", "5.00"),
            {
                "price_components": [
                    _component("FLAT", "0.35"),
                    _component("ENERGY", "0.59"),
                    _component("TIME", "0.60", 60),
                    _component("PARKING_TIME", "9.00", 60),
                ]
            },
        ],
        "last_updated": stamp,
    }
    return [ac, dc]


def standard_tariffs(country_code: str, party_id: str, now: datetime | None = None) -> list[Tariff]:
    """The tariffs as validated OCPI 2.2.1 models (numbers kept as exact Decimals)."""
    return [Tariff.model_validate(t) for t in tariff_dicts(country_code, party_id, now)]
