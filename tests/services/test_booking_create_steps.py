"""The pure steps of a booking create, one at a time (services/booking_create/): what each
refuses and what it lets through, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargebook.domain.errors import EvseNotBookable, InvalidRequest, NotFound, Unavailability
from chargebook.services.booking_create import (
    BookingPolicy,
    BookingRequest,
    LockedEvse,
    check_evse,
    check_in_use,
    check_window,
    cpo_request_at,
)

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _evse(**overrides: Any) -> LockedEvse:
    values: dict[str, Any] = dict(
        pk=1, uid="E1", status="AVAILABLE", reservable=True, data={"connectors": [{"id": "1"}]},
        location_id="LOC1", city="Berlin", time_zone="Europe/Berlin", party_pk="cpo_1",
        country_code="DE", party_id="ABC", max_reservation_minutes=240, bookings_url=None,
        party_status="registered", reserve_lead_minutes=60, has_webhooks=False,
    )
    values.update(overrides)
    return LockedEvse(**values)


def _request(start_in: timedelta = timedelta(hours=3), minutes: int = 60, **kw: Any) -> BookingRequest:
    start = NOW + start_in
    return BookingRequest(location_id="LOC1", evse_uid="E1", reservation_start=start,
                          reservation_end=start + timedelta(minutes=minutes), **kw)


def test_check_evse_refuses_what_cannot_be_booked() -> None:
    check_evse(_evse(), _request(connector_id="1"))
    with pytest.raises(EvseNotBookable) as no_reservation:
        check_evse(_evse(reservable=False), _request())
    assert no_reservation.value.reason is Unavailability.NOT_RESERVABLE
    with pytest.raises(EvseNotBookable) as broken:
        check_evse(_evse(status="OUTOFORDER"), _request())
    assert broken.value.reason is Unavailability.OUT_OF_SERVICE
    with pytest.raises(NotFound):
        check_evse(_evse(), _request(connector_id="9"))


def test_check_window_uses_the_cpos_longest_reservation() -> None:
    policy = BookingPolicy()
    check_window(_evse(), _request(minutes=240), policy, NOW)
    with pytest.raises(InvalidRequest):
        check_window(_evse(max_reservation_minutes=120), _request(minutes=180), policy, NOW)
    with pytest.raises(InvalidRequest):  # closer than the platform's lead time
        check_window(_evse(), _request(start_in=timedelta(minutes=5)), policy, NOW)


def test_check_in_use_only_when_the_request_goes_out_now() -> None:
    charging = _evse(status="CHARGING")
    check_in_use(charging, _request(start_in=timedelta(hours=3)), NOW, by_calendar=False)
    check_in_use(charging, _request(start_in=timedelta(minutes=30)), NOW, by_calendar=True)
    with pytest.raises(EvseNotBookable) as busy:
        check_in_use(charging, _request(start_in=timedelta(minutes=30)), NOW, by_calendar=False)
    assert busy.value.reason is Unavailability.EVSE_IN_USE


def test_cpo_request_at_follows_the_reserve_lead_time() -> None:
    later = _request(start_in=timedelta(hours=3))
    assert cpo_request_at(_evse(), later, NOW, by_calendar=False) == later.reservation_start - timedelta(hours=1)
    soon = _request(start_in=timedelta(minutes=30))
    assert cpo_request_at(_evse(), soon, NOW, by_calendar=False) == NOW
    assert cpo_request_at(_evse(), later, NOW, by_calendar=True) == NOW
    assert cpo_request_at(_evse(party_status="offline"), later, NOW, by_calendar=False) is None
