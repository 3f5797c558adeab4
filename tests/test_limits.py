"""Request limits over real HTTP: each over-limit request is refused with its status and code
before any SQL runs, while normal requests are still served; production hides the schema."""

import asyncio
import json
import logging
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import websockets
from fastapi import FastAPI
from graphql import Lexer, Source, TokenKind
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from starlette.types import Receive, Scope, Send
from strawberry.extensions.validation_cache import _get_validate_cache
from websockets.typing import Subprotocol

from graphql_api.config import Settings
from graphql_api.db import to_async_url
from graphql_api.graph.nodes import NodeRow
from graphql_api.models import Role
from graphql_api.runtime.app import create_app
from graphql_api.schema import schema
from graphql_api.security.deadline import install_deadline_cancellation
from graphql_api.security.guard import GraphQLRequestGuard
from graphql_api.security.limits import alias_limit_rule, depth_limit_rule, rules_for
from tests.api_keys import create_api_key
from tests.db_counts import statement_running
from tests.graphql_client import GraphQLClient
from tests.http_server import serve_in_thread

FAST_QUERY = "{ members(first: 1) { totalCount } }"


class Server(GraphQLClient):
    """A served app, a GraphQL client for it with an ADMIN key, and a count of every SQL
    statement its engine ran except the API key lookup that authenticates each request.

    `anonymous` sends no key: the HTTP guard runs before authentication, so its refusals
    keep their own status (not 401) without a key."""

    def __init__(self, http: httpx.Client, anonymous: httpx.Client, app: FastAPI) -> None:
        super().__init__(http)
        self.anonymous = anonymous
        self.app = app
        self.statements = [0]

    @contextmanager
    def no_sql(self) -> Iterator[None]:
        before = self.statements[0]
        yield
        assert self.statements[0] == before, "a refused request ran SQL"


@contextmanager
def serve(settings: Settings) -> Iterator[Server]:
    assert settings.database_url is not None
    token = create_api_key(settings.database_url, Role.ADMIN, label="test-limits")
    app = create_app(settings)
    with (
        serve_in_thread(app) as url,
        httpx.Client(
            base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        ) as client,
        httpx.Client(base_url=url, timeout=30) as anonymous,
    ):
        server = Server(client, anonymous, app)
        engine = app.state.sessionmaker.kw["bind"]

        def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if "FROM api_keys" not in statement:  # authentication's own lookup
                server.statements[0] += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        yield server


@pytest.fixture(scope="module")
def dev(demo_loaded: str) -> Iterator[Server]:
    settings = Settings(database_url=demo_loaded, expose_query_stats=True, rate_limit_enabled=False)
    with serve(settings) as server:
        yield server


@pytest.fixture(scope="module")
def prod(demo_loaded: str) -> Iterator[Server]:
    settings = Settings(
        env="production",
        database_url=demo_loaded,
        expose_query_stats=True,
        rate_limit_enabled=False,
    )
    with serve(settings) as server:
        yield server


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"}
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"]
    return dict(error)


def _codes(errors: list[dict[str, Any]]) -> set[str]:
    return {e.get("extensions", {}).get("code") for e in errors}


# --- HTTP: method, media type, body ----------------------------------------------------------


def test_queries_and_mutations_over_get_are_refused(dev: Server) -> None:
    with dev.no_sql():
        for query in (FAST_QUERY, 'mutation { syncMember(memberNumber: "M-100001") { ok } }'):
            response = dev.anonymous.get("/graphql", params={"query": query})
            _error(response, 405, "METHOD_NOT_ALLOWED")
            assert response.headers["allow"] == "POST"
        _error(dev.anonymous.put("/graphql", json={"query": FAST_QUERY}), 405, "METHOD_NOT_ALLOWED")


