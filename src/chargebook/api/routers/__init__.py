"""Routers of the client API; all mounted in ``api/app.py``."""
