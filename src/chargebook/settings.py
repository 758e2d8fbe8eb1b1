"""One settings tree for the whole platform (prefix ``CHARGEBOOK_``).

Built once by the app factory and by the CLI, then passed down. Nothing else reads the
environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHARGEBOOK_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{Path('chargebook.db').resolve()}",
        description=(
            "Where the store lives. A SQLite file by default; a plain `postgresql://user@host/db` "
            "URL selects PostgreSQL (drivers are chosen by chargebook)."
        ),
    )
    public_url: str | None = Field(
        default=None,
        description=(
            "The base URL CPOs reach us at (our OCPI versions URL and command response_urls are "
            "built from it). Set it in production; the API falls back to the request's own "
            "address and the worker to http://127.0.0.1:8000."
        ),
    )
    max_body_bytes: int = Field(
        default=64 * 1024, description="Request bodies larger than this are refused with 400."
    )
    min_lead_minutes: int = Field(
        default=15, description="A booking window must start at least this many minutes ahead."
    )
    max_booking_horizon_days: int = Field(
        default=365, description="How far ahead a booking window may start."
    )
    no_show_grace_minutes: int = Field(
        default=15, description="After the window ends, how long to wait for a session before NO_SHOW."
    )
    ocpi_country_code: str = Field(
        default="DE", description="Our OCPI country code (ISO 3166-1 alpha-2) as an eMSP."
    )
    ocpi_party_id: str = Field(default="CBK", description="Our OCPI party id (3 characters).")
    token_issuer: str = Field(
        default="chargebook", description="The `issuer` written on tokens we issue (OCPI Token)."
    )
    command_retry_attempts: int = Field(
        default=4, description="Sends of a command to an unreachable CPO before giving up."
    )
    command_retry_base_seconds: float = Field(
        default=2.0, description="First retry delay; it doubles per attempt (capped at 60 s)."
    )
    sync_interval_minutes: int = Field(
        default=360, description="The worker pulls each connected CPO's whole catalogue this often."
    )
    db_pool_size: int = Field(default=10, description="Connections per API process (PostgreSQL).")
    redis_url: str | None = Field(
        default=None,
        description=(
            "Keep rate-limit state in Redis (`redis://host:6379/0`) instead of the database. "
            "Every API process must point at the same Redis."
        ),
    )
    redis_key_prefix: str = Field(
        default="chargebook", description="Prefix of every Redis key chargebook writes."
    )
    log_level: str = Field(default="INFO", description="Log level for structured JSON logs.")
    log_json: bool = Field(default=True, description="Emit JSON logs (False: human-readable).")
    worker_interval_seconds: float = Field(
        default=1.0, description="How often each worker loop asks 'what needs doing now?'."
    )

    def base_url(self, fallback: str = "http://127.0.0.1:8000") -> str:
        """Where CPOs reach us: ``public_url``, else ``fallback`` (a request's own address, or
        the default address of ``serve``)."""
        return (self.public_url or fallback).rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()
