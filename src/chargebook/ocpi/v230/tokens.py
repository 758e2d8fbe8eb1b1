"""OCPI 2.3.0 Tokens module (mod_tokens.asciidoc).

Change from 2.2.1: TokenType is an OpenEnum and gains ``EMAID`` (ISO 15118 Plug & Charge).
The eMSP is RECOMMENDED not to push EMAID tokens; the CPO authorizes them in real time.
The 2.2.1 models already take any TokenType string, so they are re-exported unchanged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from chargebook.ocpi.v221.tokens import (
    AllowedType,
    AuthorizationInfo,
    EnergyContract,
    LocationReferences,
    ProfileType,
    Token,
    TokenPatch,
    WhitelistType,
)
from chargebook.ocpi.v230.types import String255


class TokenType(StrEnum):
    """OCPI 2.3.0 mod_tokens.asciidoc § TokenType OpenEnum (2.2.1 + EMAID)."""

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    EMAID = "EMAID"
    OTHER = "OTHER"
    RFID = "RFID"


OpenTokenType = Annotated[TokenType | String255, Field(union_mode="left_to_right")]

__all__ = [
    "AllowedType",
    "AuthorizationInfo",
    "EnergyContract",
    "LocationReferences",
    "OpenTokenType",
    "ProfileType",
    "Token",
    "TokenPatch",
    "TokenType",
    "WhitelistType",
]
