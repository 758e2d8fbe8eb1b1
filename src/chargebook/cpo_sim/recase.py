"""Re-cased ids: a CPO that lower-cases every CiString id on the way back (``recase_ids``).

OCPI 2.2.1 types.asciidoc § CiString: ids compare case-insensitively, and CPOs in the field
do re-case them, the eMSP's own included (a reservation id, token uid or
``authorization_reference`` echoed in lower case; ``de``/``xtw`` for ``DE``/``XTW``). With
``recase_ids`` on, the simulator does the same to everything it sends after registration:
pushes (their URLs and bodies), sessions and CDRs, the command id in a ``response_url``, the
token uid it asks the eMSP to authorize, and the single-object and session/CDR GETs it answers.
The paginated Locations and Tariffs pulls keep the catalogue's own case, so the eMSP sees
the same ids in two spellings: one from its pull, another in every push.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: Fields that hold CiString ids (OCPI 2.2.1 / 2.3.0 object tables), at any depth.
ID_FIELDS = frozenset({
    "id", "uid", "country_code", "party_id", "location_id", "evse_uid", "evse_id", "connector_id",
    "session_id", "authorization_reference", "reservation_id", "contract_id", "tariff_ids",
    "cdr_id", "booking_id", "request_id", "booking_location_id", "calendar_id",
})


def recased(value: Any) -> Any:
    """Plain OCPI data (dicts, lists) with every id field lower-cased."""
    if isinstance(value, dict):
        return {k: _lower(v) if k in ID_FIELDS else recased(v) for k, v in value.items()}
    if isinstance(value, list):
        return [recased(item) for item in value]
    return value


def _lower(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.lower() for v in value]
    return recased(value)


def recased_url(url: str, base: str | None) -> str:
    """``url`` with the ids after ``base`` (a module endpoint of the eMSP) lower-cased; without
    a base (a ``response_url``), only its last segment: the command id, not the command type
    (an enum, case-sensitive)."""
    parts = urlsplit(url)
    if base is not None and url.startswith(base.rstrip("/")):
        head = base.rstrip("/")
        return head + url[len(head):].lower()
    head, _, last = parts.path.rpartition("/")
    return urlunsplit(parts._replace(path=f"{head}/{last.lower()}"))
