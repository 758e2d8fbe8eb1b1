"""``chargebook tariffs price``: output shapes, time zones, and bad input (exit 2, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from chargebook.cli.tariffs import app

EXAMPLES = Path(__file__).parents[1] / "data" / "ocpi-examples" / "2.2.1"
T4 = EXAMPLES / "tariff_4_complex.json"
T14 = EXAMPLES / "tariff_14_step_size.json"


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["price", *args])


def test_json_output_has_exactly_the_documented_shape() -> None:
    result = run(
        str(T4),
        "--start",
        "2015-06-29T09:30",
        "--charging-minutes",
        "165",
        "--parking-minutes",
        "42",
        "--max-current-a",
        "16",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "currency": "EUR",
        "excl_vat": "9.00",
        "incl_vat": "10.30",
        "lines": [
            {"type": "FLAT", "quantity": "1", "excl_vat": "2.50", "incl_vat": "2.875"},
            {"type": "TIME", "quantity": "2.75", "excl_vat": "2.75", "incl_vat": "3.30"},
            {"type": "PARKING_TIME", "quantity": "0.75", "excl_vat": "3.75", "incl_vat": "4.125"},
        ],
    }


def test_no_vat_anywhere_gives_null_incl_vat() -> None:
    result = run(
        str(T14),
        "--start",
        "2015-06-29T19:40",
        "--charging-minutes",
        "12",
        "--parking-minutes",
        "20",
        "--json",
    )
    out = json.loads(result.stdout)
    assert (out["excl_vat"], out["incl_vat"]) == ("0.73", None)
    assert all(line["incl_vat"] is None for line in out["lines"])


def test_table_output_shows_lines_parts_and_total() -> None:
    result = run(
        str(T14),
        "--start",
        "2015-06-29T16:55",
        "--charging-minutes",
        "10",
        "--parking-minutes",
        "2",
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    for needle in (
        "TIME",
        "element 0",
        "element 1",
        "1.20/h",
        "2.40/h",
        "5 min",
        "15 min",
        "PARKING_TIME",
        "Total",
        "0.55",
    ):
        assert needle in text
    assert "no VAT" in text


def test_table_output_says_when_min_price_applies() -> None:
    result = run(
        str(EXAMPLES / "tariff_12_025kwh_min_price.json"),
        "--start",
        "2020-01-01T10:00",
        "--energy-kwh",
        "1.2",
        "--charging-minutes",
        "10",
    )
    assert "0.50" in result.stdout and "min_price applies" in result.stdout


def test_start_without_offset_is_wall_clock_in_the_given_zone() -> None:
    # 16:55 Berlin is 14:55Z: with --time-zone the restrictions read Berlin's wall clock.
    local = run(
        str(T14),
        "--start",
        "2015-06-29T16:55",
        "--time-zone",
        "Europe/Berlin",
        "--charging-minutes",
        "10",
        "--parking-minutes",
        "2",
        "--json",
    )
    instant = run(
        str(T14),
        "--start",
        "2015-06-29T14:55:00Z",
        "--time-zone",
        "Europe/Berlin",
        "--charging-minutes",
        "10",
        "--parking-minutes",
        "2",
        "--json",
    )
    utc = run(
        str(T14),
        "--start",
        "2015-06-29T14:55:00Z",
        "--charging-minutes",
        "10",
        "--parking-minutes",
        "2",
        "--json",
    )
    assert json.loads(local.stdout)["excl_vat"] == json.loads(instant.stdout)["excl_vat"] == "0.55"
    # Read in UTC, 14:55-15:07 is all before 17:00: 10 min at 1.20 rounds up to 30 min?
    # No: parking follows, so only parking rounds: 10 min x 1.20 + 15 min x 1.00 = 0.45.
    assert json.loads(utc.stdout)["excl_vat"] == "0.45"


def test_a_time_zone_in_the_file_is_used(tmp_path: Path) -> None:
    raw = json.loads(T14.read_text())
    path = tmp_path / "t.json"
    path.write_text(json.dumps({**raw, "time_zone": "Europe/Berlin"}))
    result = run(
        str(path),
        "--start",
        "2015-06-29T14:55:00Z",
        "--charging-minutes",
        "10",
        "--parking-minutes",
        "2",
        "--json",
    )
    assert json.loads(result.stdout)["excl_vat"] == "0.55"


def test_an_ocpi_response_envelope_is_unwrapped(tmp_path: Path) -> None:
    path = tmp_path / "response.json"
    envelope = {
        "data": json.loads(T4.read_text()),
        "status_code": 1000,
        "timestamp": "2015-06-30T21:59:59Z",
    }
    path.write_text(json.dumps(envelope))
    result = run(
        str(path),
        "--start",
        "2015-06-29T09:30",
        "--charging-minutes",
        "165",
        "--parking-minutes",
        "42",
        "--max-current-a",
        "16",
        "--json",
    )
    assert json.loads(result.stdout)["excl_vat"] == "9.00"


def test_a_start_outside_the_tariff_validity_warns_on_stderr() -> None:
    result = run(
        str(EXAMPLES / "tariff_6_025kwh_start_max_price.json"),
        "--start",
        "2020-01-01T10:00",
        "--energy-kwh",
        "30",
        "--json",
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["excl_vat"] == "8.00"
    assert "not valid" in result.stderr


def bad_file(tmp_path: Path, content: str) -> str:
    path = tmp_path / "bad.json"
    path.write_text(content)
    return str(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"id": "1", "currency": "EUR"}', "not an OCPI 2.2.1 Tariff: elements"),
        (
            json.dumps(json.loads((EXAMPLES / "cdr_example.json").read_text())),
            "not an OCPI 2.2.1 Tariff",
        ),
        (
            '{"currency": "EUR", "elements": [{"price_components": [{"type": "TIME", "price": 1}]}]}',
            "step_size",
        ),
    ],
)
def test_bad_files_exit_2_with_a_message_on_stderr(
    tmp_path: Path, content: str, message: str
) -> None:
    result = run(bad_file(tmp_path, content))
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json"], "no such file"),
        ([str(T4), "--energy-kwh", "lots"], "not a number"),
        ([str(T4), "--charging-minutes", "-5"], "must be a number >= 0"),
        ([str(T4), "--start", "monday morning"], "not an ISO 8601"),
        ([str(T4), "--time-zone", "Mars/Olympus"], "unknown time zone"),
        (
            [str(T4), "--reservation-expired", "--energy-kwh", "3"],
            "expired reservation has no session",
        ),
        ([str(T4), "--min-power-kw", "50", "--max-power-kw", "11"], "min power must not exceed"),
    ],
)
def test_bad_arguments_exit_2_without_a_traceback(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_price_is_a_subcommand_with_help() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0 and "price" in result.stdout
