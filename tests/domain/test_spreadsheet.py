"""CSV cells that a spreadsheet would run as formulas are written as text."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from chargebook.domain.spreadsheet import FORMULA_STARTS, neutralize, neutralize_csv, to_csv


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


def test_neutralize_csv_keeps_the_table() -> None:
    assert neutralize_csv("id,ref\n1,=SUM(A1)\n2,plain\n") == "id,ref\r\n1,'=SUM(A1)\r\n2,plain\r\n"
