"""Token B of our own registration in flight (`ocpi connect`): what it opens before and after
the CPO's identity is known, and that it opens nothing once the handshake failed or expired."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update

from chargebook.db.models import OcpiRegistration, Party
from chargebook.ocpi.transport import authorization_header, new_token
from chargebook.services import ocpi_parties, ocpi_registrations
from chargebook.services.clock import utcnow
from tests.conftest import LiveServer
from tests.factories import unique_party_id, with_db
from tests.ocpi_api.test_receivers import Cpo, location


def _open(database_url: str, token_b: str) -> str:
    return with_db(database_url, lambda db: ocpi_registrations.open_registration(
        db, ocpi_parties.hash_token(token_b), "http://127.0.0.1:9/ocpi/cpo/versions"))


def _bind(database_url: str, registration_id: str, party_id: str) -> None:
    role = {"role": "CPO", "country_code": "de", "party_id": party_id.lower(),
            "business_details": {"name": "Pending CPO"}}
    with_db(database_url, lambda db: ocpi_registrations.bind_registration(db, registration_id, role, None))


def _rows(database_url: str, party_id: str) -> tuple[int, list[str]]:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            registrations = len(list(await session.scalars(select(OcpiRegistration.id))))
            parties = list(await session.scalars(select(Party.status).where(Party.party_id == party_id)))
            return registrations, parties

    return with_db(database_url, run)  # type: ignore[no-any-return]


def test_token_b_opens_the_handshake_doors_only_until_the_party_is_bound(
    live: LiveServer, database_url: str
) -> None:
    token_b, party_id = new_token(), unique_party_id()
    registration_id = _open(database_url, token_b)
    with httpx.Client(base_url=live.base, headers={"Authorization": authorization_header(token_b)}) as cpo:
        assert cpo.get("/ocpi/versions").status_code == 200
        assert cpo.get("/ocpi/2.2.1").json()["status_code"] == 1000
        assert cpo.get("/ocpi/2.3.0/credentials").json()["data"]["token"] == token_b
        push = Cpo(party_id, token_b, cpo)
        path = push.url(f"/locations/DE/{party_id}/LOC1")
        refused = cpo.put(path, json=location(push))
        assert refused.status_code == 401 and refused.json()["status_code"] == 2000
        # Token B is not a registration token A, and not a registered party's token either.
        assert cpo.post("/ocpi/2.2.1/credentials", json={}).status_code == 405
        assert cpo.delete("/ocpi/2.2.1/credentials").status_code == 405
        # Once the CPO's identity is known (GET credentials or the POST's answer), its pushes count.
        _bind(database_url, registration_id, party_id)
        accepted = cpo.put(path, json=location(push))
        assert accepted.status_code in (200, 201) and accepted.json()["status_code"] == 1000, accepted.text
        assert cpo.get("/ocpi/versions").status_code == 200
        # The handshake fails: token B opens nothing, and the party made for it is gone.
        with_db(database_url, lambda db: ocpi_registrations.close_registration(db, registration_id))
        assert cpo.get("/ocpi/versions").status_code == 401
    assert _rows(database_url, party_id)[1] == []


def test_an_expired_pending_registration_opens_nothing_and_is_purged(
    live: LiveServer, fresh_database_url: str
) -> None:
    token_b = new_token()
    with LiveServer(live.settings.model_copy(update={"database_url": fresh_database_url})) as server:
        registration_id = _open(fresh_database_url, token_b)
        _bind(fresh_database_url, registration_id, "EXP")

        async def expire(db):  # type: ignore[no-untyped-def]
            async with db.write() as session:
                await session.execute(update(OcpiRegistration).values(expires_at=utcnow() - timedelta(seconds=1)))

        with_db(fresh_database_url, expire)
        with httpx.Client(base_url=server.base) as cpo:
            r = cpo.get("/ocpi/versions", headers={"Authorization": authorization_header(token_b)})
            assert r.status_code == 401
    assert with_db(fresh_database_url, ocpi_registrations.purge_expired) == 1
    assert _rows(fresh_database_url, "EXP") == (0, [])