def test_only_json_bodies_are_accepted(dev: Server) -> None:
    query = json.dumps({"query": FAST_QUERY})
    with dev.no_sql():
        for content_type in (
            "text/plain",
            "application/graphql",
            "application/x-www-form-urlencoded",
            "application/json; charset=latin-1",
        ):
            response = dev.anonymous.post(
                "/graphql", content=query, headers={"content-type": content_type}
            )
            _error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
        multipart = dev.anonymous.post(
            "/graphql",
            data={"operations": query, "map": "{}"},
            files={"0": ("a.txt", b"x")},
        )
        _error(multipart, 415, "UNSUPPORTED_MEDIA_TYPE")
    response = dev.http.post(
        "/graphql", content=query, headers={"content-type": "application/json; charset=UTF-8"}
    )
    assert response.status_code == 200
    assert response.json()["data"]["members"]["totalCount"] > 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"query": "{ members { totalCount } }"', "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[" * 50_000 + b"]" * 50_000, "not valid JSON"),  # nesting too deep for a parser
        (json.dumps([{"query": FAST_QUERY}, {"query": FAST_QUERY}]).encode(), "Batched"),
        (json.dumps([{"query": FAST_QUERY}]).encode(), "Batched"),
        (b'"{ members { totalCount } }"', "JSON object"),
        (b'{"variables": {}}', "query"),
        (json.dumps({"query": FAST_QUERY, "variables": [1]}).encode(), "variables"),
        (json.dumps({"query": FAST_QUERY, "operationName": 3}).encode(), "operationName"),
    ],
)
def test_malformed_and_batched_bodies_are_refused(dev: Server, body: bytes, message: str) -> None:
    with dev.no_sql():
        response = dev.anonymous.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert message in _error(response, 400, "BAD_REQUEST")["message"]


