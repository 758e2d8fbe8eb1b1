"""Independent vectors (TandemDrive ``ocpi-tariffs``, ``ocpi-tariffs-py``) through the CLI.

Each vector gives a tariff, the ``chargebook tariffs price`` arguments and the expected
totals. Where the source CDR conflicts with the spec (``doubt``), the spec's number
(``reference``) is asserted; docs/tariffs.md explains each such case.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chargebook.cli.tariffs import app

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "tariff-vectors" / "independent.json").read_text())


def expected(vector: dict[str, Any]) -> tuple[str, str | None]:
    if "doubt" in vector:
        excl, incl = vector["reference"]
        return excl, incl
    return vector["excl"], vector["incl"]


@pytest.mark.parametrize(
    "vector", VECTORS, ids=[f"{i}-{v['source'].split('/')[-2]}" for i, v in enumerate(VECTORS)]
)
def test_vector_through_the_cli(vector: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "tariff.json"
    path.write_text(json.dumps(vector["tariff"]))
    result = CliRunner().invoke(app, ["price", str(path), *vector["args"], "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    excl, incl = expected(vector)
    assert Decimal(out["excl_vat"]) == Decimal(excl)
    assert (out["incl_vat"] is None) is (incl is None)
    if incl is not None:
        assert Decimal(out["incl_vat"]) == Decimal(incl)


def test_undoubted_vectors_agree_with_their_reference() -> None:
    # Guards the file itself: a vector without doubt must not hide a spec disagreement.
    for vector in VECTORS:
        if "doubt" not in vector and "reference" in vector:
            ref_excl, ref_incl = vector["reference"]
            assert Decimal(vector["excl"]) == Decimal(ref_excl)
            assert (vector["incl"] is None and ref_incl is None) or Decimal(
                vector["incl"]
            ) == Decimal(ref_incl)
