"""Each domain error maps to one response in each adapter's table, by an explicit row.

Every module of chargebook is imported first, so an error class defined anywhere (not only in
``domain/errors.py``) is part of the walk. A class without its own row in the client API's
table or in the OCPI table fails here: a new error is a decision, never an inherited guess.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import chargebook
from chargebook.api.errors import STATUS, status_for
from chargebook.domain import errors as e
from chargebook.ocpi.errors import OCPI_STATUS, ocpi_status_for


def _import_everything() -> None:
    for module in pkgutil.walk_packages(chargebook.__path__, "chargebook."):
        if not module.name.endswith("__main__"):  # the CLI's entry point runs on import
            importlib.import_module(module.name)


def _all(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_all(sub)]
    return out


def _domain_errors() -> list[type[e.DomainError]]:
    _import_everything()
    return [c for c in _all(e.DomainError) if c.__module__.startswith("chargebook")]


def _instance(cls: type) -> e.DomainError:
    try:
        return cls()  # type: ignore[no-any-return]
    except TypeError:
        try:
            return cls("x")  # type: ignore[no-any-return]
        except TypeError:
            return cls("x", 1)  # type: ignore[no-any-return]


def test_every_domain_error_has_its_own_row_in_both_tables() -> None:
    classes = _domain_errors()
    assert len(classes) >= 17
    assert [c.__qualname__ for c in classes if c not in STATUS] == [], "add them to api/errors.py: STATUS"
    assert [c.__qualname__ for c in classes if c not in OCPI_STATUS] == [], "add them to ocpi/errors.py: OCPI_STATUS"


def test_every_domain_error_has_a_client_api_status() -> None:
    for cls in _domain_errors():
        status = status_for(_instance(cls))
        expected_5xx = issubclass(cls, e.Unavailable)
        assert (500 <= status < 600) if expected_5xx else (400 <= status < 500), cls


def test_every_domain_error_has_an_ocpi_status() -> None:
    for cls in _domain_errors():
        http_status, code = ocpi_status_for(_instance(cls))
        if issubclass(cls, e.Unavailable):
            assert http_status == 503 and 3000 <= code < 4000
        else:
            assert 400 <= http_status < 500 and 2000 <= code < 3000, cls


def test_an_error_without_a_row_is_never_answered_with_a_guess() -> None:
    class Unmapped(e.DomainError):
        pass

    try:
        with pytest.raises(LookupError):
            status_for(Unmapped("x"))
        with pytest.raises(LookupError):
            ocpi_status_for(Unmapped("x"))
        assert Unmapped in _all(e.DomainError) and Unmapped not in _domain_errors()  # a test class
    finally:
        del Unmapped


def test_known_messages() -> None:
    assert str(e.SlotTaken()) == "EVSE not available for the requested time"
    assert str(e.SpendingLimitExceeded()) == "Fleet group spending limit exceeded"
    assert str(e.NotCancellable()) == "Booking cannot be cancelled in current state"
