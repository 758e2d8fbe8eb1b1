"""OCPI 2.2.1 Commands module: models and enums (mod_commands.asciidoc).

chargebook is the Sender: it POSTs a command object to ``{commands_url}/{CommandType}``,
gets a CommandResponse back at once, and later receives a CommandResult on the
``response_url`` it chose. OCPI never retries a CommandResult: honour
``CommandResponse.timeout``. Spec: branch ``release-2.2.1-bugfixes``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from chargebook.ocpi.v221.tokens import Token
from chargebook.ocpi.v221.types import CiString36, DateTime, DisplayText, OcpiModel, String255, Url


class CommandResponseType(StrEnum):
    """OCPI 2.2.1 mod_commands.asciidoc § CommandResponseType enum."""

    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResultType(StrEnum):
    """OCPI 2.2.1 mod_commands.asciidoc § CommandResultType enum."""

    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


class CommandType(StrEnum):
    """OCPI 2.2.1 mod_commands.asciidoc § CommandType enum (OpenEnum in 2.3.0).

    UNLOCK_CONNECTOR is for help-desk operators only; a driver SHALL never trigger it.
    """

    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


OpenCommandType = Annotated[CommandType | String255, Field(union_mode="left_to_right")]


class CommandResponse(OcpiModel):
    """OCPI 2.2.1 mod_commands.asciidoc § CommandResponse Object (synchronous answer)."""

    result: CommandResponseType
    timeout: int = Field(ge=0)  # s; no CommandResult after this means none will come
    message: list[DisplayText] | None = None


class CommandResult(OcpiModel):
    """OCPI 2.2.1 mod_commands.asciidoc § CommandResult Object (POSTed to response_url)."""

    result: CommandResultType
    message: list[DisplayText] | None = None


class CancelReservation(OcpiModel):
    """OCPI 2.2.1 mod_commands.asciidoc § CancelReservation Object."""

    response_url: Url
    reservation_id: CiString36


class ReserveNow(OcpiModel):
    """OCPI 2.2.1 mod_commands.asciidoc § ReserveNow Object.

    Keep ``response_url`` alive until the reservation ends: a CPO cancellation arrives there
    later as CommandResult CANCELED_RESERVATION.
    """

    response_url: Url
    token: Token
    expiry_date: DateTime
    reservation_id: CiString36
    location_id: CiString36
    evse_uid: CiString36 | None = None
    authorization_reference: CiString36 | None = None


class StartSession(OcpiModel):
    """OCPI 2.2.1 mod_commands.asciidoc § StartSession Object.

    ``connector_id`` is required when the EVSE has START_SESSION_CONNECTOR_REQUIRED (a rule
    about the Location, checked by the caller, not here).
    """

    response_url: Url
    token: Token
    location_id: CiString36
    evse_uid: CiString36 | None = None
    connector_id: CiString36 | None = None
    authorization_reference: CiString36 | None = None

    @model_validator(mode="after")
    def _connector_needs_evse(self) -> StartSession:
        # evse_uid: "Required when connector_id is set."
        if self.connector_id is not None and self.evse_uid is None:
            raise ValueError("evse_uid is required when connector_id is set")
        return self


class StopSession(OcpiModel):
    """OCPI 2.2.1 mod_commands.asciidoc § StopSession Object."""

    response_url: Url
    session_id: CiString36


class UnlockConnector(OcpiModel):
    """OCPI 2.2.1 mod_commands.asciidoc § UnlockConnector Object."""

    response_url: Url
    location_id: CiString36
    evse_uid: CiString36
    connector_id: CiString36
