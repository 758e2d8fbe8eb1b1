"""OCPI 2.3.0 Commands module (mod_commands.asciidoc).

Change from 2.2.1: CommandType is an OpenEnum with the same known values; the 2.2.1 models
are re-exported unchanged (their Token fields already take any TokenType string).
"""

from __future__ import annotations

from chargebook.ocpi.v221.commands import (
    CancelReservation,
    CommandResponse,
    CommandResponseType,
    CommandResult,
    CommandResultType,
    CommandType,
    OpenCommandType,
    ReserveNow,
    StartSession,
    StopSession,
    UnlockConnector,
)

__all__ = [
    "CancelReservation",
    "CommandResponse",
    "CommandResponseType",
    "CommandResult",
    "CommandResultType",
    "CommandType",
    "OpenCommandType",
    "ReserveNow",
    "StartSession",
    "StopSession",
    "UnlockConnector",
]
