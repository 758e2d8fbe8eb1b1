"""Which connected CPOs a client may use: its contract.

A client is contracted for every CPO (the default, ``clients.all_cpos``) or for a list of them
(``client_cpos``). The contract decides what the client can find and book:

- search lists only locations of contracted CPOs, and ``cpo_results`` names only those;
- ``POST /bookings`` at a CPO outside the contract answers 404, exactly like an unknown EVSE
  (the client learns nothing about CPOs it has no contract with);
- the client's own bookings stay readable, cancellable and billed after a CPO leaves its
  contract: they are its data, and a booking held at a CPO must remain cancellable.

The SQL form of the rule, :func:`contract_allows`, is what search and booking put in their
queries; :func:`allows` answers the same question for one party in Python (the console).
The operator edits contracts with ``chargebook clients update CLIENT_ID --cpos DE*SIM,DE*SBK``
or ``--all-cpos``; the console calls :func:`set_contract` and :func:`get_contract`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargebook.db.engine import Database
from chargebook.db.models import Client, ClientCpo, Party
from chargebook.domain.errors import InvalidRequest, NotFound


@dataclass(frozen=True, slots=True)
class ContractedCpo:
    party_pk: str
    country_code: str
    party_id: str
    name: str

    @property
    def code(self) -> str:
        """``DE*SIM``: how operators name a CPO (country code and party id, OCPI style)."""
        return f"{self.country_code}*{self.party_id}"


@dataclass(frozen=True, slots=True)
class Contract:
    """A client's contract: every CPO, or the listed ones."""

    client_id: str
    all_cpos: bool
    cpos: tuple[ContractedCpo, ...] = ()

    def allows(self, party_pk: str) -> bool:
        return self.all_cpos or any(c.party_pk == party_pk for c in self.cpos)

    def describe(self) -> str:
        if self.all_cpos:
            return "all connected CPOs"
        return ", ".join(c.code for c in self.cpos) or "no CPO"


def contract_allows(party_pk: Any, client_id: Any = None) -> Any:
    """SQL: the CPO (a column or value) is in the contract of the client bound as
    ``:client_id`` (or given). Used only for clients whose contract lists CPOs: a client with
    ``all_cpos`` needs no condition at all, so its queries stay as they were."""
    client = bindparam("client_id") if client_id is None else client_id
    return exists().where(ClientCpo.client_id == client, ClientCpo.party_pk == party_pk)


def parse_cpo_codes(text: str) -> list[tuple[str, str]]:
    """``"DE*SIM, de-sbk"`` → ``[("DE", "SIM"), ("DE", "SBK")]``; country code and party id
    are case-insensitive in OCPI (CiString) and are compared upper-case."""
    codes: list[tuple[str, str]] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        country, sep, party = part.replace("-", "*").partition("*")
        if not sep or len(country) != 2 or not 1 <= len(party) <= 3:
            raise InvalidRequest(f"CPO {part!r}: write it as COUNTRY*PARTY, e.g. DE*SIM")
        codes.append((country.upper(), party.upper()))
    if not codes:
        raise InvalidRequest("name at least one CPO, e.g. DE*SIM, or use all CPOs")
    return codes


async def _load(session: AsyncSession, client_id: str) -> Contract:
    client = await session.get(Client, client_id)
    if client is None:
        raise NotFound(f"Client not found: {client_id}")
    rows = await session.execute(
        select(Party.id, Party.country_code, Party.party_id, Party.name)
        .join(ClientCpo, ClientCpo.party_pk == Party.id)
        .where(ClientCpo.client_id == client_id)
        .order_by(Party.country_code, Party.party_id)
    )
    return Contract(client_id, client.all_cpos, tuple(ContractedCpo(*row) for row in rows))


async def get_contract(db: Database, client_id: str) -> Contract:
    """The client's contract, with the CPOs it lists."""
    async with db.read() as session:
        return await _load(session, client_id)


async def set_contract(db: Database, client_id: str, cpos: Sequence[tuple[str, str]] | None) -> Contract:
    """Contract the client for exactly ``cpos`` (``(country_code, party_id)`` pairs of
    connected CPOs), or for every CPO with ``None``. Applies from the client's next request."""
    async with db.write() as session:
        client = await session.get(Client, client_id, with_for_update=True)
        if client is None:
            raise NotFound(f"Client not found: {client_id}")
        await session.execute(delete(ClientCpo).where(ClientCpo.client_id == client_id))
        client.all_cpos = cpos is None
        if cpos is not None:
            wanted = {(c.upper(), p.upper()) for c, p in cpos}
            found = {
                (str(cc).upper(), str(pid).upper()): pk
                for pk, cc, pid in await session.execute(
                    select(Party.id, Party.country_code, Party.party_id).where(
                        func.upper(Party.country_code).in_([c for c, _ in wanted]),
                        func.upper(Party.party_id).in_([p for _, p in wanted]),
                    )
                )
            }
            missing = sorted(f"{c}*{p}" for c, p in wanted if (c, p) not in found)
            if missing:
                raise InvalidRequest(f"unknown CPO {', '.join(missing)}: see `chargebook ocpi parties`")
            await session.execute(insert(ClientCpo), [
                {"client_id": client_id, "party_pk": found[key]} for key in sorted(wanted)])
        await session.flush()
        return await _load(session, client_id)
