"""OCPI 2.2.1 response envelope and status codes.

Spec: branch ``release-2.2.1-bugfixes``, transport_and_format.asciidoc § Response format
and status_codes.asciidoc. Unchanged in 2.3.0.

``data`` is an object, a list or absent. When the spec does not say what ``data`` holds
(e.g. the answer to a Session PUT) the errata advise: send it unset, accept anything.
When ``status_code`` is not 1xxx, ``data`` is unspecified, so read an unknown answer as
``Envelope[Any]`` first, check ``status_code``, then validate ``data`` as the model.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Generic, TypeVar

from pydantic import Field

from chargebook.ocpi.v221.types import DateTime, OcpiModel, String

DataT = TypeVar("DataT")


class StatusCode(IntEnum):
    """OCPI 2.2.1 status_codes.asciidoc: the standard codes (x9xx ranges are custom)."""

    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_OR_MISSING_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003
    HUB_ERROR = 4000
    UNKNOWN_RECEIVER = 4001
    TIMEOUT_ON_FORWARDED_REQUEST = 4002
    CONNECTION_PROBLEM = 4003


class Envelope(OcpiModel, Generic[DataT]):
    """OCPI 2.2.1 transport_and_format.asciidoc § Response format.

    ``Envelope[Token]``, ``Envelope[list[Location]]``, ``Envelope[None]`` (no data).
    """

    data: DataT | None = None
    status_code: int = Field(ge=1000, le=9999)  # four digits, unlike HTTP codes
    status_message: String | None = None
    timestamp: DateTime

    @property
    def is_success(self) -> bool:
        """1xxx codes mean success (1000 generic, 1900-1999 custom)."""
        return 1000 <= self.status_code < 2000
