"""One table: each domain error → (HTTP status, OCPI status_code) for our OCPI endpoints.

OCPI 2.2.1 status_codes.asciidoc: 2xxx client errors, 3xxx server errors. Transport:
an unknown or missing token is HTTP 401; PUT/POST/PATCH body problems are 2001.
"""

from __future__ import annotations

from chargebook.domain import errors as e

OCPI_STATUS: dict[type[e.DomainError], tuple[int, int]] = {
    e.InvalidRequest: (400, 2001),
    e.NotFound: (404, 2003),
    e.Unauthenticated: (401, 2000),
    e.Forbidden: (403, 2000),
    e.Conflict: (409, 2000),
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
    for cls in type(exc).__mro__:
        if cls in OCPI_STATUS:
            return OCPI_STATUS[cls]
    return 400, 2000
