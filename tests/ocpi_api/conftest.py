"""A registered CPO party, made directly in the store, to call our OCPI endpoints with."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from chargebook.db.models import Party
from chargebook.ocpi.transport import authorization_header, new_token
from chargebook.services.clock import utcnow
from chargebook.services.ids import new_id
from chargebook.services.ocpi_parties import hash_token
from tests.conftest import LiveServer
from tests.factories import unique_party_id, with_db


@dataclass
class Cpo:
    party_id: str
    token: str
    http: httpx.Client

    def url(self, path: str) -> str:
        return f"/ocpi/2.2.1{path}"


def make_cpo(database_url: str) -> tuple[str, str]:
    party_id = unique_party_id()
    token = new_token()

    async def run(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            session.add(Party(id=new_id("cpo"), country_code="DE", party_id=party_id, name=f"CPO {party_id}",
                              max_reservation_minutes=240, created_at=utcnow(), status="registered",
                              version="2.2.1", endpoints={}, token_for_them="unused",
                              token_from_them_hash=hash_token(token)))

    with_db(database_url, run)
    return party_id, token


@pytest.fixture
def cpo(live: LiveServer, database_url: str):  # type: ignore[no-untyped-def]
    party_id, token = make_cpo(database_url)
    with httpx.Client(base_url=live.base, headers={"Authorization": authorization_header(token)}) as http:
        yield Cpo(party_id, token, http)
