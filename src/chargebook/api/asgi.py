"""ASGI entry point for `chargebook serve` (uvicorn's factory mode, one app per process)."""

from __future__ import annotations

from fastapi import FastAPI

from chargebook.api.app import create_app
from chargebook.settings import Settings


def app_factory() -> FastAPI:
    return create_app(Settings())
