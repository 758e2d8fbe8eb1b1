"""The one exception tree of the platform.

``DomainError``
    ``InvalidRequest``   the caller sent something the rules refuse (400)
        ``SpendingLimitExceeded``
        ``NotCancellable``
    ``NotFound``         the thing does not exist for this caller (404)
    ``Conflict``         the request collides with the current state (409)
        ``NotAvailable``  the EVSE cannot be booked for the window; ``reason`` says why
            ``SlotTaken``
            ``EvseNotBookable``
        ``AmbiguousEvse``
        ``DuplicateExternalId``
        ``UidTaken``
        ``AlreadyRegistered``
    ``IllegalTransition`` a lifecycle event that the table does not allow (409)
    ``Unauthenticated``  no or unknown credentials (401)
    ``Forbidden``        known credentials, not allowed now (403)
    ``RateLimited``      the client's minute limit or monthly quota refuses it (429)
    ``Unavailable``      a dependency is busy; retry later (503)

Adapters map each class to one response, in one table each (``api/errors.py``). An error may
carry machine-readable fields beside its message (:meth:`DomainError.fields`); the client API
adds them to its ``{"error": ...}`` body.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class DomainError(Exception):
    """Base of every error the platform raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def fields(self) -> dict[str, Any]:
        """Machine-readable details that travel beside the message (none by default)."""
        return {}


class InvalidRequest(DomainError):
    """The request breaks a rule; the message names the offending field."""


class SpendingLimitExceeded(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("Fleet group spending limit exceeded")


class NotCancellable(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("Booking cannot be cancelled in current state")


class NotFound(DomainError):
    """Unknown id, or an id that belongs to another client (never say which)."""


class Conflict(DomainError):
    """The request is valid but collides with the current state."""


class Unavailability(StrEnum):
    """Why an EVSE cannot be booked for a window: the ``reason`` of a 409."""

    NOT_RESERVABLE = "NOT_RESERVABLE"  # the EVSE lacks OCPI's RESERVABLE capability
    OUT_OF_SERVICE = "OUT_OF_SERVICE"  # INOPERATIVE, OUTOFORDER, PLANNED or REMOVED
    EVSE_IN_USE = "EVSE_IN_USE"  # not AVAILABLE now, and the request to the CPO goes out now
    SLOT_TAKEN = "SLOT_TAKEN"  # a live booking overlaps the window
    OUTSIDE_CPO_CALENDAR = "OUTSIDE_CPO_CALENDAR"  # no available timeslot of the CPO holds it


class NotAvailable(Conflict):
    """The EVSE cannot be booked for the requested window, for the ``reason`` given."""

    def __init__(self, message: str, reason: Unavailability = Unavailability.SLOT_TAKEN) -> None:
        super().__init__(message)
        self.reason = reason

    def fields(self) -> dict[str, Any]:
        return {"reason": self.reason.value}


class SlotTaken(NotAvailable):
    def __init__(self, reason: Unavailability = Unavailability.SLOT_TAKEN) -> None:
        super().__init__("EVSE not available for the requested time", reason)


class EvseNotBookable(NotAvailable):
    """The EVSE exists but cannot be booked at all (out of service, not reservable)."""

    def __init__(self, message: str, reason: Unavailability = Unavailability.OUT_OF_SERVICE) -> None:
        super().__init__(message, reason)


class AmbiguousEvse(Conflict):
    """An OCPI id that more than one CPO uses, sent without the CPO: never resolved silently."""

    def __init__(self, message: str, choices: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.choices = choices or []

    def fields(self) -> dict[str, Any]:
        return {"reason": "AMBIGUOUS_CPO", "choices": self.choices}


class DuplicateExternalId(Conflict):
    """The external_id names a live booking of the client that was made with another body."""

    def __init__(self, external_id: str, booking_id: str | None = None) -> None:
        where = f" {booking_id}" if booking_id else ""
        super().__init__(
            f"external_id {external_id!r} is in use by live booking{where} with a different "
            "request; cancel it or wait until it has ended to reuse the external_id"
        )
        self.booking_id = booking_id

    def fields(self) -> dict[str, Any]:
        return {"reason": "EXTERNAL_ID_IN_USE", "booking_id": self.booking_id}


class UidTaken(Conflict):
    """A token UID in use (by this client or another): one answer, never saying whose."""

    def __init__(self, uid: str) -> None:
        super().__init__(f"uid {uid!r} cannot be issued: it is in use; use another card or leave "
                         "uid out to have one generated")


class AlreadyRegistered(Conflict):
    """An OCPI party POSTs credentials again (credentials.asciidoc: answer 405)."""


class IdentityTaken(AlreadyRegistered):
    """Credentials name a party identity (country code, party id) that another connection
    holds: registering it again would take that party over (answered like a second POST)."""


class IdentityMismatch(InvalidRequest):
    """Credentials name a party identity the presenting token was not issued for: an invite
    for another party, or a PUT that would move the caller onto another party's identity."""


class IllegalTransition(DomainError):
    """A (state, event) pair the lifecycle table does not allow."""


class Unauthenticated(DomainError):
    pass


class Forbidden(DomainError):
    pass


class RateLimited(DomainError):
    """The client's per-minute limit or monthly quota refuses this request; retry later."""

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    """A dependency (the database) is busy or unreachable; retrying later may succeed."""

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
