"""Which models check a payload of a given OCPI version.

2.3.0 keeps 2.2.1's wire protocol; its payloads differ where types changed (Price with
taxes, Tariff ``tax_included``, new open enum values). Receivers pick the version's package.
"""

from __future__ import annotations

from decimal import Decimal
from types import ModuleType
from typing import Any

from chargebook.ocpi import v221, v230


def models(version: str | None) -> ModuleType:
    """``v230`` for 2.3.0, ``v221`` otherwise (both export the same model names)."""
    return v230 if version == "2.3.0" else v221


def price_parts(price: dict[str, Any]) -> tuple[Decimal, Decimal | None]:
    """(excl. tax, incl. tax or None) of a 2.2.1 Price (``excl_vat``/``incl_vat``) or a 2.3.0
    Price (``before_taxes`` + ``taxes[].amount``; OCPI 2.3.0 types.asciidoc § Price)."""
    if "before_taxes" in price:
        excl = Decimal(str(price["before_taxes"]))
        taxes = price.get("taxes")
        if not taxes:
            return excl, None
        return excl, excl + sum((Decimal(str(t.get("amount", 0))) for t in taxes), Decimal(0))
    incl = price.get("incl_vat")
    return Decimal(str(price["excl_vat"])), None if incl is None else Decimal(str(incl))
