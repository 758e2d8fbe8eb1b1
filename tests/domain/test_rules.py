"""Windows, token strategies and money rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargebook.domain.errors import InvalidRequest
from chargebook.domain.money import commission, to_cents
from chargebook.domain.tokens import (
    AdHocScope,
    StrategyFields,
    TokenStrategy,
    normalize_pipelet_uid,
    strategy_fields,
)
from chargebook.domain.windows import WindowRules, check_window, overlaps

NOW = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
RULES = WindowRules(min_lead=timedelta(minutes=15), max_duration=timedelta(hours=4),
                    max_horizon=timedelta(days=365))


def test_window_rules() -> None:
    ok = NOW + timedelta(minutes=15)
    check_window(ok, ok + timedelta(hours=4), NOW, RULES)
    with pytest.raises(InvalidRequest, match="15 minutes"):
        check_window(ok - timedelta(seconds=1), ok + timedelta(hours=1), NOW, RULES)
    with pytest.raises(InvalidRequest, match="maximum duration"):
        check_window(ok, ok + timedelta(hours=4, seconds=1), NOW, RULES)
    with pytest.raises(InvalidRequest, match="after"):
        check_window(ok, ok, NOW, RULES)
    with pytest.raises(InvalidRequest, match="offset"):
        check_window(ok.replace(tzinfo=None), ok.replace(tzinfo=None) + timedelta(hours=1), NOW, RULES)


minutes = st.integers(min_value=0, max_value=10_000)


@given(minutes, minutes, minutes, minutes)
def test_overlap_is_symmetric_and_half_open(a: int, la: int, b: int, lb: int) -> None:
    a_start, b_start = NOW + timedelta(minutes=a), NOW + timedelta(minutes=b)
    a_end, b_end = a_start + timedelta(minutes=la + 1), b_start + timedelta(minutes=lb + 1)
    assert overlaps(a_start, a_end, b_start, b_end) == overlaps(b_start, b_end, a_start, a_end)
    # Brute force over minutes: overlap iff some minute lies in both.
    shared = set(range(a, a + la + 1)) & set(range(b, b + lb + 1))
    assert overlaps(a_start, a_end, b_start, b_end) == bool(shared)
    assert not overlaps(a_start, a_end, a_end, a_end + timedelta(minutes=1))


@pytest.mark.parametrize("uid", ["04A2B3C4", "04a2b3c4d5e6f7", "0123456789ABCDEF0123"])
def test_pipelet_uids_accepted(uid: str) -> None:
    assert normalize_pipelet_uid(uid) == uid.upper()


@pytest.mark.parametrize("uid", ["04A2B3", "04A2B3C4D5", "04A2B3C4G5E6F7", "", "04A2B3C4D5E6F7A8B9C0D1"])
def test_pipelet_uids_refused(uid: str) -> None:
    with pytest.raises(InvalidRequest, match="8, 14 or 20"):
        normalize_pipelet_uid(uid)


def test_strategy_fields_keep_what_the_strategy_reads_and_ignore_the_rest() -> None:
    everything = StrategyFields(customer_id="c", token_id="t", fleet_group_id="g", token_uid="04a2b3c4")
    assert strategy_fields(TokenStrategy.AD_HOC, everything) == StrategyFields()
    assert strategy_fields(TokenStrategy.DRIVER_TOKEN, everything) == StrategyFields(customer_id="c", token_id="t")
    assert strategy_fields(TokenStrategy.DRIVER_TOKEN, StrategyFields(token_id="t")) == StrategyFields(token_id="t")
    assert strategy_fields(TokenStrategy.GROUP_TOKEN, everything) == StrategyFields(fleet_group_id="g")
    assert strategy_fields(TokenStrategy.PIPELET, everything) == StrategyFields(token_uid="04A2B3C4")
    for strategy, fields, message in (
        (TokenStrategy.DRIVER_TOKEN, StrategyFields(fleet_group_id="g"), "customer_id or token_id"),
        (TokenStrategy.GROUP_TOKEN, StrategyFields(customer_id="c"), "fleet_group_id"),
        (TokenStrategy.PIPELET, StrategyFields(customer_id="c"), "token_uid"),
        (TokenStrategy.PIPELET, StrategyFields(token_uid="XYZ"), "8, 14 or 20"),
    ):
        with pytest.raises(InvalidRequest, match=message):
            strategy_fields(strategy, fields)


def test_ad_hoc_scope() -> None:
    scope = AdHocScope("L1", "E1", NOW, NOW + timedelta(hours=1))
    assert scope.allows("L1", "E1", NOW)
    assert scope.allows("L1", None, NOW + timedelta(minutes=59))
    assert not scope.allows("L1", "E2", NOW)
    assert not scope.allows("L2", "E1", NOW)
    assert not scope.allows("L1", "E1", NOW - timedelta(seconds=1))
    assert not scope.allows("L1", "E1", NOW + timedelta(hours=1))


@given(st.decimals(min_value=0, max_value=10_000, places=4), st.decimals(min_value=0, max_value=100, places=2))
def test_commission_is_cents_and_never_negative(base: Decimal, percent: Decimal) -> None:
    fee = commission(base, percent)
    assert fee >= 0 and fee == to_cents(fee)
    assert abs(fee - base * percent / 100) <= Decimal("0.005")
