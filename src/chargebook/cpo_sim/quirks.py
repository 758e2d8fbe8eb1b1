"""Quirk switches: the simulator behaving like CPO implementations seen in the field.

Each switch is a name; a profile is a named set of switches (``--quirks field``). The default
is no quirks: the simulator stays a well-behaved OCPI CPO. What every switch does, and why an
eMSP must cope with it, is in docs/cpo-simulator.md § Quirks; where chargebook copes is in
docs/ocpi-conformance.md § Tolerances.

To add a switch: name it in :data:`SWITCHES` (the ``field`` profile is every switch), check
``sim.quirk(NAME)`` where it bites, and document it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

#: Single objects in ``data`` sent as one-element lists: command answers, GET location / EVSE
#: / connector, token answers.
LIST_WRAPPED_OBJECTS = "list_wrapped_objects"
#: HTTP 401/403 answered ``{"detail": "..."}`` instead of an OCPI envelope.
NON_ENVELOPE_AUTH_ERRORS = "non_envelope_auth_errors"
#: A token that is not Base64 answered with a generic 3000 in HTTP 200.
GENERIC_ERROR_FOR_UNDECODABLE_TOKEN = "generic_error_for_undecodable_token"
#: Module URLs without a trailing slash answered with a 307 to the slash form.
SLASH_REDIRECTS = "slash_redirects"
#: ``Link`` headers that cannot be used (wrong scheme, ``ModuleID.LOCATIONS`` in the path,
#: ``date_from=None``, another host) and an empty ``Link:`` on the last page.
BAD_LINK_HEADERS = "bad_link_headers"
#: Every unset optional field sent as ``null`` (restrictions objects full of nulls, too).
EXPLICIT_NULLS = "explicit_nulls"
#: CDRs without ``cdr_location.evse_uid``.
CDR_WITHOUT_EVSE_UID = "cdr_without_evse_uid"
#: Our requests to the eMSP carry no X-Request-ID, X-Correlation-ID or OCPI-from/-to.
BARE_REQUESTS = "bare_requests"
#: Our ``GET /credentials`` with token A answered HTTP 401 ``{"detail": ...}``
#: (``SimConfig.refuse_credentials_get``).
REFUSE_CREDENTIALS_GET = "refuse_credentials_get"
#: On our credentials POST, every version called back with token B before answering
#: (``SimConfig.early_callback``).
EARLY_CALLBACK = "early_callback"
#: Every CiString id on the way back lower-cased, ours included (``SimConfig.recase_ids``).
RECASE_IDS = "recase_ids"
#: Switches that are also plain settings of the simulator (``SimConfig``).
SETTING_SWITCHES = (REFUSE_CREDENTIALS_GET, EARLY_CALLBACK, RECASE_IDS)

SWITCHES: frozenset[str] = frozenset({
    LIST_WRAPPED_OBJECTS,
    NON_ENVELOPE_AUTH_ERRORS,
    GENERIC_ERROR_FOR_UNDECODABLE_TOKEN,
    SLASH_REDIRECTS,
    BAD_LINK_HEADERS,
    EXPLICIT_NULLS,
    CDR_WITHOUT_EVSE_UID,
    BARE_REQUESTS,
    REFUSE_CREDENTIALS_GET,
    EARLY_CALLBACK,
    RECASE_IDS,
})

#: Named sets of switches. ``field``: what an OCPI 2.2.1 CPO built on a widely used
#: open-source OCPI library was seen sending, which is every switch above.
PROFILES: dict[str, frozenset[str]] = {"field": SWITCHES}


def expand(names: Iterable[str]) -> list[str]:
    """Switch names from profile and switch names (``"field"``, ``"explicit_nulls,…"``),
    sorted, each once; an unknown name is a ValueError listing the known ones."""
    found: set[str] = set()
    for raw in names:
        for name in (part.strip() for part in raw.split(",")):
            if not name or name == "none":
                continue
            if name in PROFILES:
                found |= PROFILES[name]
            elif name in SWITCHES:
                found.add(name)
            else:
                known = ", ".join(sorted(PROFILES) + sorted(SWITCHES))
                raise ValueError(f"unknown quirk {name!r}; known: {known}")
    return sorted(found)


# --- explicit nulls ------------------------------------------------------------------------

#: Set while a model is written for a peer that gets explicit nulls (see ``outbound.wire``).
NULLS: ContextVar[bool] = ContextVar("cpo_sim_explicit_nulls", default=False)


def with_explicit_nulls(model: BaseModel) -> dict[str, Any]:
    """``model`` as plain data with every unset optional field written as ``null``; an unset
    optional object whose fields are all optional (a tariff's ``restrictions``) is written as
    a whole object of nulls. Set fields keep their values (exact Decimals)."""
    out: dict[str, Any] = {}
    for name, info in type(model).model_fields.items():
        if name in model.model_fields_set:
            out[name] = _nulled(getattr(model, name))
        elif not info.is_required():
            empty = _all_optional_model(info.annotation)
            out[name] = None if empty is None else dict.fromkeys(empty.model_fields)
    out.update({k: _nulled(v) for k, v in (model.model_extra or {}).items()})
    return out


def _nulled(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return with_explicit_nulls(value)
    if isinstance(value, list | tuple):
        return [_nulled(v) for v in value]
    return value


def _all_optional_model(annotation: Any) -> type[BaseModel] | None:
    """The model in ``X | None`` when none of X's fields is required."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return None
    for arg in typing.get_args(annotation):
        if (
            isinstance(arg, type)
            and issubclass(arg, BaseModel)
            and not any(f.is_required() for f in arg.model_fields.values())
        ):
            return arg
    return None


# --- pagination ------------------------------------------------------------------------------


def spoil_link(headers: dict[str, str], page: int) -> dict[str, str]:
    """Page headers as a field CPO writes them: the next link broken one of four ways (in
    turn, by page number), and an empty ``Link:`` on the last page."""
    link = headers.get("Link")
    if link is None:
        return {**headers, "Link": ""}
    parts = urlsplit(link[link.index("<") + 1 : link.index(">")])
    kind = page % 4
    if kind == 0:  # the scheme it runs behind a proxy with, not the one we reach it at
        parts = parts._replace(scheme="https" if parts.scheme == "http" else "http")
    elif kind == 1:  # an enum's name printed into the path
        head, _, module = parts.path.rstrip("/").rpartition("/")
        parts = parts._replace(path=f"{head}/ModuleID.{module.upper()}")
    elif kind == 2:  # an unset variable printed into the query
        parts = parts._replace(query=parts.query + "&date_from=None")
    else:  # its internal host name
        parts = parts._replace(netloc="cpo-backend.internal:8080")
    return {**headers, "Link": f'<{urlunsplit(parts)}>; rel="next"'}
