"""Wire conventions: UTC timestamps with a `Z`, money as a JSON number in major units."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import BeforeValidator, PlainSerializer
from starlette.responses import Response

# Shared with webhook payloads (services/wire.py), re-exported here for the routers.
from chargebook.services.wire import iso_z, money_number, money_or_none, time_or_none

__all__ = ["JSON", "WireMoney", "WireTime", "iso_z", "money_number", "money_or_none", "time_or_none"]


class JSON(Response):
    """orjson-encoded JSON. Endpoints on hot paths return this with a ready dict, so FastAPI
    does not validate and serialize the response model a second time; the model still
    documents the response, and tests hold the two together."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


WireTime = Annotated[datetime, PlainSerializer(iso_z, return_type=str)]
WireMoney = Annotated[Decimal, PlainSerializer(money_number, return_type=float)]


_ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")


def _iso_8601(value: Any) -> Any:
    """Refuse what pydantic would otherwise read as a Unix timestamp (`0.5`, `1700000000`):
    the API documents ISO 8601, and a number silently meaning 1970 hides a client's bug."""
    if isinstance(value, datetime | date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("Input should be an ISO 8601 date or date-time, e.g. 2026-02-10T14:00:00Z")


#: A date or date-time input written in ISO 8601 (never a number).
Iso8601 = BeforeValidator(_iso_8601)
