"""Console tests run against the suite's shared live server (real HTTP, both databases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer
from tests.console.kit import Visitor, make_client_user, make_operator


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
