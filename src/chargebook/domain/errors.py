"""The one exception tree of the platform.

``DomainError``
    ``InvalidRequest``   the caller sent something the rules refuse (400)
        ``SpendingLimitExceeded``
        ``NotCancellable``
    ``NotFound``         the thing does not exist for this caller (404)
    ``Conflict``         the request collides with the current state (409)
        ``SlotTaken``
        ``EvseNotBookable``
        ``DuplicateExternalId``
        ``AlreadyRegistered``
    ``IllegalTransition`` a lifecycle event that the table does not allow (409)
    ``Unauthenticated``  no or unknown credentials (401)
    ``Forbidden``        known credentials, not allowed now (403)
    ``RateLimited``      the client's minute limit or monthly quota refuses it (429)
    ``Unavailable``      a dependency is busy; retry later (503)

Adapters map each class to one response, in one table each (``api/errors.py``).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the platform raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


class SlotTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("EVSE not available for the requested time")


class EvseNotBookable(Conflict):
    """The EVSE exists but is out of service (INOPERATIVE, OUTOFORDER, PLANNED, REMOVED)."""


class DuplicateExternalId(Conflict):
    def __init__(self, external_id: str) -> None:
        super().__init__(
            f"external_id {external_id!r} is already used by a booking with a different request"
        )


class AlreadyRegistered(Conflict):
    """An OCPI party POSTs credentials again (credentials.asciidoc: answer 405)."""


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
