"""The quote a booking carries from its creation: the one estimate (``services/estimates.py``)
that search showed for the same EVSE and window, read from the tariffs the EVSE's connectors
name. One query, and only when a connector names a tariff.
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
from chargebook.ocpi.v221.types import ci_key
from chargebook.services.catalogue import connector_power_kw
from chargebook.services.estimates import ConnectorTerms, Estimate, estimate_evse
from chargebook.services.pricing import TariffVersion, parsed_tariff

_TARIFFS = select(TariffRow).where(
    TariffRow.party_pk == bindparam("party_pk"), TariffRow.id.in_(bindparam("ids", expanding=True))
)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def quote_booking(
    session: AsyncSession, *, party_pk: str, connectors: list[dict[str, Any]], zone_name: str | None,
    connector_id: str | None, start: datetime, end: datetime, reservation_fee: Decimal,
    commission_percent: Decimal,
) -> Estimate:
    """The estimate for booking this EVSE (its stored OCPI Connector objects) for [start, end),
    for ``connector_id`` when one is asked for."""
    terms = [ConnectorTerms.of(c, connector_power_kw(c)) for c in connectors]
    wanted = [t for t in terms if connector_id is None or ci_key(t.connector_id) == ci_key(connector_id)]
    tariff_ids = sorted({tariff_id for t in wanted for tariff_id in t.tariff_ids})
    rows: dict[str, TariffRow] = {}
    if tariff_ids:
        rows = {ci_key(row.id): row for row in await session.scalars(
            _TARIFFS, {"party_pk": party_pk, "ids": tariff_ids})}

    def known(tariff_id: str) -> tuple[TariffVersion, Tariff] | None:
        row = rows.get(ci_key(tariff_id))  # tariff ids are CiStrings
        if row is None or row.currency != "EUR":
            return None
        version = (row.pk, row.last_updated)
        parsed = parsed_tariff(version, row.data)
        return None if parsed is None else (version, parsed)

    zone = _zone(zone_name)
    return estimate_evse(wanted, known, (start, end), (start.astimezone(zone), end.astimezone(zone)),
                         reservation_fee, commission_percent, connector_id)
