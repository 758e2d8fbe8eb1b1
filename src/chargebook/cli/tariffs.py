"""``chargebook tariffs``: price a session by hand with the OCPI 2.2.1 tariff engine.

Time zone: OCPI tariffs carry none (restriction times are local to the Location's
``time_zone``). The zone is, in order: ``--time-zone``; a ``time_zone`` key in the JSON file,
if someone put one there; the offset written in ``--start``; else UTC. ``--start`` without
an offset is a wall-clock time in that zone; with one, it is that instant.

Bad input (missing file, invalid JSON, not a tariff, impossible session) is one line on
stderr and exit code 2, the code Click uses for usage errors.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chargebook.domain.errors import DomainError
from chargebook.domain.tariff import (
    LinePart,
    LineType,
    SessionProfile,
    Tariff,
    TariffLine,
    TariffPrice,
    parse_tariff,
    price_session,
)

app = typer.Typer(help="Price sessions with a CPO's OCPI 2.2.1 Tariff.", no_args_is_help=True)

USAGE_ERROR = 2


@app.callback()
def tariffs() -> None:
    """Price sessions with a CPO's OCPI 2.2.1 Tariff."""
    # A callback keeps `price` a subcommand even while it is the only one.


def _amount(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"{value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise typer.BadParameter(f"{value!r} must be a number >= 0")
    return number


def _amount_option(help_text: str) -> Any:
    return typer.Option(parser=_amount, help=help_text, show_default=False)


@app.command()
def price(
    tariff_file: Annotated[
        Path,
        typer.Argument(
            metavar="TARIFF.json",
            help="An OCPI 2.2.1 Tariff object (or an OCPI response whose data is one).",
            show_default=False,
        ),
    ],
    start: Annotated[
        str | None,
        typer.Option(
            help="Session start, ISO 8601. No offset: local time at the Location. Default: now.",
            show_default=False,
        ),
    ] = None,
    time_zone: Annotated[
        str | None,
        typer.Option(help="The Location's IANA time zone, e.g. Europe/Berlin.", show_default=False),
    ] = None,
    energy_kwh: Annotated[
        Decimal, _amount_option("Energy charged, kWh (spread evenly over the charging time).")
    ] = Decimal(0),
    charging_minutes: Annotated[Decimal, _amount_option("Minutes charging (TIME).")] = Decimal(0),
    parking_minutes: Annotated[
        Decimal, _amount_option("Minutes plugged in after charging (PARKING_TIME).")
    ] = Decimal(0),
    reservation_minutes: Annotated[
        Decimal, _amount_option("Minutes reserved before the session started.")
    ] = Decimal(0),
    reservation_expired: Annotated[
        bool,
        typer.Option(
            "--reservation-expired", help="The reservation ran out with no session (a no-show)."
        ),
    ] = False,
    min_current_a: Annotated[
        Decimal | None, _amount_option("Lowest current while charging, A (all phases).")
    ] = None,
    max_current_a: Annotated[
        Decimal | None, _amount_option("Highest current while charging, A (all phases).")
    ] = None,
    min_power_kw: Annotated[
        Decimal | None, _amount_option("Lowest power while charging, kW (default: the average).")
    ] = None,
    max_power_kw: Annotated[
        Decimal | None, _amount_option("Highest power while charging, kW (default: the average).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Price one session (reservation, charging, then parking) under TARIFF.json."""
    document = _read_json(tariff_file)
    tariff = _tariff(document, tariff_file)
    session_start = _session_start(start, _zone(time_zone, document, start))
    try:
        profile = SessionProfile(
            start=session_start,
            energy_kwh=energy_kwh,
            charging_minutes=charging_minutes,
            parking_minutes=parking_minutes,
            reservation_minutes=reservation_minutes,
            reservation_expired=reservation_expired,
            min_current_a=min_current_a,
            max_current_a=max_current_a,
            min_power_kw=min_power_kw,
            max_power_kw=max_power_kw,
        )
        result = price_session(tariff, profile)
    except DomainError as exc:
        _fail(exc.message)
    if not tariff.is_valid_at(session_start):
        typer.echo(f"Warning: {tariff.label} is not valid at {session_start.isoformat()}", err=True)
    if as_json:
        typer.echo(json.dumps(price_json(result)))
    else:
        _print_table(tariff, session_start, result)


def price_json(result: TariffPrice) -> dict[str, Any]:
    """The ``--json`` shape; money and quantities as decimal strings, never floats."""
    return {
        "currency": result.currency,
        "excl_vat": _text(result.excl_vat),
        "incl_vat": _text_or_none(result.incl_vat),
        "lines": [
            {
                "type": line.type.value,
                "quantity": _text(line.shown_quantity),
                "excl_vat": _text(line.excl_vat),
                "incl_vat": _text_or_none(line.incl_vat),
            }
            for line in result.lines
        ],
    }


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


def _read_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"{path}: no such file")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {exc}")
    try:
        # parse_float=Decimal keeps 0.1 as 0.1: prices never pass through a float.
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        _fail(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")


def _tariff(document: object, path: Path) -> Tariff:
    if (
        isinstance(document, dict)
        and "elements" not in document
        and isinstance(document.get("data"), dict)
    ):
        document = document["data"]  # an OCPI response envelope around one Tariff
    if not isinstance(document, dict):
        _fail(f"{path} does not hold a Tariff: expected a JSON object")
    try:
        return parse_tariff(document)
    except DomainError as exc:
        _fail(f"{path}: {exc.message}")


def _zone(option: str | None, document: object, start: str | None) -> tzinfo:
    name = option
    if name is None and isinstance(document, dict) and isinstance(document.get("time_zone"), str):
        name = document["time_zone"]
    if name is not None:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            _fail(f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)")
    written = _parse_start(start) if start is not None else None
    if written is not None and written.tzinfo is not None:
        return written.tzinfo
    return UTC


def _parse_start(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--start {value!r} is not an ISO 8601 date-time")


def _session_start(value: str | None, zone: tzinfo) -> datetime:
    if value is None:
        return datetime.now(zone)  # the CLI may read the clock; the domain never does
    written = _parse_start(value)
    if written.tzinfo is None:
        return written.replace(tzinfo=zone)
    return written.astimezone(zone)


def _text(value: Decimal) -> str:
    return format(value, "f")


def _text_or_none(value: Decimal | None) -> str | None:
    return None if value is None else _text(value)


def _print_table(tariff: Tariff, start: datetime, result: TariffPrice) -> None:
    title = (
        f"{tariff.label} ({result.currency}), session from {start.isoformat(timespec='seconds')}"
    )
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Dimension", no_wrap=True)
    for name in ("Quantity", "Price", "Step", "VAT", "Excl. VAT", "Incl. VAT"):
        table.add_column(name, justify="right", no_wrap=True)
    for line in result.lines:
        one = line.parts[0] if len(line.parts) == 1 else None
        terms = _part_terms(line, one) if one else ("", "", "")
        table.add_row(line.type.value, _quantity(line.type, line.quantity), *terms, *_money(line))
        if one is None:
            for part in line.parts:
                row = (_quantity(line.type, part.quantity), *_part_terms(line, part))
                table.add_row(f"  element {part.element}", *row, *_money(part))
    table.add_row("Total", "", "", "", "", *_money(result), style="bold")
    console = Console()
    console.print(table)
    for applied, name in (
        (result.min_price_applied, "min_price"),
        (result.max_price_applied, "max_price"),
    ):
        if applied:
            console.print(Text(f"The tariff's {name} applies."))
    if result.incl_vat is None:
        console.print(Text("The tariff states no VAT: prices incl. VAT are unknown."))
    for alt in tariff.tariff_alt_text:
        console.print(Text(f"[{alt.language}] {alt.text}"))
    if tariff.tariff_alt_url:
        console.print(Text(f"More: {tariff.tariff_alt_url}"))


def _quantity(kind: LineType, quantity: Decimal) -> str:
    """People read minutes, as the spec's breakdown tables do; JSON keeps OCPI's hours."""
    if kind.unit == "h":
        minutes = (quantity * 60).quantize(Decimal("0.01"), ROUND_HALF_UP).normalize()
        return f"{_text(minutes)} min"
    return f"{_text(quantity.normalize())} {kind.unit}".strip()


def _money(priced: TariffLine | LinePart | TariffPrice) -> tuple[str, str]:
    return _text(priced.excl_vat), _text_or_none(priced.incl_vat) or "-"


def _part_terms(line: TariffLine, part: LinePart) -> tuple[str, str, str]:
    unit = line.type.unit
    per = f"/{unit}" if unit else ""
    step = f"{part.step_size} {'Wh' if unit == 'kWh' else 's'}" if unit and part.step_size else ""
    vat = "none" if part.vat is None else f"{_text(part.vat.normalize())}%"
    return f"{_text(part.price)}{per}", step, vat
