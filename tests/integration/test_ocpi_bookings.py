"""chargebook and a CPO simulator offering OCPI 2.3.0 with the Bookings module (1.1), both
real servers on 127.0.0.1: every CPO answer to a booking, followed over HTTP to our wire
status. The worker sends BookingRequests, the simulator decides and pushes, the simulated
driver charges or stays away."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from chargebook.cpo_sim import DriverRules, SimConfig, SimulatorServer
from chargebook.db.models import BookingLocation, Evse, Location, OcpiBookingRequest, Party
from chargebook.services import ocpi_bookings, ocpi_catalogue, ocpi_parties
from chargebook.settings import Settings
from tests.conftest import LiveServer, WorkerThread
from tests.factories import api, make_client, with_db

pytestmark = pytest.mark.integration
FINAL = {"COMPLETED", "CANCELLED", "EXPIRED", "NO_SHOW"}


def _z(at: datetime) -> str:
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Stack:
    def __init__(self, live: LiveServer, sim: SimulatorServer, url: str, key: str, client_id: str) -> None:
        self.live, self.sim, self.url, self.client_id = live, sim, url, client_id
        self.http = api(live.client_base, key)
        self.admin = httpx.Client(base_url=sim.url, timeout=10)
        self.party_id = sim.simulator.config.party_id

    def bookable(self, n: int) -> list[tuple[str, str]]:
        """EVSEs the CPO books through the Bookings module, free now."""
        async def run(db):  # type: ignore[no-untyped-def]
            async with db.read() as session:
                rows = await session.execute(
                    select(Location.id, Evse.uid).join(Evse, Evse.location_pk == Location.pk)
                    .join(Party, Party.id == Location.party_pk)
                    .join(BookingLocation, (BookingLocation.party_pk == Party.id)
                          & (BookingLocation.location_id == Location.id) & (BookingLocation.evse_uid == Evse.uid))
                    .where(Party.party_id == self.party_id, Evse.reservable.is_(True), Evse.status == "AVAILABLE")
                    .order_by(Location.id, Evse.uid))
                return [tuple(r) for r in rows]

        found = with_db(self.url, run)
        assert len(found) >= n, found
        return found[:n]  # type: ignore[return-value]

    def book(self, evse: tuple[str, str], *, start_in: float = 3, minutes: float = 30, **extra: Any) -> dict[str, Any]:
        start = datetime.now(UTC) + timedelta(seconds=start_in)
        r = self.http.post("/bookings", json={
            "location_id": evse[0], "evse_uid": evse[1], "reservation_start": _z(start),
            "reservation_end": _z(start + timedelta(minutes=minutes)), **extra})
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "REQUESTED"
        return r.json()  # type: ignore[no-any-return]

    def wait_for(self, booking_id: str, statuses: set[str], seconds: float = 40) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            booking = self.http.get(f"/bookings/{booking_id}").json()
            if booking["status"] in statuses or time.monotonic() > deadline:
                return booking  # type: ignore[no-any-return]
            time.sleep(0.1)

    def sim_booking(self, request_id: str) -> dict[str, Any]:
        return self.sim.call(lambda: _sim_booking(self.sim, request_id))  # type: ignore[no-any-return]


async def _sim_booking(sim: SimulatorServer, request_id: str) -> dict[str, Any]:
    store = sim.simulator.store
    found = next(b for b in store.bookings.values() if b.request_id.casefold() == request_id.casefold())
    return found.ocpi().model_dump(mode="json")


def bookings_sim(**overrides: Any) -> SimConfig:
    values: dict[str, Any] = {
        "locations": 4, "seed": 11, "party_id": "SBK", "ocpi_versions": ["2.2.1", "2.3.0"],
        "push_delay_seconds": 0.0,
        "bookings": {"processing_delay_seconds": 0.05, "noshow_timeout_minutes": 0.1, "min_booking_minutes": 0},
        "driver": DriverRules(arrive_after_seconds=0.2, session_seconds=0.6, meter_interval_seconds=0.2,
                              session_kwh=9.5),
    }
    values.update(overrides)
    return SimConfig(**values)


@pytest.fixture
def stack_factory(fresh_database_url: str) -> Iterator[Callable[..., Stack]]:
    made: list[tuple[LiveServer, WorkerThread, SimulatorServer, Stack]] = []

    def make(answer_timeout: int = 2, **overrides: Any) -> Stack:
        settings = Settings(database_url=fresh_database_url, worker_interval_seconds=0.1, min_lead_minutes=0,
                            command_retry_attempts=2, command_retry_base_seconds=0.2, booking_poll_seconds=0.5)
        live = LiveServer(settings).__enter__()
        worker = WorkerThread(live.settings).__enter__()
        sim = SimulatorServer(bookings_sim(**overrides))
        sim.start()
        me = ocpi_parties.Identity("DE", "CBK", "chargebook", live.base)

        async def connect(db):  # type: ignore[no-untyped-def]
            party = await ocpi_parties.connect(db, sim.versions_url, sim.token_a, me, None)
            counts = await ocpi_catalogue.sync_party(db, party)
            async with db.write() as session:  # the CPO's answer timeout, short for most tests
                await session.execute(update(Party).where(Party.id == party.id).values(command_timeout_seconds=answer_timeout))
            return party, counts

        party, counts = with_db(fresh_database_url, connect)
        assert (party.version, party.bookings_url) == ("2.3.0", f"{sim.url}/ocpi/cpo/2.3.0/bookings")
        assert counts["booking_locations"] >= 4
        client_id, key = make_client(fresh_database_url, reservation_fee=Decimal("2.50"),
                                     commission_percent=Decimal("10"))
        stack = Stack(live, sim, fresh_database_url, key, client_id)
        made.append((live, worker, sim, stack))
        return stack

    yield make
    for live, worker, sim, stack in made:
        stack.http.close()
        stack.admin.close()
        worker.__exit__()
        sim.stop()
        live.__exit__()


def _history(booking: dict[str, Any]) -> list[str]:
    return [h["to_status"] for h in booking["status_history"] if h["from_status"] != h["to_status"]]


def test_every_answer_of_the_cpo_reaches_the_client(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory()
    happy, rejected, mine, theirs, absent, failed, silent = stack.bookable(7)
    stack.admin.post("/sim/config", json={"bookings": {"reject_evse_uids": [rejected[1]]},
                                          "driver": {"no_show_evse_uids": [absent[1], mine[1], theirs[1]]}}
                     ).raise_for_status()
    # The driver comes at the booked start: soon, but late enough for a loaded machine to
    # have the booking confirmed first (else it would rightly EXPIRE).
    ids = {name: stack.book(evse, start_in=start)["id"] for name, evse, start in (
        ("happy", happy, 10), ("rejected", rejected, 60), ("mine", mine, 600), ("theirs", theirs, 600),
        ("absent", absent, 10))}

    # RESERVED → CONFIRMED (only then), FULFILLED → ATTENDING, the CDR → COMPLETED.
    done = stack.wait_for(ids["happy"], FINAL)
    assert done["status"] == "COMPLETED", done
    assert _history(done) == ["REQUESTED", "PENDING", "CONFIRMED", "ATTENDING", "COMPLETED"]
    cpo_booking = stack.sim_booking(ids["happy"])
    assert done["cpo_reservation_id"] == cpo_booking["id"] != ids["happy"]
    assert cpo_booking["authorization_reference"] == ids["happy"]
    cpo = Decimal(str(done["price_breakdown"]["cpo_cost"]))
    assert done["price_breakdown"]["estimated"] is False and cpo > 0
    assert Decimal(str(done["client_price"])) == cpo + Decimal("2.50") + (cpo / 10).quantize(Decimal("0.01"))

    # REJECTED → CANCELLED/CPO_REJECTED.
    no = stack.wait_for(ids["rejected"], FINAL)
    assert (no["status"], no["status_reason"]) == ("CANCELLED", "CPO_REJECTED")
    assert _history(no) == ["REQUESTED", "PENDING", "CANCELLED"]

    # The client cancels a confirmed booking: a BookingRequest with `canceled` (EMSP).
    assert stack.wait_for(ids["mine"], {"CONFIRMED"})["status"] == "CONFIRMED"
    cancelled = stack.http.post(f"/bookings/{ids['mine']}/cancel", json={"reason": "plans changed"}).json()
    assert (cancelled["status"], cancelled["status_reason"]) == ("CANCELLED", "CLIENT_CANCELLED")
    deadline = time.monotonic() + 20
    while stack.sim_booking(ids["mine"])["reservation_status"] != "CANCELED" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stack.sim_booking(ids["mine"])["canceled"] == {"cancellation_reason": "NO_CANCELED", "who_canceled": "EMSP"}
    deadline = time.monotonic() + 20
    while "cancellation" not in (stack.http.get(f"/bookings/{ids['mine']}").json()["price_breakdown"] or {}):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert stack.http.get(f"/bookings/{ids['mine']}").json()["price_breakdown"]["cancellation"]["who_canceled"] == "EMSP"

    # The CPO cancels a reserved booking (its charger broke): the reason is shown.
    assert stack.wait_for(ids["theirs"], {"CONFIRMED"})["status"] == "CONFIRMED"
    stack.admin.post(f"/sim/evses/{theirs[0]}/{theirs[1]}/status", json={"status": "OUTOFORDER"}).raise_for_status()
    gone = stack.wait_for(ids["theirs"], FINAL)
    assert (gone["status"], gone["status_reason"]) == ("CANCELLED", "CPO_CANCELLED")
    assert "BROKEN_CHARGER" in gone["status_message"]
    assert gone["price_breakdown"]["cancellation"] == {"cancellation_reason": "BROKEN_CHARGER", "who_canceled": "CPO"}

    # Nobody comes: the CPO says NO_SHOW before our own rule would.
    away = stack.wait_for(ids["absent"], FINAL)
    assert (away["status"], away["status_reason"]) == ("NO_SHOW", "NOT_ATTENDED")
    assert _history(away) == ["REQUESTED", "PENDING", "CONFIRMED", "NO_SHOW"]

    # FAILED → CANCELLED/CPO_FAILED.
    stack.admin.post("/sim/config", json={"bookings": {"fail_share": 1.0}}).raise_for_status()
    broke = stack.wait_for(stack.book(failed, start_in=60)["id"], FINAL)
    assert (broke["status"], broke["status_reason"]) == ("CANCELLED", "CPO_FAILED")

    # The CPO never answers: PENDING until the answer timeout, then CPO_TIMEOUT, and we
    # withdraw the request at the CPO.
    stack.admin.post("/sim/config", json={"bookings": {"fail_share": 0.0, "never_answer_share": 1.0}}
                     ).raise_for_status()
    quiet = stack.wait_for(stack.book(silent, start_in=120)["id"], FINAL)
    assert (quiet["status"], quiet["status_reason"]) == ("CANCELLED", "CPO_TIMEOUT")
    assert _history(quiet) == ["REQUESTED", "PENDING", "CANCELLED"]

    async def kinds(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return list(await session.scalars(select(OcpiBookingRequest.kind).where(
                OcpiBookingRequest.booking_id == quiet["id"]).order_by(OcpiBookingRequest.created_at)))

    assert with_db(stack.url, kinds) == ["create", "cancel"]


def _party(url: str, party_id: str) -> Party:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.read() as session:
            return await session.scalar(select(Party).where(Party.party_id == party_id))

    return with_db(url, run)  # type: ignore[no-any-return]


def _set_version(url: str, party_id: str, version: str) -> None:
    async def run(db):  # type: ignore[no-untyped-def]
        async with db.write() as session:
            await session.execute(update(Party).where(Party.party_id == party_id)
                                  .values(version=version, bookings_url=None))

    with_db(url, run)


def test_the_highest_mutual_version_both_ways_and_on_updates(fresh_database_url: str) -> None:
    url = fresh_database_url
    with LiveServer(Settings(database_url=url)) as live:
        me = ocpi_parties.Identity("DE", "CBK", "chargebook", live.base)
        sims = {pid: SimulatorServer(bookings_sim(locations=2, party_id=pid, ocpi_versions=versions))
                for pid, versions in (("S21", ["2.2.1"]), ("S23", ["2.2.1", "2.3.0"]),
                                      ("R21", ["2.2.1"]), ("R23", ["2.2.1", "2.3.0"]))}
        for sim in sims.values():
            sim.start()
        try:
            # We register with them.
            for pid in ("S21", "S23"):
                sim = sims[pid]
                with_db(url, lambda db, sim=sim: ocpi_parties.connect(db, sim.versions_url, sim.token_a, me, None))
            assert (_party(url, "S21").version, _party(url, "S21").bookings_url) == ("2.2.1", None)
            assert (_party(url, "S23").version, _party(url, "S23").bookings_url) == (
                "2.3.0", f"{sims['S23'].url}/ocpi/cpo/2.3.0/bookings")
            # They register with us (token A from an invite).
            for pid in ("R21", "R23"):
                token_a = with_db(url, lambda db, pid=pid: ocpi_parties.issue_invite(db, pid))
                assert sims[pid].register_with(f"{live.base}/ocpi/versions", token_a) is not None
            assert (_party(url, "R21").version, _party(url, "R21").bookings_url) == ("2.2.1", None)
            assert _party(url, "R23").version == "2.3.0" and _party(url, "R23").bookings_url
            # Their credentials update (PUT to our 2.3.0 credentials) switches to 2.3.0 again.
            _set_version(url, "R23", "2.2.1")
            old_hash = _party(url, "R23").token_from_them_hash
            httpx.post(f"{sims['R23'].url}/sim/rotate", timeout=10).raise_for_status()
            rotated = _party(url, "R23")
            assert (rotated.version, rotated.token_from_them_hash != old_hash) == ("2.3.0", True)
            assert rotated.bookings_url and rotated.pending_token_hash is None
            # Our update (we PUT new credentials) re-negotiates too; the new tokens work both ways.
            _set_version(url, "S23", "2.2.1")
            before = _party(url, "S23")
            after = with_db(url, lambda db: ocpi_parties.update_credentials(db, before, me))
            assert (after.version, after.bookings_url) == ("2.3.0", before.endpoints["Booking:SENDER"])
            assert after.token_for_them != before.token_for_them
            assert after.token_from_them_hash != before.token_from_them_hash and after.pending_token_hash is None
            assert with_db(url, lambda db: ocpi_catalogue.sync_party(db, after))["booking_locations"] >= 1
            pushed = sims["S23"].push_catalogue()  # the CPO calls us with the token of the update
            assert pushed["failed"] == 0 and pushed["locations"] == 2
        finally:
            for sim in sims.values():
                sim.stop()


def test_changes_and_lost_pushes(stack_factory: Callable[..., Stack]) -> None:
    stack = stack_factory(answer_timeout=60)
    moved, kept, quiet = stack.bookable(3)
    ids = {name: stack.book(evse, start_in=7200)["id"] for name, evse in (("moved", moved), ("kept", kept))}
    first = stack.wait_for(ids["moved"], {"CONFIRMED"})
    assert stack.wait_for(ids["kept"], {"CONFIRMED"})["status"] == "CONFIRMED"

    # A change the CPO accepts moves the window (same request_id, new period).
    start = datetime.fromisoformat(first["reservation_start"].replace("Z", "+00:00")) + timedelta(minutes=30)
    with_db(stack.url, lambda db: ocpi_bookings.request_change(
        db, stack.client_id, ids["moved"], start=start, end=start + timedelta(minutes=45)))
    deadline = time.monotonic() + 20
    while stack.http.get(f"/bookings/{ids['moved']}").json()["reservation_start"] != _z(start):
        assert time.monotonic() < deadline, "the accepted change never arrived"
        time.sleep(0.1)
    changed = stack.http.get(f"/bookings/{ids['moved']}").json()
    assert changed["status"] == "CONFIRMED" and changed["reservation_end"] == _z(start + timedelta(minutes=45))
    assert [h["event"] for h in changed["status_history"]][-2:] == ["CHANGE_REQUESTED", "CHANGE_ACCEPTED"]
    cpo = stack.sim_booking(ids["moved"])
    assert cpo["request_id"] == ids["moved"] and cpo["period"]["start_date_time"].startswith(_z(start)[:16])

    # A change the CPO declines leaves the booking as it was.
    stack.admin.post("/sim/config", json={"bookings": {"change_not_allowed": True}}).raise_for_status()
    before = stack.http.get(f"/bookings/{ids['kept']}").json()
    with_db(stack.url, lambda db: ocpi_bookings.request_change(
        db, stack.client_id, ids["kept"], start=start, end=start + timedelta(minutes=20)))
    deadline = time.monotonic() + 20
    while "CHANGE_DECLINED" not in [h["event"] for h in stack.http.get(f"/bookings/{ids['kept']}").json()["status_history"]]:
        assert time.monotonic() < deadline, "the declined change never arrived"
        time.sleep(0.1)
    after = stack.http.get(f"/bookings/{ids['kept']}").json()
    assert (after["status"], after["reservation_start"], after["reservation_end"]) == (
        "CONFIRMED", before["reservation_start"], before["reservation_end"])

    # Pushes lost: the CPO's answers change without a push; polling finds them.
    stack.admin.post("/sim/config", json={"bookings": {"never_answer_share": 1.0}}).raise_for_status()
    silent = stack.book(quiet, start_in=600)["id"]
    assert stack.wait_for(silent, {"PENDING"})["status"] == "PENDING"
    cpo_id = stack.sim_booking(silent)["id"]
    stack.admin.post(f"/sim/bookings/{cpo_id}/status", json={"status": "RESERVED", "push": False}).raise_for_status()
    confirmed = stack.wait_for(silent, {"CONFIRMED", *FINAL})
    assert confirmed["status"] == "CONFIRMED" and confirmed["cpo_reservation_id"] == cpo_id
    stack.admin.post(f"/sim/bookings/{cpo_id}/status", json={"status": "NO_SHOW", "push": False}).raise_for_status()
    assert stack.wait_for(silent, FINAL)["status"] == "NO_SHOW"
