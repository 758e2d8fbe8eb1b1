"""The quote a booking carries from its creation: the CPO's reservation cost for the window
(its tariff's RESERVATION elements), the client's fee and commission, and an estimate of the
charging cost for the window beside it (not part of the price: the session decides that).

Which tariff: the booked connector's (or the EVSE's first connector's) `tariff_ids`, the
first valid at the window's start, REGULAR before ad-hoc and profile tariffs (OCPI 2.2.1
mod_tariffs.asciidoc § TariffType) — the same choice search makes (services/pricing.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.models import Tariff as TariffRow
from chargebook.domain.tariff import Tariff
from chargebook.services.catalogue import connector_power_kw
from chargebook.services.pricing import (
    Quote,
    TariffVersion,
    charging_cost,
    parsed_tariff,
    pick_tariff,
    quote,
    reservation_cost,
)

_TARIFFS = select(TariffRow).where(
    TariffRow.party_pk == bindparam("party_pk"), TariffRow.id.in_(bindparam("ids", expanding=True))
)


async def quote_booking(
    session: AsyncSession, *, party_pk: str, connectors: list[dict[str, Any]], zone_name: str | None,
    connector_id: str | None, start: datetime, end: datetime, reservation_fee: Decimal,
    commission_percent: Decimal,
) -> tuple[Quote, Decimal | None, str | None]:
    """(quote, estimated charging cost or None, tariff id or None). ``connectors`` are the
    EVSE's OCPI Connector objects, as stored with it."""
    chosen = next((c for c in connectors if connector_id is None or c.get("id") == connector_id), None)
    tariff_ids = list((chosen or {}).get("tariff_ids") or [])
    if not tariff_ids:
        return quote(Decimal(0), reservation_fee, commission_percent), None, None
    power_kw = connector_power_kw(chosen or {})
    rows = {row.id: row for row in await session.scalars(_TARIFFS, {"party_pk": party_pk, "ids": tariff_ids})}

    def known(tariff_id: str) -> tuple[TariffVersion, Tariff] | None:
        row = rows.get(tariff_id)
        if row is None:
            return None
        version = (row.pk, row.last_updated)
        terms = parsed_tariff(version, row.data)
        return None if terms is None else (version, terms)

    picked = pick_tariff(tuple(tariff_ids), known, start)
    if picked is None:
        return quote(Decimal(0), reservation_fee, commission_percent), None, None
    tariff_id, _, terms = picked
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except ZoneInfoNotFoundError:
        zone = ZoneInfo("UTC")
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    held = reservation_cost(terms, local_start, local_end)
    charging = charging_cost(terms, local_start, local_end, Decimal(str(power_kw or 11)))
    return quote(held, reservation_fee, commission_percent, terms.currency), charging, tariff_id
