"""A sandbox pension provider that speaks the upstream contract, with injectable faults.

`GET /members/{memberNumber}` answers from `data/sandbox_members.json` (Bearer key checked when
one is configured). The admin endpoints steer it at runtime, for tests and demos:

* `POST /_sandbox/faults` `{"mode": ..., "times": 2, "delay_seconds": 1.0, "retry_after": 1,
  "fields": {...}}`: the next `times` member requests get the fault, then it answers normally.
  Modes: `none` (clear), `error_500`, `slow` (sleep `delay_seconds`, then answer),
  `rate_limited` (429 + `Retry-After: retry_after`), `malformed_json`, `bad_schema`, and
  `override` (the normal document with `fields` merged over it, e.g. a negative balance);
* `GET /_sandbox/faults`: the active fault; `GET /_sandbox/stats`: member requests counted per
  member number (faulted and unauthorised ones included); `POST /_sandbox/reset`.

The admin endpoints are unauthenticated by design: this is a local test double, and
`run_sandbox` binds to loopback unless told otherwise.

Built on Starlette rather than FastAPI: the project's import rules keep fastapi out of
non-transport packages, and five plain routes need nothing more.
"""

import asyncio
import json
import secrets
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from graphql_api.runtime.paths import data_dir

MEMBERS_FILE_NAME = "sandbox_members.json"


class FaultMode(StrEnum):
    """What the sandbox does to the next member requests."""

    NONE = "none"
    ERROR_500 = "error_500"
    SLOW = "slow"
    RATE_LIMITED = "rate_limited"
    MALFORMED_JSON = "malformed_json"
    BAD_SCHEMA = "bad_schema"
    OVERRIDE = "override"


class FaultSpec(BaseModel):
    """Body of `POST /_sandbox/faults`."""

    model_config = ConfigDict(extra="forbid")

    mode: FaultMode
    times: int = Field(default=1, ge=1, le=10_000)
    delay_seconds: float = Field(default=1.0, ge=0, le=60)
    retry_after: int = Field(default=1, ge=0, le=3600)
    fields: dict[str, Any] = Field(default_factory=dict)


@dataclass
class SandboxState:
    """Mutable sandbox state. All access happens on the server's event loop, between awaits,
    so no lock is needed."""

    members: dict[str, dict[str, Any]]
    api_key: str | None
    fault: FaultSpec | None = None
    remaining: int = 0
    requests: Counter[str] = field(default_factory=Counter)

    def set_fault(self, spec: FaultSpec) -> None:
        self.fault = None if spec.mode is FaultMode.NONE else spec
        self.remaining = 0 if self.fault is None else spec.times

    def take_fault(self) -> FaultSpec | None:
        """The fault for this request, counting it against `times`."""
        if self.fault is None or self.remaining <= 0:
            return None
        self.remaining -= 1
        fault = self.fault
        if self.remaining == 0:
            self.fault = None
        return fault

    def reset(self) -> None:
        self.fault, self.remaining = None, 0
        self.requests.clear()


def load_members(path: Path) -> dict[str, dict[str, Any]]:
    """Read the members file: `{"members": [{"member_number": ...}, ...]}`, keyed by number."""
    document = json.loads(path.read_text(encoding="utf-8"))
    members: dict[str, dict[str, Any]] = {}
    for entry in document["members"]:
        number = entry["member_number"]
        if number in members:
            raise ValueError(f"{path}: duplicate member_number {number!r}")
        members[number] = entry
    return members


def _json(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    # json.dumps with its default allow_nan=True: an `override` may ask for NaN on purpose.
    body = json.dumps(content)
    return Response(body, status_code, headers=headers, media_type="application/json")


def _authorized(request: Request, api_key: str | None) -> bool:
    if api_key is None:
        return True
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(
        token.encode("utf-8"), api_key.encode("utf-8")
    )


def _fault_response(fault: FaultSpec, number: str) -> Response | None:
    """The response a fault replaces the normal one with; None when it only alters it."""
    if fault.mode is FaultMode.ERROR_500:
        return _json({"detail": "sandbox: injected server error"}, 500)
    if fault.mode is FaultMode.RATE_LIMITED:
        headers = {"Retry-After": str(fault.retry_after)}
        return _json({"detail": "sandbox: rate limited"}, 429, headers)
    if fault.mode is FaultMode.MALFORMED_JSON:
        return Response(
            f'{{"member_number": "{number}", "full_name": ', media_type="application/json"
        )
    if fault.mode is FaultMode.BAD_SCHEMA:
        return _json({"member_number": number, "name": 42, "status": ["active"]})
    return None


async def _get_member(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    number = str(request.path_params["member_number"])
    state.requests[number] += 1
    if not _authorized(request, state.api_key):
        return _json({"detail": "invalid or missing API key"}, 401, {"WWW-Authenticate": "Bearer"})
    fault = state.take_fault()
    if fault is not None:
        if fault.mode is FaultMode.SLOW:
            await asyncio.sleep(fault.delay_seconds)
        elif (response := _fault_response(fault, number)) is not None:
            return response
    member = state.members.get(number)
    if member is None:
        return _json({"detail": f"member {number} not found"}, 404)
    if fault is not None and fault.mode is FaultMode.OVERRIDE:
        member = {**member, **fault.fields}
    return _json(member)


def _fault_view(state: SandboxState) -> dict[str, Any]:
    if state.fault is None:
        return {"mode": FaultMode.NONE.value, "remaining": 0}
    return {**state.fault.model_dump(mode="json"), "remaining": state.remaining}


async def _set_fault(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    try:
        spec = FaultSpec.model_validate_json(await request.body())
    except ValidationError as exc:
        return _json({"detail": json.loads(exc.json(include_url=False))}, 422)
    state.set_fault(spec)
    return _json(_fault_view(state))


async def _get_fault(request: Request) -> Response:
    return _json(_fault_view(request.app.state.sandbox))


async def _stats(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    return _json({"requests": dict(state.requests), "total": state.requests.total()})


async def _reset(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    state.reset()
    return _json({"reset": True})


def create_sandbox_app(members_file: Path | None = None, api_key: str | None = None) -> Starlette:
    """Build the sandbox provider app. `members_file` defaults to data/sandbox_members.json;
    with `api_key` set, member requests need `Authorization: Bearer <api_key>` (else 401)."""
    path = members_file if members_file is not None else data_dir() / MEMBERS_FILE_NAME
    app = Starlette(
        routes=[
            Route("/members/{member_number}", _get_member, methods=["GET"]),
            Route("/_sandbox/faults", _set_fault, methods=["POST"]),
            Route("/_sandbox/faults", _get_fault, methods=["GET"]),
            Route("/_sandbox/stats", _stats, methods=["GET"]),
            Route("/_sandbox/reset", _reset, methods=["POST"]),
        ]
    )
    app.state.sandbox = SandboxState(members=load_members(path), api_key=api_key)
    return app


def run_sandbox(
    host: str = "127.0.0.1",
    port: int = 8081,
    *,
    api_key: str | None = None,
    members_file: Path | None = None,
) -> None:
    """Serve the sandbox provider with uvicorn until interrupted."""
    app = create_sandbox_app(members_file=members_file, api_key=api_key)
    uvicorn.run(app, host=host, port=port, log_level="info")
