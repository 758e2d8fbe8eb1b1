"""The simulator's objects in the eMSP's OCPI version.

The simulator builds its Tariffs, Sessions and CDRs as OCPI 2.2.1 models (and prices them
with the tariff engine, which reads 2.2.1). A peer registered on 2.3.0 gets them converted
here, at the edge: the only wire differences for these modules are the taxes
(OCPI 2.3.0 types.asciidoc § Price, mod_tariffs.asciidoc § Tariff ``tax_included``) and the
CDR's ``booking_id`` (Bookings 1.1 mod_cdrs.asciidoc). Locations, Tokens and Commands are
the same on the wire (2.3.0 only adds optional fields and OpenEnum values), so they pass as
they are.

Conversion rules (decisions, see docs/cpo-simulator.md):

* ``Price{excl_vat, incl_vat}`` → ``Price{before_taxes: excl_vat, taxes: [{name: "VAT",
  percentage, amount: incl_vat − excl_vat}]}``; without ``incl_vat`` there is no tax line.
* Our tariff prices exclude VAT, so ``tax_included: "NO"``; ``min_price``/``max_price``
  become PriceLimit ``{before_taxes, after_taxes}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from chargebook.cpo_sim.simulator import V230
from chargebook.ocpi import v221, v230

#: The VAT rate of the simulator's tariffs (tariffs.py), named in 2.3.0 tax lines.
VAT_PERCENT = Decimal("19.0")

_COSTS = (
    "total_cost",
    "total_fixed_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_reservation_cost",
)


def price(value: dict[str, Any]) -> dict[str, Any]:
    """A 2.2.1 Price (as data) in 2.3.0's shape."""
    excl = Decimal(value["excl_vat"])
    out: dict[str, Any] = {"before_taxes": excl}
    if value.get("incl_vat") is not None:
        amount = Decimal(value["incl_vat"]) - excl
        out["taxes"] = [{"name": "VAT", "percentage": VAT_PERCENT, "amount": amount}]
    return out


def _price_limit(value: dict[str, Any]) -> dict[str, Any]:
    limit: dict[str, Any] = {"before_taxes": value["excl_vat"]}
    if value.get("incl_vat") is not None:
        limit["after_taxes"] = value["incl_vat"]
    return limit


def _dump(model: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="python", exclude_unset=True)
    return data


def tariff(t: v221.Tariff) -> v230.Tariff:
    data = _dump(t)
    data["tax_included"] = "NO"
    for limit in ("min_price", "max_price"):
        if data.get(limit) is not None:
            data[limit] = _price_limit(data[limit])
    return v230.Tariff.model_validate(data)


def _costs(data: dict[str, Any]) -> dict[str, Any]:
    for field in _COSTS:
        if data.get(field) is not None:
            data[field] = price(data[field])
    return data


def session(s: v221.Session) -> v230.Session:
    return v230.Session.model_validate(_costs(_dump(s)))


def session_patch(p: v221.SessionPatch) -> v230.SessionPatch:
    return v230.SessionPatch.model_validate(_costs(_dump(p)))


def cdr(c: v221.CDR, booking_id: str | None = None) -> v230.CDR:
    data = _costs(_dump(c))
    data["tariffs"] = [_dump(tariff(t)) for t in c.tariffs or []] or None
    if data["tariffs"] is None:
        del data["tariffs"]
    if booking_id is not None:
        data["booking_id"] = booking_id
    return v230.CDR.model_validate(data)


def for_version(version: str, obj: Any, *, booking_id: str | None = None) -> Any:
    """``obj`` (a 2.2.1 model, or a list of them) as the peer on ``version`` expects it."""
    if version != V230:
        return obj
    if isinstance(obj, list):
        return [for_version(version, item) for item in obj]
    if isinstance(obj, v221.Tariff):
        return tariff(obj)
    if isinstance(obj, v221.CDR):
        return cdr(obj, booking_id)
    if isinstance(obj, v221.Session):
        return session(obj)
    if isinstance(obj, v221.SessionPatch):
        return session_patch(obj)
    return obj
