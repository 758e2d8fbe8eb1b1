"""CSV that is safe to open in a spreadsheet.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
spreadsheet programs as a formula (CSV injection, OWASP "CSV Injection"); such a cell is
written with a leading ``'``, which the programs show as text. Ids and names chosen by
clients (``external_id``, a group's name) can begin with any of those.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


#: RFC 4180 line ends: with them the csv module also quotes a cell holding a bare CR, which a
#: ``\n`` terminator would leave unquoted, splitting the row when it is read back.
LINE_END = "\r\n"


def neutralize(cell: object) -> str:
    """A cell as text a spreadsheet shows as text. Numbers stay numbers (a negative amount
    is a number, not a formula); any other cell that would start a formula gets a ``'``."""
    if isinstance(cell, int | float | Decimal) and not isinstance(cell, bool):
        return str(cell)
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A whole CSV document with every cell made safe, in RFC 4180 lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=LINE_END)
    writer.writerow([neutralize(h) for h in header])
    for row in rows:
        writer.writerow([neutralize(c) for c in row])
    return out.getvalue()

