"""The simulator's HTTP routes: one router per OCPI module, plus the /sim admin API."""

from __future__ import annotations

from fastapi import APIRouter

from chargebook.cpo_sim.routers import (
    admin,
    admin_bookings,
    bookings,
    cdrs,
    commands,
    credentials,
    locations,
    sessions,
    tariffs,
    tokens,
    versions,
)

OCPI_ROUTERS: list[APIRouter] = [
    versions.router,
    credentials.router,
    locations.router,
    tariffs.router,
    sessions.router,
    cdrs.router,
    commands.router,
    tokens.router,
    bookings.router,
]
ADMIN_ROUTERS: list[APIRouter] = [admin.router, admin_bookings.router]
