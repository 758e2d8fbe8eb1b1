"""`chargebook clients update --cpos / --all-cpos`: the operator sets which CPOs a client may use."""

from __future__ import annotations

from chargebook.services.contracts import get_contract
from tests.cli.test_cli import chargebook
from tests.factories import make_client, make_site, with_db


def test_contract_by_cli(database_url: str) -> None:
    site = make_site(database_url)
    client_id, _ = make_client(database_url)
    code = f"DE*{site.party_id}"
    narrowed = chargebook("clients", "update", client_id, "--cpos", code.lower(), url=database_url)
    assert narrowed.returncode == 0, narrowed.stderr
    assert f"CPOs: {code}" in narrowed.stdout
    contract = with_db(database_url, lambda db: get_contract(db, client_id))
    assert not contract.all_cpos and [c.code for c in contract.cpos] == [code]
    unknown = chargebook("clients", "update", client_id, "--cpos", "DE*ZZ9", url=database_url)
    assert unknown.returncode == 2 and "unknown CPO DE*ZZ9" in unknown.stderr
    malformed = chargebook("clients", "update", client_id, "--cpos", "SIM", url=database_url)
    assert malformed.returncode == 2 and "COUNTRY*PARTY" in malformed.stderr
    assert [c.code for c in with_db(database_url, lambda db: get_contract(db, client_id)).cpos] == [code]
    everything = chargebook("clients", "update", client_id, "--all-cpos", url=database_url)
    assert everything.returncode == 0 and "CPOs: all connected CPOs" in everything.stdout
    assert with_db(database_url, lambda db: get_contract(db, client_id)).all_cpos