def test_bodies_over_100_kb_are_refused(dev: Server) -> None:
    padding = " " * (101 * 1024)
    body = json.dumps({"query": FAST_QUERY + padding}).encode()
    with dev.no_sql():
        response = dev.anonymous.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert _error(response, 413, "REQUEST_TOO_LARGE")["extensions"]["maxBytes"] == 102_400

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
            for start in range(0, len(body), 8192):
                yield body[start : start + 8192]

        streamed = dev.anonymous.post(
            "/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in streamed.request.headers
        _error(streamed, 413, "REQUEST_TOO_LARGE")
    # Just under the limit is fine.
    near = json.dumps({"query": FAST_QUERY + " " * (99 * 1024)})
    response = dev.http.post("/graphql", content=near, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert "errors" not in response.json()


def test_websocket_operations_need_connection_init(dev: Server) -> None:
    """The WebSocket carries subscriptions only, after `connection_init` with a key (the rest
    is in tests/test_subscriptions_protocol.py): an operation sent first closes with 4401."""
    url = str(dev.http.base_url).replace("http://", "ws://") + "/graphql"

    async def operate() -> int | None:
        async with websockets.connect(
            url, subprotocols=[Subprotocol("graphql-transport-ws")]
        ) as connection:
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": FAST_QUERY}}
            await connection.send(json.dumps(subscribe))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await connection.recv()
            return closed.value.rcvd.code if closed.value.rcvd else None

    assert asyncio.run(operate()) == 4401


def test_graphiql_page_is_served_in_development(dev: Server) -> None:
    response = dev.anonymous.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_unknown_operation_name_gets_a_graphql_shaped_400(dev: Server) -> None:
    with dev.no_sql():
        response = dev.response("query A { __typename }", operationName="B")
        assert "B" in _error(response, 400, "BAD_REQUEST")["message"]


# --- GraphQL: depth, aliases, tokens, fragments ------------------------------------------------


def nested(depth: int) -> str:
    """A query with `depth` levels of fields that have selections, over real relations."""
    cycle = ["loanApplications(first: 1)", "edges", "node", "member"]
    fields = [cycle[i % len(cycle)] for i in range(depth)]
    return "{ " + " { ".join(fields) + " { __typename" + " }" * depth + " }"


def test_depth_10_is_served_and_11_refused_before_sql(dev: Server) -> None:
    assert dev.ok(nested(10))["loanApplications"]["edges"]
    with dev.no_sql():
        response = dev.response(nested(11))
        assert response.status_code == 200
        body = response.json()
        assert body["data"] is None
        assert _codes(body["errors"]) == {"QUERY_TOO_DEEP"}
        assert body["extensions"]["sqlStatements"] == 0


def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: members(first: 1) {{ totalCount }}" for i in range(count)) + " }"


def test_30_aliases_are_served_and_31_refused_before_sql(dev: Server) -> None:
    assert len(dev.ok(aliased(30))) == 30
    with dev.no_sql():
        errors = dev.errors(aliased(31))
    assert _codes(errors) == {"TOO_MANY_ALIASES"}
    assert "30" in errors[0]["message"]


def with_tokens(count: int) -> str:
    """A valid query of exactly `count` lexical tokens (a long enum list argument)."""

    def tokens(query: str) -> int:
        lexer, total = Lexer(Source(query)), 0
        while lexer.advance().kind != TokenKind.EOF:
            total += 1
        return total

    template = "{ members(first: 1, filter: { status: [%s] }) { totalCount } }"
    base = tokens(template % "")
    query = template % " ".join(["ACTIVE"] * (count - base))
    assert tokens(query) == count
    return query


def test_2000_tokens_are_served_and_2001_refused_before_sql(dev: Server) -> None:
    assert dev.ok(with_tokens(2000))["members"]["totalCount"] >= 0
    with dev.no_sql():
        errors = dev.errors(with_tokens(2001))
    assert _codes(errors) == {"TOO_MANY_TOKENS"}
    assert "2000 tokens" in errors[0]["message"]


def test_circular_fragments_are_refused_cleanly(dev: Server) -> None:
    query = """
        query { ...A }
        fragment A on Query { members(first: 1) { totalCount } ...B }
        fragment B on Query { ...A }
    """
    with dev.no_sql():
        errors = dev.errors(query)
    assert _codes(errors) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "within itself" in errors[0]["message"]


def fragment_bomb(levels: int, leaf: str) -> str:
    """Each fragment spreads the previous one twice: 2^levels copies of `leaf`."""
    fragments = [f"fragment F0 on Query {{ {leaf} }}"]
    fragments += [
        f"fragment F{k} on Query {{ ...F{k - 1} ...F{k - 1} }}" for k in range(1, levels + 1)
    ]
    return f"query {{ ...F{levels} }}\n" + "\n".join(fragments)


def test_fragment_bombs_are_answered_in_linear_time(dev: Server) -> None:
    # strawberry's own alias/depth limiters walk this 2^40 times; ours measure each fragment once.
    started = time.monotonic()
    with dev.no_sql():
        errors = dev.errors(fragment_bomb(40, "a: members(first: 1) { totalCount }"))
    assert _codes(errors) == {"TOO_MANY_ALIASES"}
    deep = fragment_bomb(
        40, "members(first: 1) { edges { node { loanApplications(first: 1) { totalCount } } } }"
    )
    assert dev.ok(deep)["members"]["edges"]
    assert time.monotonic() - started < 5


def test_repeated_queries_hit_the_validation_cache(dev: Server, prod: Server) -> None:
    validate: Any = _get_validate_cache(1024)  # the LRU shared by every ValidationCache(1024)
    for server in (dev, prod):
        # `modelPerformance` always runs on the resolvers (compiled reads keep their own cache).
        query = f"query CacheProbe{id(server)} {{ modelPerformance {{ modelVersion }} }}"
        before = validate.cache_info()
        for _ in range(3):
            server.ok(query)
        after = validate.cache_info()
        assert after.misses - before.misses == 1
        assert after.hits - before.hits == 2


def test_validation_rules_are_built_once_per_configuration() -> None:
    assert depth_limit_rule(10) is depth_limit_rule(10)
    assert alias_limit_rule(30) is alias_limit_rule(30)
    assert rules_for(Settings()) is rules_for(Settings())
    production = Settings(env="production")
    assert rules_for(production) is rules_for(Settings(env="production"))
    assert len(rules_for(production)) == len(rules_for(Settings())) + 1


def test_normal_requests_are_served_alongside_refused_ones(dev: Server) -> None:
    def refused() -> set[str]:
        return _codes(dev.errors(nested(11)))

    with ThreadPoolExecutor(max_workers=8) as pool:
        served = [pool.submit(dev.ok, FAST_QUERY) for _ in range(10)]
        refusals = [pool.submit(refused) for _ in range(10)]
        assert all(f.result()["members"]["totalCount"] > 0 for f in served)
        assert [f.result() for f in refusals] == [{"QUERY_TOO_DEEP"}] * 10
    assert dev.ok(FAST_QUERY)["members"]["totalCount"] > 0


def test_refused_operations_are_not_logged_as_errors(
    dev: Server, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        for query in (nested(11), aliased(31), with_tokens(2001), "{ nope }", "{"):
            assert dev.errors(query)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# --- production: no introspection, no GraphiQL, masked errors ---------------------------------


def test_production_refuses_introspection(prod: Server) -> None:
    with prod.no_sql():
        for query in ("{ __schema { types { name } } }", '{ __type(name: "Member") { name } }'):
            body = prod.response(query).json()
            assert body.get("data") is None
            assert _codes(body["errors"]) == {"INTROSPECTION_DISABLED"}
    assert prod.ok("{ __typename }") == {"__typename": "Query"}


def test_development_allows_introspection(dev: Server) -> None:
    types = dev.ok("{ __schema { types { name } } }")["__schema"]["types"]
    assert "Member" in {t["name"] for t in types}


def test_production_has_no_graphiql(prod: Server) -> None:
    response = prod.anonymous.get("/graphql", headers={"accept": "text/html"})
    _error(response, 404, "NOT_FOUND")
    assert "graphiql" not in response.text.lower()


def test_production_masks_errors_and_gives_no_suggestions(
    prod: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    [error] = prod.errors("{ membrs(first: 1) { totalCount } }")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in error["message"]

    # An unexpected error, with details no client may see, is masked down to the request id.
    # (`node(id:)` now answers null for ids naming no node, so the failure is injected: the
    # server runs in this process.)
    async def fail(*_: Any, **__: Any) -> list[Any]:
        raise RuntimeError('Traceback: File "x", Foo, postgres@127.0.0.1: SELECT 1')

    monkeypatch.setattr(NodeRow, "resolve_nodes", classmethod(fail))
    # The failure is in the resolvers: keep this read off the compiled path (graphql_api/compiled).
    monkeypatch.setattr("graphql_api.compiled.http.plan_request", lambda *_: None)
    response = prod.response('{ node(id: "TWVtYmVyOjE=") { id } }')  # Member:1
    [error] = response.json()["errors"]
    request_id = response.headers["x-request-id"]
    assert error["message"] == f"Unexpected error (request id {request_id})."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    for leak in ("Traceback", 'File "', "Foo", "postgres", "127.0.0.1", "SELECT"):
        assert leak not in response.text


def test_introspection_and_graphiql_can_be_enabled_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FINANCE_API_ENV", "production")
    assert not Settings().introspection_enabled
    assert not Settings().graphiql_enabled
    monkeypatch.setenv("FINANCE_API_INTROSPECTION", "true")
    monkeypatch.setenv("FINANCE_API_GRAPHIQL", "true")
    assert Settings().introspection_enabled
    assert Settings().graphiql_enabled
    context = type("C", (), {"settings": Settings(), "request_id": "r"})()
    result = asyncio.run(
        schema.execute("{ __schema { queryType { name } } }", context_value=context)
    )
    assert result.errors is None


# --- the request deadline ----------------------------------------------------------------------


def test_requests_past_the_deadline_get_a_clean_timeout(demo_loaded: str) -> None:
    settings = Settings(
        database_url=demo_loaded, request_timeout_seconds=0.001, rate_limit_enabled=False
    )
    with serve(settings) as server:
        for _ in range(3):  # the server keeps answering: nothing hangs
            started = time.monotonic()
            response = server.response(FAST_QUERY)
            assert time.monotonic() - started < 5
            # 504 while executing; 408 when even the body took longer than 1 ms to arrive.
            assert response.status_code in (504, 408)
            error = _error(response, response.status_code, "REQUEST_TIMEOUT")
            assert "within 0.001 s" in error["message"]
            assert error["extensions"]["requestId"] == response.headers["x-request-id"]
        # A body that never finishes arriving (slowloris) is cut off at the deadline too.
        url = server.http.base_url
        with socket.create_connection((url.host, url.port)) as raw:
            raw.sendall(
                b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"query"'
            )
            raw.settimeout(5)
            reply = raw.recv(65536).decode()
        assert reply.startswith("HTTP/1.1 408 ")
        assert '"code":"REQUEST_TIMEOUT"' in reply
        assert server.http.get("/healthz").json() == {"status": "ok"}


def test_the_deadline_cancels_sql_in_tasks_the_request_spawned(database_url: str) -> None:
    """Dataloader batches run in tasks of their own (`loop.call_soon(ensure_future, ...)`):
    they are cancelled at the deadline too, and PostgreSQL stops the statement."""
    # No pool: connections are made on the server thread's loop and not kept past it.
    engine = create_async_engine(to_async_url(database_url), poolclass=NullPool)
    install_deadline_cancellation(engine)
    marker = f"deadline-probe-{time.time_ns()}"

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        loop = asyncio.get_running_loop()
        result: asyncio.Future[None] = loop.create_future()

        async def batch() -> None:  # like an aiodataloader batch: its own task, own session
            async with engine.connect() as connection:
                await connection.execute(text(f"SELECT pg_sleep(30) -- {marker}"))
            result.set_result(None)

        loop.call_soon(asyncio.ensure_future, batch())
        await result
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = GraphQLRequestGuard(endpoint, max_body_bytes=1024, timeout_seconds=1.0)
    with serve_in_thread(app) as url:
        started = time.monotonic()
        response = httpx.post(f"{url}/graphql", json={"query": "{ x }"}, timeout=30)
        _error(response, 504, "REQUEST_TIMEOUT")
        assert time.monotonic() - started < 5
        deadline = time.monotonic() + 5
        while statement_running(database_url, marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not statement_running(database_url, marker), "the statement still runs in PostgreSQL"
