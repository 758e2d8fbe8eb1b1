"""The client API's OpenAPI document: errors, auth and rate-limit headers in one place.

A route declares only the errors particular to it, in one line::

    @router.get("/usage", response_model=Usage, responses=errors(400), summary="...")

:func:`install` then finishes the document for every operation under ``/api/v1/``: the
answers any client endpoint can give (401, 403, 429, 503) are added, every response gets
the ``X-Request-ID`` and rate-limit headers, both auth schemes are required, and FastAPI's
422 is dropped (validation errors answer 400 here, see ``errors.py``). A new router thus
gets a correct document without knowing about any of this.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

#: Where the client API lives; the OCPI routes stay out of the document.
DOCUMENTED_PREFIX = "/api/v1/"

API_KEY_SCHEME = "ApiKeyAuth"
BEARER_SCHEME = "BearerAuth"
SECURITY: list[dict[str, list[str]]] = [{API_KEY_SCHEME: []}, {BEARER_SCHEME: []}]

API_KEY_HELP = "Your client key, e.g. `cbk_…`. Equivalent to `Authorization: Bearer <key>`."
BEARER_HELP = "Your client key as a bearer token. Equivalent to `X-API-Key: <key>`."


class Error(BaseModel):
    """Every error body: one human-readable message naming the field or rule at fault."""

    model_config = ConfigDict(title="Error", extra="allow")

    error: str = Field(
        description="What went wrong, naming the field or rule; meant for people, not for parsing.",
        examples=["reservation_start must be at least 15 minutes in the future"],
    )
    reason: str | None = Field(
        default=None,
        description="On some 409s, why, for programs: the EVSE is not available for the window "
                    "(NOT_RESERVABLE, OUT_OF_SERVICE, EVSE_IN_USE, SLOT_TAKEN, OUTSIDE_CPO_CALENDAR), "
                    "the ids match at more than one CPO (AMBIGUOUS_CPO, with `choices`), or the "
                    "external_id names another live booking (EXTERNAL_ID_IN_USE, with `booking_id`).",
        examples=["SLOT_TAKEN"],
    )


#: status → (description, example message). Routes may override the description.
ERROR_STATUSES: dict[int, tuple[str, str]] = {
    400: ("Invalid input: the message names the field or the rule that failed.",
          "reservation_start must be at least 15 minutes in the future"),
    401: ("Missing or invalid API key.", "Invalid API key"),
    403: ("The client account is suspended.", "Client account is suspended"),
    404: ("Not found, or not yours (another client's id answers exactly like an unknown one).",
          "Booking not found: 5a06797c-78e8-4671-bf0c-ad57d15aa35f"),
    409: ("Conflict with the current state.", "EVSE not available for the requested time"),
    429: ("Rate limit or monthly quota exceeded; retry after `Retry-After` seconds.",
          "Rate limit exceeded. Retry after 45 seconds."),
    503: ("The database is busy; nothing was applied. Retry after `Retry-After` seconds.",
          "The database is busy; retry shortly"),
}

#: Answers any authenticated client endpoint can give, whatever the route declares.
ALWAYS = (401, 403, 429, 503)

REQUEST_ID_HEADER = {
    "description": "Your `X-Request-ID` if it was sane (1–64 of `A–Z a–z 0–9 . _ : -`), else "
                   "one made for this request. Quote it in a support request.",
    "required": True,
    "schema": {"type": "string", "example": "9f2c1d0e8b7a6543"},
}
RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "X-RateLimit-Limit": {
        "description": "Your per-minute limit: requests allowed in any 60 seconds (always the "
                       "minute, never the monthly quota: that is `X-Quota-*`).",
        "schema": {"type": "integer", "minimum": 0, "example": 100},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the sliding minute, after this one.",
        "schema": {"type": "integer", "minimum": 0, "example": 87},
    },
    "X-RateLimit-Reset": {
        "description": "When `X-RateLimit-Remaining` next goes up: your oldest request of the "
                       "last minute turns 60 s old (ISO 8601, UTC).",
        "schema": {"type": "string", "format": "date-time", "example": "2026-11-24T20:03:00Z"},
    },
    "X-Quota-Limit": {
        "description": "Your monthly quota: requests allowed per calendar month (UTC).",
        "schema": {"type": "integer", "minimum": 0, "example": 10000},
    },
    "X-Quota-Remaining": {
        "description": "Requests left this month, after this one.",
        "schema": {"type": "integer", "minimum": 0, "example": 9998},
    },
    "X-Quota-Reset": {
        "description": "When the quota starts again: 00:00 UTC on the 1st of next month.",
        "schema": {"type": "string", "format": "date-time", "example": "2026-12-01T00:00:00Z"},
    },
}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 0, "example": 45},
}


def errors(
    *statuses: int, notes: dict[int, str] | None = None, examples: dict[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries for a route's own error statuses, with the ``Error`` body.

    ``notes`` replaces the generic description of a status with what it means on this route,
    ``examples`` the generic example message with one this route really gives.
    401, 403, 429 and 503 need not be listed: :func:`install` adds them to every client route.
    """
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description, example = ERROR_STATUSES[status]
        out[status] = {
            "model": Error,
            "description": (notes or {}).get(status, description),
            "content": {"application/json": {"example": {"error": (examples or {}).get(status, example)}}},
        }
    return out


def csv_response(description: str, example: str) -> dict[int | str, dict[str, Any]]:
    """A 200 whose body is a CSV file (``text/csv``)."""
    return {200: {"description": description,
                  "content": {"text/csv": {"schema": {"type": "string"}, "example": example}}}}


def _error_response(status: int) -> dict[str, Any]:
    description, example = ERROR_STATUSES[status]
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"},
                                         "example": {"error": example}}},
    }


def _finish_operation(op: dict[str, Any]) -> None:
    responses = op.setdefault("responses", {})
    responses.pop("422", None)
    for status in ALWAYS:
        responses.setdefault(str(status), _error_response(status))
    op["security"] = SECURITY
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers.setdefault("X-Request-ID", REQUEST_ID_HEADER)
        for name, header in RATE_LIMIT_HEADERS.items():
            headers.setdefault(name, header)
        if status in ("429", "503"):
            headers.setdefault("Retry-After", {**RETRY_AFTER_HEADER, "required": True})


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """Apply the client API's shared conventions to a generated document (in place)."""
    for path, operations in document.get("paths", {}).items():
        for op in operations.values():
            if path.startswith(DOCUMENTED_PREFIX):
                _finish_operation(op)
            else:  # operational endpoints (health) need no key
                op.get("responses", {}).pop("422", None)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.setdefault("Error", Error.model_json_schema())
    components["securitySchemes"] = {
        API_KEY_SCHEME: {"type": "apiKey", "in": "header", "name": "X-API-Key",
                         "description": API_KEY_HELP},
        BEARER_SCHEME: {"type": "http", "scheme": "bearer", "description": BEARER_HELP},
    }
    return document


def install(app: FastAPI, tags: list[dict[str, Any]]) -> None:
    """Serve the finished document at ``/openapi.json`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = finish(get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes, tags=tags,
            ))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
