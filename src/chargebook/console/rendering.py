"""Jinja2 templates: one environment, autoescaped, strict about undefined names."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from chargebook.console import charts
from chargebook.domain.webhooks import shown_failure

env = Environment(
    loader=PackageLoader("chargebook.console", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def money(value: Decimal | None, currency: str = "EUR") -> str:
    return "–" if value is None else f"{value:,.2f} {currency}"


def when(value: datetime | None) -> str:
    return "–" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return "never"
    seconds = int(((now or datetime.now(UTC)) - value).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if abs(seconds) >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def percent(value: float) -> str:
    return f"{value:.0%}" if value >= 0.01 or value == 0 else "<1%"


env.filters.update(money=money, when=when, ago=ago, percent=percent, failure=shown_failure)
env.globals.update(stacked_bars=charts.stacked_bars, meter=charts.meter)


def base_path(request: Request) -> str:
    """Where the console is mounted (``/console``), as this request reached it."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page (or, for ``partial`` templates, a fragment that the live script swaps in)."""
    body = env.get_template(template).render(base=base_path(request), **context)
    return HTMLResponse(body, status_code=status_code, headers=headers)
