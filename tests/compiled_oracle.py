"""The differential oracle for compiled reads: the same request to two servers over one
pristine demo database, one answering compilable reads with one SQL statement and one with
the resolvers only (`compiled_reads=False`), as each role. Nothing writes to this database,
so both read the same data.
"""

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx

from graphql_api.app import create_app
from graphql_api.config import Settings
from graphql_api.models import Role
from graphql_api.seeding.demo import load_demo
from tests.api_keys import create_api_key
from tests.db import provisioned_database
from tests.http_server import serve_in_thread

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
        self.apps: dict[str, Any] = {}
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


def serve_oracle(postgres_server_url: str) -> Iterator[Oracle]:
    """Two servers (compiled / resolvers only) over one fresh demo database, a key per role."""
    with provisioned_database(postgres_server_url) as database:
        asyncio.run(load_demo(database.url))
        keys = {
            role: create_api_key(
                database.url, role, MEMBER_KEY_OWNER if role is Role.MEMBER else None
            )
            for role in Role
        }
        common: dict[str, Any] = {
            "database_url": database.app_url,
            "expose_query_stats": True,
            "rate_limit_enabled": False,
        }
        compiled_app = create_app(Settings(**common, compiled_reads=True))
        resolvers_app = create_app(Settings(**common, compiled_reads=False))
        with (
            serve_in_thread(compiled_app) as compiled,
            serve_in_thread(resolvers_app) as resolvers,
        ):
            oracle = Oracle(compiled, resolvers, keys)
            oracle.apps = {"compiled": compiled_app, "resolvers": resolvers_app}
            try:
                yield oracle
            finally:
                oracle.close()
