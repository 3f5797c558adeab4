"""The differential oracle for compiled reads: the same request to two API processes over
one pristine demo database, one answering compilable reads with one SQL statement and one
with the resolvers only (FINANCE_API_COMPILED_READS=false), as each role. Nothing writes to
this database, so both read the same data.
"""

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from graphql_api.models import Role
from graphql_api.seeding.demo import load_demo
from tests.api_keys import create_api_key
from tests.db import provisioned_database
from tests.fault.api_process import api_process

MEMBER_KEY_OWNER = "M-100010"
# Differs on every request by design (agentContext.generatedAt): compared by format only.
VOLATILE_KEYS = frozenset({"generatedAt"})


@dataclass
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def plan(self) -> str | None:
        return (self.body.get("extensions") or {}).get("plan")

    def comparable(self) -> dict[str, Any]:
        """`data` and `errors` with volatile values blanked (request ids differ too)."""
        errors = [_without_request_id(e) for e in self.body.get("errors") or []]
        return {"data": _blank_volatile(self.body.get("data")), "errors": errors}


class Oracle:
    def __init__(self, compiled: str, resolvers: str, keys: dict[Role, str]) -> None:
        self._stack = ExitStack()
        self._clients = {
            (path, role): self._stack.enter_context(
                httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"})
            )
            for path, url in (("compiled", compiled), ("resolvers", resolvers))
            for role, key in keys.items()
        }

    def ask(
        self, path: str, role: Role, query: str, variables: dict[str, Any] | None = None
    ) -> Answer:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        response = self._clients[(path, role)].post("/graphql", json=payload)
        return Answer(response.status_code, response.json())

    def both(
        self, role: Role, query: str, variables: dict[str, Any] | None = None
    ) -> tuple[Answer, Answer]:
        return (
            self.ask("compiled", role, query, variables),
            self.ask("resolvers", role, query, variables),
        )

    def close(self) -> None:
        self._stack.close()


def _blank_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("<volatile>" if k in VOLATILE_KEYS and isinstance(v, str) else _blank_volatile(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_blank_volatile(v) for v in value]
    return value


def _without_request_id(error: dict[str, Any]) -> dict[str, Any]:
    extensions = {k: v for k, v in (error.get("extensions") or {}).items() if k != "requestId"}
    message = error.get("message", "")
    if message.startswith("Unexpected error (request id"):
        message = "Unexpected error"
    return {**error, "message": message, "extensions": extensions}


def serve_oracle(postgres_server_url: str, log_dir: Path) -> Iterator[Oracle]:
    """Two API processes (compiled / resolvers only) over one fresh demo database, a key per
    role. Processes, not threads: nothing of theirs is ever garbage-collected by the test's
    own threads (asyncpg objects must die on their own event loop)."""
    with provisioned_database(postgres_server_url) as database:
        asyncio.run(load_demo(database.url))
        keys = {
            role: create_api_key(
                database.url, role, MEMBER_KEY_OWNER if role is Role.MEMBER else None
            )
            for role in Role
        }
        common = {"expose_query_stats": "true", "rate_limit_enabled": "false"}
        with (
            api_process(
                database.app_url, log_dir / "compiled.log", compiled_reads="true", **common
            ) as compiled,
            api_process(
                database.app_url, log_dir / "resolvers.log", compiled_reads="false", **common
            ) as resolvers,
        ):
            oracle = Oracle(compiled.base_url, resolvers.base_url, keys)
            try:
                yield oracle
            finally:
                oracle.close()
