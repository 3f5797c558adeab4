"""A request holds at most one pooled connection: its loaders and listings share one, taken
on first use and given back when the request ends; a hot API key needs none of its own; a
deadline still cancels the statement in flight on that shared connection."""

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from graphql_api.auth.key_cache import VerifiedKeyCache
from graphql_api.auth.service import Viewer
from graphql_api.config import Settings
from graphql_api.models import Role
from graphql_api.runtime.app import create_app
from tests.api_keys import create_api_key
from tests.graphql_client import GraphQLClient
from tests.http_server import serve_in_thread
from tests.test_batching import NESTED  # the same nested query the batching test counts

CREATE = """
mutation ($input: CreateMemberInput!) { createMember(input: $input) {
  member { memberNumber pensionAccount { currency } loanApplications(first: 2) { totalCount } }
  userErrors { code }
} }
"""


@dataclass
class PoolWatch:
    """Pool checkouts, and the most connections held at once, since the last reset."""

    checkouts: int = 0
    held: int = 0
    most_held: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "checkout", self._checkout)
        event.listen(engine.sync_engine, "checkin", self._checkin)

    def reset(self) -> None:
        with self.lock:
            self.checkouts = 0
            self.most_held = self.held

    def _checkout(self, *_: Any) -> None:
        with self.lock:
            self.checkouts += 1
            self.held += 1
            self.most_held = max(self.most_held, self.held)

    def _checkin(self, *_: Any) -> None:
        with self.lock:
            self.held -= 1


@dataclass
class Api:
    url: str
    engine: AsyncEngine
    pool: PoolWatch

    def post(self, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        self.pool.reset()
        with GraphQLClient.connect(self.url, token) as client:
            return client.response(query, variables)


@pytest.fixture(scope="module")
def api(demo_loaded: str, app_database_url: str) -> Iterator[Api]:
    """The API on the resolver path (dataloaders), where one request runs many statements."""
    with _served(app_database_url, compiled_reads=False) as served:
        yield served


@contextmanager
def _served(app_database_url: str, *, compiled_reads: bool) -> Iterator[Api]:
    settings = Settings(
        database_url=app_database_url,
        expose_query_stats=True,
        rate_limit_enabled=False,
        compiled_reads=compiled_reads,
    )
    app = create_app(settings)
    with serve_in_thread(app) as url:
        engine: AsyncEngine = app.state.engine
        pool = PoolWatch()
        pool.install(engine)
        yield Api(url, engine, pool)


@pytest.fixture(scope="module")
def admin_key(demo_loaded: str) -> str:
    return create_api_key(demo_loaded, Role.ADMIN)


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("errors") is None, body["errors"]
    return body


def test_a_nested_read_takes_exactly_one_pooled_connection(api: Api, admin_key: str) -> None:
    _ok(api.post(admin_key, NESTED, {"first": 1}))  # the key is verified and cached now
    for first in (1, 20):
        body = _ok(api.post(admin_key, NESTED, {"first": first}))
        assert len(body["data"]["members"]["edges"]) == first
        # Many statements (listing, counts, a batch per relation level)...
        assert body["extensions"]["sqlStatements"] >= 8
        # ... on one connection, checked out once and held alone.
        assert (api.pool.checkouts, api.pool.most_held) == (1, 1)
        assert api.pool.held == 0  # given back before the response was sent


def test_a_compiled_read_takes_exactly_one_pooled_connection(
    app_database_url: str, admin_key: str
) -> None:
    with _served(app_database_url, compiled_reads=True) as api:
        _ok(api.post(admin_key, NESTED, {"first": 1}))
        body = _ok(api.post(admin_key, NESTED, {"first": 20}))
        assert len(body["data"]["members"]["edges"]) == 20
        assert (api.pool.checkouts, api.pool.most_held, api.pool.held) == (1, 1, 0)


def test_a_hot_key_needs_no_lookup_and_a_cold_one_no_second_connection(
    api: Api, demo_loaded: str
) -> None:
    key = create_api_key(demo_loaded, Role.ADVISOR)
    query = "{ members(first: 2) { edges { node { memberNumber } } } }"
    _ok(api.post(key, query))
    # The lookup's connection went back before GraphQL took one: two checkouts, one at a time.
    assert (api.pool.checkouts, api.pool.most_held) == (2, 1)
    _ok(api.post(key, query))
    assert api.pool.checkouts == 1  # verified from the cache


def test_unknown_keys_are_looked_up_every_time(api: Api) -> None:
    unknown = "fgk_" + "A" * 43
    for _ in range(3):
        response = api.post(unknown, "{ members(first: 1) { totalCount } }")
        assert response.status_code == 401
        assert api.pool.checkouts == 1  # not remembered as valid, nor as invalid


def test_a_mutation_and_its_payload_hold_one_connection_at_a_time(api: Api, admin_key: str) -> None:
    member = {"memberNumber": "M-391001", "fullName": "Ola Nordmann", "status": "ACTIVE",
              "email": "ola.nordmann@example.org"}  # fmt: skip
    body = _ok(api.post(admin_key, CREATE, {"input": member}))
    payload = body["data"]["createMember"]
    assert payload["userErrors"] == []
    assert payload["member"]["loanApplications"]["totalCount"] == 0
    # The transaction's connection, then the payload's reads on the request's one.
    assert (api.pool.checkouts, api.pool.most_held) == (2, 1)


# --- the deadline still reaches a statement on the shared connection ------------------------


@dataclass
class TableLock:
    """Holds ACCESS EXCLUSIVE on a table (as the server's own role) until released."""

    database_url: str
    table: str
    taken: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def hold(self) -> None:
        asyncio.run(self._hold())

    async def _hold(self) -> None:
        connection = await asyncpg.connect(self.database_url)
        try:
            async with connection.transaction():
                await connection.execute(f"LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE")
                self.taken.set()
                await asyncio.to_thread(self.release.wait, 60)
        finally:
            await connection.close()


def _statements_waiting(database_url: str, database_role: str) -> int:
    async def count() -> int:
        connection = await asyncpg.connect(database_url)
        try:
            waiting: int = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND state = 'active'"
                " AND wait_event_type = 'Lock'",
                database_role,
            )
            return waiting
        finally:
            await connection.close()

    return asyncio.run(count())


