"""Our OCPI endpoints as the eMSP: routers named after the OCPI modules they serve.

OCPI 2.2.1 and 2.3.0 are served side by side under ``/ocpi/{version}``. The wire protocol
is the same (OCPI 2.3.0 § changes): the 2.2.1 handlers serve both, and where payloads
differ (2.3.0 Price with taxes, Tariff ``tax_included``) they check against the models of
the version called. The Bookings module exists in 2.3.0 only.
"""

from __future__ import annotations

from fastapi import APIRouter

from chargebook.services.ocpi_parties import SUPPORTED_VERSIONS


def ocpi_router() -> APIRouter:
    """Every eMSP endpoint, relative to the OCPI application's mount point (``app.py``)."""
    from chargebook.ocpi_api import bookings, credentials, locations, sessions, tokens

    ocpi = APIRouter(include_in_schema=False)
    ocpi.include_router(credentials.router)
    for version in SUPPORTED_VERSIONS:
        ocpi.include_router(credentials.versioned, prefix=f"/{version}")
        for module in (locations, sessions, tokens):
            ocpi.include_router(module.router, prefix=f"/{version}")
    ocpi.include_router(bookings.router, prefix="/2.3.0")
    return ocpi
