"""One table: each domain error → (HTTP status, OCPI status_code) for our OCPI endpoints.

OCPI 2.2.1 status_codes.asciidoc: 2xxx client errors, 3xxx server errors. Transport:
an unknown or missing token is HTTP 401; PUT/POST/PATCH body problems are 2001.
"""

from __future__ import annotations

from chargebook.domain import errors as e
from chargebook.domain.tariff_model import InvalidTariff

#: Every class of the tree has its own row (tests/api/test_error_table.py fails otherwise). The
#: client API's refusals (spending limits, EVSE availability, external ids) never arise from an
#: OCPI call today; they keep their parent's answer so that one that does is still a 4xx.
OCPI_STATUS: dict[type[e.DomainError], tuple[int, int]] = {
    e.InvalidRequest: (400, 2001),
    InvalidTariff: (400, 2001),
    e.SpendingLimitExceeded: (400, 2001),
    e.NotCancellable: (400, 2001),
    e.NotFound: (404, 2003),
    e.Unauthenticated: (401, 2000),
    e.Forbidden: (403, 2000),
    e.Conflict: (409, 2000),
    e.NotAvailable: (409, 2000),
    e.SlotTaken: (409, 2000),
    e.EvseNotBookable: (409, 2000),
    e.AmbiguousEvse: (409, 2000),
    e.DuplicateExternalId: (409, 2000),
    e.UidTaken: (409, 2000),
    e.AlreadyRegistered: (405, 2000),  # POST credentials when registered (credentials § POST)
    # Another party's identity: a POST naming it is a POST by a registered party (405); a
    # token issued for another identity is a wrong parameter (2001), as for pushes.
    e.IdentityTaken: (405, 2000),
    e.IdentityMismatch: (400, 2001),
    e.IllegalTransition: (409, 2000),
    e.RateLimited: (429, 2000),
    e.Unavailable: (503, 3000),
}


def ocpi_status_for(exc: e.DomainError) -> tuple[int, int]:
    """The row of the error's class, or of its nearest ancestor that has one. An error with
    none raises (the adapter then answers 3000): there is no silent default."""
    for cls in type(exc).__mro__:
        if cls in OCPI_STATUS:
            return OCPI_STATUS[cls]
    raise LookupError(f"{type(exc).__name__} has no OCPI status in ocpi/errors.py: OCPI_STATUS")
