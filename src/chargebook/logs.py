"""Structured logs: JSON lines (or readable console lines) at the configured level.

Everything logged while a request is handled carries its ``request_id`` (bound by the API's
``RequestId`` middleware through ``chargebook.correlation``); the worker binds a command's
stored id while it sends it. JSON lines are rendered with orjson and written as bytes: a log
line costs about 20 µs, which matters at one access-log line per request.
"""

from __future__ import annotations

import logging

import orjson
import structlog

from chargebook.settings import Settings


def configure(settings: Settings) -> None:
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        level = logging.INFO
    renderer: structlog.types.Processor
    if settings.log_json:
        renderer = structlog.processors.JSONRenderer(serializer=orjson.dumps)
        factory: structlog.types.WrappedLogger = structlog.BytesLoggerFactory()
    else:
        renderer = structlog.dev.ConsoleRenderer()
        factory = structlog.PrintLoggerFactory()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=factory,
        # Not cached: tests and the demo configure more than once per process.
        cache_logger_on_first_use=False,
    )
