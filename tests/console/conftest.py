"""Console tests run against the suite's shared live server (real HTTP, both databases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from chargebook.services import console_passwords
from tests.conftest import LiveServer
from tests.console import kit
from tests.console.kit import Visitor, make_client_user, make_operator


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with small parameters: the suite makes hundreds of accounts on 2 shared cores.
    The production parameters are exercised by test_auth.py::test_production_hasher."""
    production = console_passwords.HASHER
    console_passwords.HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    console_passwords.HASHER = production


@pytest.fixture(autouse=True)
def close_visitors() -> Iterator[None]:
    yield
    while kit.OPEN:
        kit.OPEN.pop().close()


@pytest.fixture
def visitor(live: LiveServer) -> Iterator[Visitor]:
    v = Visitor(live.base)
    yield v
    v.close()


@pytest.fixture
def operator(live: LiveServer, database_url: str) -> Iterator[Visitor]:
    email, _ = make_operator(database_url)
    v = Visitor(live.base)
    assert v.login(email).status_code == 303
    yield v
    v.close()


@pytest.fixture
def fleet_manager(live: LiveServer, database_url: str) -> Iterator[tuple[Visitor, str, str]]:
    """A signed-in client user: (visitor, client_id, api_key)."""
    client_id, key, email = make_client_user(database_url)
    v = Visitor(live.base)
    assert v.login(email).status_code == 303
    yield v, client_id, key
    v.close()
