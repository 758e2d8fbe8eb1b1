"""Wire conventions: UTC timestamps with a `Z`, money as a JSON number in major units."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import PlainSerializer
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
