"""The console's SVG charts and its error table (pure: no server)."""

from __future__ import annotations

import re
from decimal import Decimal

from chargebook.console import charts
from chargebook.console.errors import status_for
from chargebook.domain import errors as e


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_every_domain_error_has_a_console_status() -> None:
    for cls in _subclasses(e.DomainError):
        try:
            exc = cls("x")
        except TypeError:
            exc = cls()
        status = status_for(exc)
        assert 400 <= status < 600, cls
        assert (status >= 500) == issubclass(cls, e.Unavailable), cls


def test_meter_states_and_text() -> None:
    assert 'class="fill ok"' in charts.meter(10, 100, label="x")
    assert 'class="fill near"' in charts.meter(80, 100, label="x")
    over = charts.meter(Decimal("120.5"), Decimal("100"), label="spend", unit="EUR")
    assert 'class="fill over"' in over and "120.50 / 100.00 EUR (120%)" in over
    assert 'width="400.0"' in over  # the bar stops at the track's end
    assert "no limit" in charts.meter(Decimal("3"), None, label="spend", unit="EUR")


def test_stacked_bars_scale_to_the_tallest_day_and_escape_labels() -> None:
    svg = charts.stacked_bars(
        ["d1", "<d2>"], ["A", "B"], {"d1": {"A": 1, "B": 1}, "<d2>": {"A": 4}}, title="t&t"
    )
    heights = [float(h) for h in re.findall(r'<rect class="s-[AB]"[^>]*height="([0-9.]+)"', svg)]
    assert len(heights) == 3 and max(heights) == 2 * (heights[0] + heights[1])
    assert "&lt;d2&gt;: 4 A" in svg and "<d2>" not in svg and "t&amp;t" in svg
    assert " style=" not in svg  # the console's CSP allows no inline styles


def test_empty_chart_draws_no_bars() -> None:
    svg = charts.stacked_bars(["a", "b"], ["A"], {}, title="none")
    assert "<rect" not in svg and "<svg" in svg
