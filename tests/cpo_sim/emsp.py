"""A tiny recording eMSP for the simulator's tests: real HTTP on 127.0.0.1, every call kept.

It serves the eMSP side of OCPI 2.2.1 (and 2.3.0, with a Bookings receiver) just enough for
the simulator to talk to: versions and details, credentials (both handshake directions), the
Locations/Tariffs/Sessions/CDRs/Bookings receivers, the Tokens sender (list and real-time
authorization) and command results. Every version's modules live under ``/emsp/{version}``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Request
from starlette.responses import Response

from chargebook.cpo_sim.server import ThreadedServer
from chargebook.ocpi import transport as t
from chargebook.ocpi.v221 import load_json

PARTY = ("NL", "EMP")
ALL_MODULES = {
    "credentials": "SENDER",
    "locations": "RECEIVER",
    "tariffs": "RECEIVER",
    "sessions": "RECEIVER",
    "cdrs": "RECEIVER",
    "tokens": "SENDER",
    "commands": "SENDER",
}


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    token: str | None
    authorized: bool
    body: Any
    headers: dict[str, str]


def token_object(
    uid: str = "TOKEN0001", *, whitelist: str = "NEVER", type_: str = "APP_USER"
) -> dict[str, Any]:
    return {
        "country_code": PARTY[0],
        "party_id": PARTY[1],
        "uid": uid,
        "type": type_,
        "contract_id": f"NLEMPC{uid[-6:]}",
        "issuer": "Recording eMSP",
        "valid": True,
        "whitelist": whitelist,
        "last_updated": "2026-01-01T00:00:00Z",
    }


class RecordingEmsp:
    def __init__(
        self,
        modules: dict[str, str] | None = None,
        versions: tuple[str, ...] = ("2.2.1",),
        booking_module: str | None = "Booking",
    ) -> None:
        self.modules = dict(ALL_MODULES if modules is None else modules)
        self.versions = versions
        self.booking_module = booking_module  # its identifier in 2.3.0 details; None: absent
        self.calls: list[Call] = []
        self._cond = threading.Condition()
        self.token_a = "emsp-A-" + secrets.token_hex(8)  # we issue it, the sim registers with it
        self.accepted: set[str] = {self.token_a}
        self.sim_token: str | None = None  # what we present to the sim
        self.sim_fetch_status: list[
            int
        ] = []  # our GETs of the sim's versions while answering its POST
        self.tokens = [token_object(f"TOKEN{n:04d}") for n in range(1, 8)]
        self.authorize_answer = "ALLOWED"  # or BLOCKED, NOT_ALLOWED, unknown
        self.authorization_reference: str | None = "AUTH-REF-0001"
        self.app = self._build()
        self.server = ThreadedServer(self.app, name="emsp")
        self.base = self.server.url
        self.versions_url = f"{self.base}/emsp/versions"

    # --- life cycle and inspection ------------------------------------------------------

    def start(self) -> RecordingEmsp:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def issue_token(self) -> str:
        token = "emsp-" + secrets.token_hex(12)
        self.accepted.add(token)
        return token

    def credentials(self, token: str) -> dict[str, Any]:
        return {
            "token": token,
            "url": self.versions_url,
            "roles": [
                {
                    "role": "EMSP",
                    "business_details": {"name": "Recording eMSP"},
                    "country_code": PARTY[0],
                    "party_id": PARTY[1],
                }
            ],
        }

    def wait_for(self, predicate: Callable[[list[Call]], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate(calls)`` is truthy; return its value (fail after timeout)."""
        with self._cond:
            found = self._cond.wait_for(lambda: predicate(list(self.calls)), timeout=timeout)
            assert found, f"timed out; calls so far: {[(c.method, c.path) for c in self.calls]}"
            return predicate(list(self.calls))

    def reset(self) -> None:
        with self._cond:
            self.calls.clear()

    def find(self, method: str, contains: str) -> list[Call]:
        return [c for c in list(self.calls) if c.method == method and contains in c.path]

    # --- the app ---------------------------------------------------------------------------

    def _record(self, request: Request, body: Any) -> Call:
        given = t.token_from_authorization(request.headers.get("Authorization"))
        call = Call(
            request.method,
            request.url.path,
            dict(request.query_params),
            given,
            given in self.accepted,
            body,
            {k.lower(): v for k, v in request.headers.items()},
        )
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
        return call

    async def _body(self, request: Request) -> Any:
        raw = await request.body()
        return load_json(raw) if raw else None

    def _build(self) -> FastAPI:
        app = FastAPI()
        denied = t.ocpi_response(status_code=2000, message="Unauthorized", http_status=401)

        @app.get("/emsp/versions")
        async def versions(request: Request) -> Response:
            if not self._record(request, None).authorized:
                return denied
            return t.ocpi_response(
                [{"version": v, "url": f"{self.base}/emsp/{v}"} for v in self.versions]
            )

        @app.get("/emsp/{version}")
        async def details(request: Request, version: str) -> Response:
            if not self._record(request, None).authorized:
                return denied
            modules = dict(self.modules)
            if version == "2.3.0" and self.booking_module:
                modules[self.booking_module] = "RECEIVER"
            endpoints = [
                {"identifier": m, "role": r, "url": f"{self.base}/emsp/{version}/{m.lower()}"}
                for m, r in modules.items()
            ]
            return t.ocpi_response({"version": version, "endpoints": endpoints})

        @app.api_route("/emsp/{version}/credentials", methods=["GET", "POST", "PUT", "DELETE"])
        async def credentials(request: Request, version: str) -> Response:
            body = await self._body(request)
            call = self._record(request, body)
            if not call.authorized:
                return denied
            if request.method == "DELETE":
                self.sim_token = None
                return t.ocpi_response()
            if request.method in ("POST", "PUT"):
                # The sim registers with us: fetch its versions with its token B first.
                async with httpx.AsyncClient(timeout=5) as http:
                    got = await http.get(
                        body["url"],
                        headers={"Authorization": t.authorization_header(body["token"])},
                    )
                self.sim_fetch_status.append(got.status_code)
                self.sim_token = body["token"]
                self.accepted.discard(self.token_a)
                return t.ocpi_response(self.credentials(self.issue_token()))
            return t.ocpi_response(self.credentials(call.token or ""))

        @app.post("/emsp/results/{ref}")
        async def result(request: Request, ref: str) -> Response:
            call = self._record(request, await self._body(request))
            return t.ocpi_response() if call.authorized else denied

        @app.api_route(
            "/emsp/{version}/{rest:path}", methods=["GET", "PUT", "PATCH", "POST", "DELETE"]
        )
        async def receiver(request: Request, version: str, rest: str) -> Response:
            call = self._record(request, await self._body(request))
            if not call.authorized:
                return denied
            if rest == "tokens" and request.method == "GET":
                offset, limit = int(call.query.get("offset", 0)), int(call.query.get("limit", 3))
                limit = min(limit, 3)
                headers = t.page_headers(
                    url=f"{self.base}{request.url.path}",
                    params=call.query,
                    offset=offset,
                    limit=limit,
                    total=len(self.tokens),
                )
                return t.ocpi_response(self.tokens[offset : offset + limit], headers=headers)
            if rest.startswith("tokens/") and rest.endswith("/authorize"):
                return self._authorize(rest.split("/")[1], call)
            if rest == "cdrs" and request.method == "POST":
                where = f"{self.base}/emsp/{version}/cdrs/{call.body['id']}"
                return t.ocpi_response(http_status=201, headers={"Location": where})
            return t.ocpi_response()

        return app

    def _authorize(self, uid: str, call: Call) -> Response:
        if self.authorize_answer == "unknown":
            return t.ocpi_response(status_code=2004, message="unknown token", http_status=404)
        token = token_object(uid, type_=call.query.get("type", "RFID"))
        info: dict[str, Any] = {"allowed": self.authorize_answer, "token": token}
        if call.body:
            info["location"] = call.body
        if self.authorization_reference:
            info["authorization_reference"] = self.authorization_reference
        return t.ocpi_response(info)
