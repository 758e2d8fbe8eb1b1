"""CSV cells that a spreadsheet would run as formulas are written as text."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from chargebook.domain.spreadsheet import FORMULA_STARTS, neutralize, to_csv


def test_formula_starts_get_a_quote() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralize(f"{start}1+1") == f"'{start}1+1"
    assert neutralize("Berlin") == "Berlin" and neutralize(None) == "" and neutralize(12) == "12"


@given(st.lists(st.lists(st.text(max_size=12), min_size=2, max_size=2), max_size=5))
def test_no_cell_starts_a_formula_and_nothing_else_changes(rows: list[list[str]]) -> None:
    text = to_csv(["a", "b"], rows)
    back = list(csv.reader(io.StringIO(text, newline="")))
    assert back[0] == ["a", "b"]
    for written, original in zip(back[1:], rows, strict=True):
        for cell, value in zip(written, original, strict=True):
            assert not cell.startswith(FORMULA_STARTS)
            assert cell == (("'" + value) if value.startswith(FORMULA_STARTS) else value)


def test_numbers_stay_numbers() -> None:
    assert neutralize(Decimal("-1.50")) == "-1.50" and neutralize(-3) == "-3"
    assert neutralize("-1.50") == "'-1.50"  # text that looks like a number is still text
    assert to_csv(["n"], [[Decimal("-2.00")]]) == "n\r\n-2.00\r\n"
