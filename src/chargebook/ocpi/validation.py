"""Checking a received OCPI object against its model, as a domain error naming the field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from chargebook.domain.errors import InvalidRequest


def check(model: type[BaseModel], body: dict[str, Any], what: str) -> None:
    """Raise InvalidRequest (OCPI 2001) with the first offending field."""
    try:
        model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or what
        raise InvalidRequest(f"{what}: {field}: {first.get('msg')}") from None
