"""The rules of the platform, with no I/O: lifecycle, token rules, windows, tariffs.

Nothing here imports SQLAlchemy, FastAPI, httpx or the OCPI transport, reads the clock or
makes ids: callers pass ``now`` and ids in.
"""
