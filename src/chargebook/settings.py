"""One settings tree for the whole platform (prefix ``CHARGEBOOK_``).

Built once by the app factory and by the CLI, then passed down. Nothing else reads the
environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
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
        default=64 * 1024,
        description="Client API request bodies larger than this are refused with 400 (see "
        "ocpi_max_body_bytes for /ocpi).",
    )
    ocpi_max_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        description=(
            "Request bodies to our OCPI endpoints (/ocpi) larger than this are refused with HTTP "
            "413 and OCPI status 2001. CDRs with many charging periods and big charging hubs "
            "exceed the client API's limit."
        ),
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
    command_send_timeout_seconds: float = Field(
        default=15.0,
        description=(
            "How long a send waits for the CPO's CommandResponse. A worker that dies mid-send "
            "leaves its commands leased for this plus 5 s; then another worker sends them."
        ),
    )
    sync_interval_minutes: int = Field(
        default=360, description="The worker pulls each connected CPO's whole catalogue this often."
    )
    booking_poll_seconds: float = Field(
        default=15.0,
        description="OCPI 2.3.0 Bookings: how often to ask a CPO about bookings it holds PENDING or "
        "RESERVED (pushes may be lost); its answer timeout is the party's command timeout.",
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
    webhook_max_attempts: int = Field(
        default=15, ge=1,
        description="POSTs of one webhook delivery before it is given up (with the default backoff, about a day).",
    )
    webhook_backoff_seconds: float = Field(
        default=10.0, gt=0,
        description="Wait after a webhook delivery's first failed attempt; it doubles per attempt (capped at 6 h), ±20% jitter.",
    )
    webhook_allow_private_networks: bool = Field(
        default=False,
        description=(
            "Let webhooks reach loopback, private, link-local and other non-public addresses. "
            "Off by default: a tenant's webhook URL must not reach inside the operator's network "
            "(checked at registration and at every delivery, after DNS). `chargebook demo` turns "
            "it on because its receivers run on loopback."
        ),
    )
    worker_interval_seconds: float = Field(
        default=1.0, description="How often each worker loop asks 'what needs doing now?'."
    )
    worker_heartbeat_stale_seconds: float | None = Field(
        default=None,
        description=(
            "A worker heartbeat older than this is stale (`/readyz` reports it; it fails only "
            "with readiness_requires_worker). Default: 5 × worker_interval_seconds, at least 30 s."
        ),
    )
    readiness_requires_worker: bool = Field(
        default=False,
        description=(
            "True: `/readyz` also answers 503 while no worker heartbeat is fresh. By default "
            "readiness is about this API process only (database reachable, schema current): "
            "a worker outage is reported in `/readyz`'s body and in `/metrics`, and new "
            "bookings wait in REQUESTED until a worker returns."
        ),
    )
    log_requests: bool = Field(
        default=True, description="Log one line per HTTP request (method, route, status, duration)."
    )
    console_secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Signs console cookies and CSRF tokens. Unset: a random key is made once and kept in "
            "the database, so every API process shares it. Changing it logs everyone out."
        ),
    )
    console_session_idle_minutes: int = Field(
        default=120, ge=1, description="A console session ends after this long without a request."
    )
    console_session_max_hours: int = Field(
        default=12, ge=1, description="A console session ends this long after login, however busy."
    )
    console_login_max_failures: int = Field(
        default=5, ge=1,
        description="Failed console logins for one email within the window before further tries "
        "are refused (an address gets 4 times as many, over all emails).",
    )
    console_login_window_minutes: int = Field(
        default=15, ge=1, description="The window in which failed console logins are counted."
    )

    def worker_stale_after(self) -> float:
        """Seconds after which a worker heartbeat no longer counts as fresh."""
        if self.worker_heartbeat_stale_seconds is not None:
            return self.worker_heartbeat_stale_seconds
        return max(30.0, 5 * self.worker_interval_seconds)

    def base_url(self, fallback: str = "http://127.0.0.1:8000") -> str:
        """Where CPOs reach us: ``public_url``, else ``fallback`` (a request's own address, or
        the default address of ``serve``)."""
        return (self.public_url or fallback).rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()
