"""Webhook rules: event types, endpoint validation, the retry schedule, signatures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chargebook.domain import webhooks as rules
from chargebook.domain.errors import InvalidRequest
from chargebook.domain.lifecycle import BookingStatus


def test_one_event_type_per_status() -> None:
    assert sorted(rules.EVENT_TYPES) == sorted(
        ["booking.requested", "booking.pending", "booking.confirmed", "booking.attending",
         "booking.completed", "booking.cancelled", "booking.expired", "booking.no_show"])
    assert rules.event_type(BookingStatus.NO_SHOW) == "booking.no_show"


@pytest.mark.parametrize("url", [
    "https://example.com/hooks", "http://127.0.0.1:8080/x?y=1", "https://[::1]:443/", "HTTPS://Example.COM",
])
def test_good_urls(url: str) -> None:
    assert rules.check_url(url) == url


@pytest.mark.parametrize(("url", "why"), [
    ("ftp://example.com/", "http"),
    ("/relative/path", "http"),
    ("example.com/hooks", "http"),
    ("https://", "host"),
    ("https://user:pass@example.com/", "credentials"),
    ("https://token@example.com/", "credentials"),
    ("https://example.com/#frag", "fragment"),
    ("https://example.com:99999/", "valid"),
    ("https://example.com:abc/", "valid"),
    ("https://exa mple.com/", "valid"),
    ("https://example.com/" + "a" * 2100, "2048"),
])
def test_bad_urls_name_the_field(url: str, why: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        rules.check_url(url)
    assert err.value.message.startswith("url: ") and why in err.value.message


def test_event_types() -> None:
    assert rules.check_event_types(["booking.confirmed", "booking.confirmed", "booking.expired"]) == [
        "booking.confirmed", "booking.expired"]
    assert rules.check_event_types(["booking.confirmed", "*"]) == ["*"]
    for bad in ([], ["booking.CONFIRMED"], ["ping"], ["booking.*"]):
        with pytest.raises(InvalidRequest) as err:
            rules.check_event_types(bad)
        assert err.value.message.startswith("event_types: ")
    assert rules.subscribes(["*"], "booking.expired")
    assert rules.subscribes(["booking.expired"], "booking.expired")
    assert not rules.subscribes(["booking.confirmed"], "booking.expired")


def test_backoff_doubles_to_a_cap_and_jitter_scales_it() -> None:
    waits = [rules.backoff(n, 10, 1.0) for n in range(1, 16)]
    assert waits[:4] == [timedelta(seconds=s) for s in (10, 20, 40, 80)]
    assert max(waits) == rules.BACKOFF_CAP == waits[-1]
    assert rules.backoff(3, 10, 0.8) == timedelta(seconds=32)
    assert rules.backoff(3, 10, 1.2) == timedelta(seconds=48)
    assert rules.backoff(10_000, 10, 1.0) == rules.BACKOFF_CAP  # no overflow


def test_the_default_budget_spans_many_hours() -> None:
    # 15 attempts → 14 waits; even with the shortest jitter a receiver may be down for 18 h.
    shortest = sum((rules.backoff(n, 10, 0.8) for n in range(1, 15)), timedelta())
    assert shortest > timedelta(hours=18)
    # A receiver down for ten minutes still gets attempts after it is back (before attempt 15).
    elapsed, attempt = timedelta(), 1
    while elapsed <= timedelta(minutes=10):
        elapsed += rules.backoff(attempt, 10, 1.2)
        attempt += 1
    assert attempt < 15


def test_signature_matches_the_standard_webhooks_test_vector() -> None:
    # From the Standard Webhooks specification's reference implementations.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    sig = rules.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    both = rules.signature_header([secret, "whsec_" + "A" * 44], "m", 1, b"{}")
    assert both.split(" ")[0] == rules.signature(secret, "m", 1, b"{}") and len(both.split(" ")) == 2
