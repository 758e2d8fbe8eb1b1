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

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(cell: object) -> str:
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """RFC 4180 lines (CRLF): with that terminator the csv module quotes a cell holding a bare
    CR too, which a ``\n`` terminator would leave unquoted, splitting the row when read."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralize(h) for h in header])
    for row in rows:
        writer.writerow([neutralize(c) for c in row])
    return out.getvalue()


def neutralize_csv(text: str) -> str:
    """The same CSV with every cell made safe (for CSV that another part of the platform wrote)."""
    rows = list(csv.reader(io.StringIO(text)))
    return to_csv(rows[0], rows[1:]) if rows else ""
