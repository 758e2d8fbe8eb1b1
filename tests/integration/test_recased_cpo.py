"""A CPO that re-cases every id on the way back (the simulator's ``recase_ids``): its party as
``de``/``xtw``, its own location ids, EVSE uids and tariff ids in lower case in every push
after a pull that gave them in upper case, and our reservation id, token uid and
``authorization_reference`` echoed in lower case. OCPI ids are CiStrings, so the booking is
confirmed, attended and completed as with any CPO, and nothing is stored twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from chargebook.cpo_sim import DriverRules
from chargebook.db.models import ChargeDetailRecord, ChargingSession, Evse, Location, Party, Tariff
from tests.factories import with_db
from tests.integration import test_ocpi_loop
from tests.integration.test_ocpi_loop import Loop

pytestmark = pytest.mark.integration
loop_factory = test_ocpi_loop.loop_factory  # the fixture


def _stored(loop: Loop) -> dict[str, Any]:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            party = await session.scalar(select(Party).where(Party.party_id == "xtw"))
            assert party is not None
            count = func.count()
            return {
                "party": (party.country_code, party.party_id),
                "locations": await session.scalar(select(count).select_from(Location)
                                                  .where(Location.party_pk == party.id)),
                "evses": await session.scalar(select(count).select_from(Evse).join(Location)
                                              .where(Location.party_pk == party.id)),
                "tariffs": await session.scalar(select(count).select_from(Tariff)
                                                .where(Tariff.party_pk == party.id)),
                "sessions": list(await session.execute(select(ChargingSession.id, ChargingSession.booking_id))),
                "cdrs": list(await session.execute(select(ChargeDetailRecord.booking_id, ChargeDetailRecord.flag,
                                                          ChargeDetailRecord.data))),
            }

    return with_db(loop.url, run)  # type: ignore[no-any-return]


def test_a_recasing_cpo_confirms_attends_and_completes(loop_factory: Callable[..., Loop]) -> None:
    loop = loop_factory(country_code="DE", party_id="XTW", recase_ids=True, push_on_register=False)
    before = _stored(loop)
    assert before["party"] == ("DE", "XTW")  # registered as de/xtw, one party
    (location_id, evse_uid), = loop.bookable()
    assert location_id == location_id.upper() and evse_uid == evse_uid.upper()  # as pulled
    # The whole catalogue again, re-cased: one PUT per object, answered when all are done, so
    # it may take longer than the admin client's default 10 s on a loaded machine.
    pushed = loop.admin.post("/sim/push", timeout=60).json()
    assert pushed["failed"] == 0 and pushed["locations"] == before["locations"], pushed
    booking = loop.book(location_id, evse_uid, token_strategy="ad_hoc")
    assert booking["token"]["uid"] != booking["token"]["uid"].lower()  # the echo re-cases it
    done = loop.wait_for(booking["id"], {"COMPLETED", "CANCELLED", "EXPIRED", "NO_SHOW"})
    assert done["status"] == "COMPLETED", done
    assert [h["to_status"] for h in done["status_history"]] == [
        "REQUESTED", "PENDING", "CONFIRMED", "ATTENDING", "COMPLETED"]
    assert done["price_breakdown"]["estimated"] is False
    after = _stored(loop)
    # The pushes (lower-case ids) updated what the pull stored (upper case): nothing twice.
    for what in ("locations", "evses", "tariffs"):
        assert after[what] == before[what], what
    sessions = [s for s in after["sessions"] if s[1] == booking["id"]]
    assert len(sessions) == 1 and sessions[0][0] == sessions[0][0].lower()
    cdrs = [c for c in after["cdrs"] if c[0] == booking["id"]]
    assert len(cdrs) == 1 and cdrs[0][1] is None
    cdr = cdrs[0][2]
    assert cdr["cdr_location"]["evse_uid"] == evse_uid.lower()
    assert cdr["cdr_token"]["uid"] == booking["token"]["uid"].lower()
    assert (cdr["country_code"], cdr["party_id"]) == ("de", "xtw")
    # Every call the CPO made with re-cased ids was understood (pushes, PATCHes, results).
    calls = loop.admin.get("/sim/events", params={"kind": "outbound"}).json()
    assert {c["what"] for c in calls} >= {"location", "tariff", "session", "cdr", "command_result"}
    assert [c for c in calls if c["status_code"] != 1000] == []
    assert loop.admin.get("/sim/events", params={"kind": "outbound_failed"}).json() == []


def test_a_recasing_cpo_cancels_what_the_client_cancels(loop_factory: Callable[..., Loop]) -> None:
    loop = loop_factory(country_code="DE", party_id="XTW", recase_ids=True,
                        driver=DriverRules(no_show_share=1.0, session_seconds=0.5))
    (location_id, evse_uid), = loop.bookable()
    booking = loop.book(location_id, evse_uid, token_strategy="ad_hoc")
    assert loop.wait_for(booking["id"], {"CONFIRMED", "CANCELLED"})["status"] == "CONFIRMED"
    r = loop.http.post(f"/bookings/{booking['id']}/cancel", json={"reason": "plans changed"})
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        commands = loop.http.get(f"/bookings/{booking['id']}/commands").json()["commands"]
        if any(c["type"] == "CANCEL_RESERVATION" and c["result"] for c in commands):
            break
        time.sleep(0.1)
    # Both results came back to our response_url with its command id re-cased.
    assert [(c["type"], c["result"]) for c in commands] == [
        ("RESERVE_NOW", "ACCEPTED"), ("CANCEL_RESERVATION", "ACCEPTED")]