def test_the_deadline_cancels_the_statement_on_the_shared_connection(
    demo_loaded: str, app_database_url: str, admin_key: str
) -> None:
    from sqlalchemy.engine import make_url

    app_role = str(make_url(app_database_url).username)
    settings = Settings(
        database_url=app_database_url,
        request_timeout_seconds=1.0,
        rate_limit_enabled=False,
        compiled_reads=False,  # the resolver path: loader batches in tasks of their own
    )
    app = create_app(settings)
    lock = TableLock(demo_loaded, "loan_applications")
    with serve_in_thread(app) as url:
        engine: AsyncEngine = app.state.engine
        headers = {"Authorization": f"Bearer {admin_key}"}
        nested = {"query": NESTED, "variables": {"first": 5}}
        assert httpx.post(f"{url}/graphql", json=nested, headers=headers).status_code == 200
        holder = threading.Thread(target=lock.hold)
        holder.start()
        try:
            assert lock.taken.wait(10)
            started = time.monotonic()
            response = httpx.post(f"{url}/graphql", json=nested, headers=headers, timeout=30)
            assert response.status_code == 504, response.text
            assert time.monotonic() - started < 5
            # While the lock is still held, the blocked statement is gone from PostgreSQL
            # and the request's connection is back in (or dropped from) the pool.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and (
                _statements_waiting(demo_loaded, app_role) or engine.pool.checkedout()  # type: ignore[attr-defined]
            ):
                time.sleep(0.1)
            assert _statements_waiting(demo_loaded, app_role) == 0
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        finally:
            lock.release.set()
            holder.join(timeout=10)
        after = httpx.post(f"{url}/graphql", json=nested, headers=headers, timeout=30)
        assert after.status_code == 200, after.text


# --- the verified-key cache itself ----------------------------------------------------------


def _viewer(key_id: int) -> Viewer:
    return Viewer(key_id=key_id, role=Role.ADMIN, member_id=None, label="")


def test_the_key_cache_forgets_after_its_ttl_and_beyond_its_size() -> None:
    cache = VerifiedKeyCache(ttl_seconds=0.2, max_entries=2)
    cache.put("a", _viewer(1))
    cache.put("b", _viewer(2))
    assert cache.get("a") == _viewer(1)  # "a" is now the most recently used
    cache.put("c", _viewer(3))
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (_viewer(1), None, _viewer(3))
    assert len(cache) == 2
    time.sleep(0.25)
    assert cache.get("a") is None
    assert len(cache) == 1


def test_a_zero_ttl_turns_the_key_cache_off() -> None:
    cache = VerifiedKeyCache(ttl_seconds=0)
    cache.put("a", _viewer(1))
    assert cache.get("a") is None
    assert len(cache) == 0
