"""Webhooks cannot reach inside the network (issue 12.2).

A tenant chooses a webhook URL and the worker POSTs to it from inside the operator's network.
Without a rule a tenant could register ``http://127.0.0.1:5432/`` or the cloud metadata
address, fire ``POST /webhooks/{id}/test`` and read the outcome: a port scanner. Refused at
registration (every address spelling), refused again at each delivery after DNS resolution
(so a name that later resolves elsewhere gets nowhere), and a tenant sees a fixed word for
a failed attempt, never the HTTP library's text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import httpx
import pytest

from chargebook.db.engine import Database
from chargebook.domain.errors import InvalidRequest
from chargebook.domain.network import IPAddress, is_public, literal_address
from chargebook.domain.webhooks import AttemptFailure
from chargebook.services import webhooks
from chargebook.services.clients import create_client
from chargebook.services.webhook_deliveries import DeliveryPolicy
from chargebook.services.webhook_targets import REFUSED, BlockedAddress, check_target
from chargebook.settings import Settings
from chargebook.worker.deliver_webhooks import deliver_due_webhooks
from chargebook.worker.public_network import failure_of, webhook_client
from tests.conftest import LiveServer
from tests.factories import api, make_client, with_db
from tests.receiver import Receiver

INSIDE = [
    "http://127.0.0.1:5432/",
    "http://localhost:5432/",
    "http://db.localhost/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hooks",
    "http://172.16.3.4/hooks",
    "http://192.168.1.1/hooks",
    "http://100.64.0.1/hooks",  # shared address space (carrier-grade NAT)
    "http://0.0.0.0:8000/",
    "http://0/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",  # octal
    "http://017700000001/",
    "http://127.1/",
    "http://[::1]:5432/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:a9fe:a9fe]/",  # IPv4-mapped 169.254.169.254
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[fec0::1]/",  # site-local
    "http://[ff02::1]/",
    "https://127.0.0.1./",  # a trailing dot
]


@pytest.fixture(scope="module")
def strict(database_url: str) -> Iterator[LiveServer]:
    """A server with the default: private networks not allowed."""
    with LiveServer(Settings(database_url=database_url)) as server:
        yield server


@pytest.fixture
def http(strict: LiveServer, database_url: str) -> Iterator[httpx.Client]:
    _, key = make_client(database_url)
    with api(strict.client_base, key) as client:
        yield client


@pytest.mark.parametrize("url", INSIDE)
def test_registering_an_address_inside_the_network_is_refused(http: httpx.Client, url: str) -> None:
    r = http.post("/webhooks", json={"url": url, "event_types": ["*"]})
    assert (r.status_code, r.json()) == (400, {"error": REFUSED}), url
    assert http.get("/webhooks").json() == {"webhooks": []}  # nothing written


@pytest.mark.parametrize("url", ["http://8.8.8.8/hooks", "https://[2001:4860:4860::8888]/h",
                                 "https://hooks.invalid/in"])
def test_public_addresses_and_names_not_yet_resolvable_are_accepted(http: httpx.Client, url: str) -> None:
    r = http.post("/webhooks", json={"url": url, "event_types": ["*"]})
    assert r.status_code == 201, r.text


async def test_the_service_refuses_by_default_and_allows_when_told(db: Database) -> None:
    client, _ = await create_client(db, "ssrf")
    with pytest.raises(InvalidRequest):
        await webhooks.create_endpoint(db, client.id, url="http://127.0.0.1:5432/", event_types=["*"])
    allowed = await webhooks.create_endpoint(db, client.id, url="http://127.0.0.1:5432/", event_types=["*"],
                                             allow_private_networks=True)
    assert allowed.url == "http://127.0.0.1:5432/"


async def test_a_name_resolving_inside_the_network_is_refused_at_registration() -> None:
    async def inside(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.1.2.3")]

    with pytest.raises(InvalidRequest):  # any one refused address is enough
        await check_target("https://hooks.tenant.test/", False, inside)
    await check_target("https://hooks.tenant.test/", True, inside)  # the operator allows it


def test_a_delivery_to_an_address_allowed_then_refused_never_leaves(fresh_database_url: str) -> None:
    """Registered while the operator allowed private networks; at delivery (now refused) the
    worker resolves, checks and refuses: the receiver never sees a request, and the tenant
    reads ``blocked_address``."""
    receiver = Receiver().start()
    try:
        open_server = LiveServer(Settings(database_url=fresh_database_url, webhook_allow_private_networks=True))
        with open_server as live:
            _, key = make_client(fresh_database_url)
            with api(live.client_base, key) as http:
                urls = [receiver.url, receiver.url.replace("127.0.0.1", "localhost")]
                hooks = [http.post("/webhooks", json={"url": u, "event_types": ["*"]}).json()["id"] for u in urls]
                for hook in hooks:
                    assert http.post(f"/webhooks/{hook}/test").status_code == 202
                strict_policy = DeliveryPolicy(timeout_seconds=5)
                sent = _deliver(fresh_database_url, strict_policy)
                assert sent == 2
                attempts = [http.get(f"/webhooks/{h}/deliveries").json()["deliveries"][0]["attempts"] for h in hooks]
        assert receiver.snapshot() == []
        for (attempt,) in attempts:
            assert (attempt["status_code"], attempt["error"]) == (None, "blocked_address")
    finally:
        receiver.close()


def _deliver(url: str, policy: DeliveryPolicy) -> int:
    return with_db(url, lambda db: deliver_due_webhooks(db, policy))


async def test_dns_rebinding_cannot_switch_the_checked_address() -> None:
    """The name resolves to a public address when it is registered and to loopback (where a
    receiver listens) afterwards. The delivery resolves once, refuses, and never connects."""
    receiver = Receiver().start()
    answers = [["8.8.8.8"], ["127.0.0.1"], ["127.0.0.1"]]
    asked: list[str] = []

    async def rebinding(host: str, port: int) -> list[IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address(a) for a in answers[min(len(asked) - 1, len(answers) - 1)]]

    url = f"http://hooks.tenant.test:{receiver.port}/hooks"
    try:
        await check_target(url, False, rebinding)  # public at registration
        async with webhook_client(5, False, rebinding) as client:
            with pytest.raises(BlockedAddress) as refused:
                await client.post(url, content=b"{}")
        assert failure_of(refused.value) is AttemptFailure.BLOCKED_ADDRESS
        assert asked == ["hooks.tenant.test", "hooks.tenant.test"]  # one lookup per connection
        assert receiver.snapshot() == []
    finally:
        receiver.close()


async def test_the_client_connects_to_the_address_it_checked() -> None:
    """A public answer, then loopback for any later lookup: the connection goes to the
    address that was checked (it fails here, with no route out), never to the receiver."""
    receiver = Receiver().start()
    asked: list[str] = []

    async def then_loopback(host: str, port: int) -> list[IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address("8.8.8.8" if len(asked) == 1 else "127.0.0.1")]

    try:
        async with webhook_client(2, False, then_loopback) as client:
            try:
                answer = await client.post(f"http://hooks.tenant.test:{receiver.port}/hooks", content=b"{}")
            except httpx.HTTPError:
                answer = None
        assert answer is None or answer.request.url.host == "hooks.tenant.test"
        assert asked == ["hooks.tenant.test"]
        assert receiver.snapshot() == []
    finally:
        receiver.close()


async def test_the_library_text_never_reaches_the_tenant() -> None:
    """What a tenant reads about an attempt that got no answer is one fixed word."""
    async with webhook_client(5, True) as client:
        with pytest.raises(httpx.ConnectError) as refused:
            await client.post("http://127.0.0.1:9/hooks")
    assert failure_of(refused.value) is AttemptFailure.CONNECTION_REFUSED
    async with webhook_client(5, False) as client:
        with pytest.raises(OSError) as unknown:
            await client.post("http://hooks.invalid/in")
    assert failure_of(unknown.value) is AttemptFailure.DNS_FAILURE


@pytest.mark.parametrize(("host", "public"), [
    ("8.8.8.8", True), ("134744072", True), ("2001:4860:4860::8888", True),
    ("127.0.0.1", False), ("2130706433", False), ("0x7f.0.0.1", False), ("0177.1", False),
    ("::ffff:7f00:1", False), ("[::1]", False), ("fe80::1%eth0", False), ("2002:7f00:1::", False),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo of 127.0.0.1
    ("198.18.0.1", False), ("192.0.2.1", False), ("::", False),
])
def test_every_spelling_is_read_as_the_resolver_reads_it(host: str, public: bool) -> None:
    address = literal_address(host)
    assert address is not None and is_public(address) is public


@pytest.mark.parametrize("name", ["example.com", "1.2.3.4.5", "256.1.1.1", "0x1g", "08.1.1.1", "1..2"])
def test_names_are_not_addresses(name: str) -> None:
    assert literal_address(name) is None
