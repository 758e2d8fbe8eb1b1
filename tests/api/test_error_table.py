"""Each domain error maps to one response in each adapter's table."""

from __future__ import annotations

from chargebook.api.errors import status_for
from chargebook.domain import errors as e
from chargebook.ocpi.errors import ocpi_status_for


def _all(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_all(sub)]
    return out


def _instance(cls: type) -> e.DomainError:
    try:
        return cls()  # type: ignore[no-any-return]
    except TypeError:
        try:
            return cls("x")  # type: ignore[no-any-return]
        except TypeError:
            return cls("x", 1)  # type: ignore[no-any-return]


def test_every_domain_error_has_a_client_api_status() -> None:
    classes = [c for c in _all(e.DomainError) if c.__module__.startswith("chargebook")]
    assert len(classes) >= 10
    for cls in classes:
        status = status_for(_instance(cls))
        expected_5xx = issubclass(cls, e.Unavailable)
        assert (500 <= status < 600) if expected_5xx else (400 <= status < 500), cls


def test_every_domain_error_has_an_ocpi_status() -> None:
    for cls in _all(e.DomainError):
        http_status, code = ocpi_status_for(_instance(cls))
        if issubclass(cls, e.Unavailable):
            assert http_status == 503 and 3000 <= code < 4000
        else:
            assert 400 <= http_status < 500 and 2000 <= code < 3000, cls


def test_known_messages() -> None:
    assert str(e.SlotTaken()) == "EVSE not available for the requested time"
    assert str(e.SpendingLimitExceeded()) == "Fleet group spending limit exceeded"
    assert str(e.NotCancellable()) == "Booking cannot be cancelled in current state"
