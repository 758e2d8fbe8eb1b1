"""The quote a booking carries from its creation: the CPO's reservation cost for the window
(its tariff's RESERVATION elements), the client's fee and commission, and an estimate of the
charging cost for the window beside it (not part of the price: the session decides that).

Which tariff: the booked connector's (or the EVSE's first connector's) `tariff_ids`, the
first valid at the window's start, REGULAR before ad-hoc and profile tariffs (OCPI 2.2.1
mod_tariffs.asciidoc § TariffType). Parsed tariffs are kept per (row, last_updated).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.models import Tariff as TariffRow
from chargebook.domain.tariff import Tariff, parse_tariff
from chargebook.domain.tariff_model import TariffType
from chargebook.services.catalogue import connector_power_kw
from chargebook.services.pricing import Quote, charging_cost, quote, reservation_cost

_TARIFFS = select(TariffRow).where(
    TariffRow.party_pk == bindparam("party_pk"), TariffRow.id.in_(bindparam("ids", expanding=True))
)
_PARSED: dict[tuple[int, datetime], Tariff | None] = {}


def _parsed(row: TariffRow) -> Tariff | None:
    key = (row.pk, row.last_updated)
    if key not in _PARSED:
        if len(_PARSED) > 10_000:
            _PARSED.clear()
        try:
            _PARSED[key] = parse_tariff(row.data)
        except Exception:  # a tariff we cannot read prices nothing
            _PARSED[key] = None
    return _PARSED[key]


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
    tariffs = {row.id: row for row in await session.scalars(_TARIFFS, {"party_pk": party_pk, "ids": tariff_ids})}
    best: tuple[tuple[bool, int], str, Tariff] | None = None
    for index, tariff_id in enumerate(tariff_ids):
        row = tariffs.get(tariff_id)
        terms = _parsed(row) if row is not None else None
        if terms is None or not terms.is_valid_at(start):
            continue
        rank = (terms.type not in (None, TariffType.REGULAR), index)
        if best is None or rank < best[0]:
            best = (rank, tariff_id, terms)
    if best is None:
        return quote(Decimal(0), reservation_fee, commission_percent), None, None
    _, tariff_id, terms = best
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except ZoneInfoNotFoundError:
        zone = ZoneInfo("UTC")
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    held = reservation_cost(terms, local_start, local_end)
    charging = charging_cost(terms, local_start, local_end, Decimal(str(power_kw or 11)))
    return quote(held, reservation_fee, commission_percent, terms.currency), charging, tariff_id
