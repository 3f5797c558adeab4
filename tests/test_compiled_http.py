"""The compiled read path over HTTP: PostgreSQL's bytes in the body, `extensions`, the
request deadline cancelling its statement, and a failing statement answered by the
resolvers instead (fallback, never failure)."""

import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest

from graphql_api.compiled.document import prepare
from graphql_api.compiled.plans import Statement
from graphql_api.config import Settings
from graphql_api.kit.formats import CURSOR_PREFIX
from graphql_api.models import Role
from graphql_api.runtime.app import create_app
from graphql_api.security.limits import rules_for
from tests.db_counts import statement_running
from tests.graphql_client import GraphQLClient
from tests.http_server import serve_in_thread

QUERY = '{ member(memberNumber: "M-100010") { memberNumber lendingAssessment { action } } }'


@pytest.fixture(scope="module")
def server(app_database_url: str, api_keys: dict[Role, str]) -> Iterator[GraphQLClient]:
    settings = Settings(
        database_url=app_database_url,
        expose_query_stats=True,
        rate_limit_enabled=False,
        request_timeout_seconds=1.0,
    )
    with (
        serve_in_thread(create_app(settings)) as url,
        GraphQLClient.connect(url, api_keys[Role.ADMIN]) as c,
    ):
        yield c


def test_the_body_is_postgresqls_json_text(server: GraphQLClient) -> None:
    response = server.response(QUERY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    # json_build_object's own spacing: the JSON was never parsed and re-encoded in Python.
    assert b'"member" : {"memberNumber" : "M-100010"' in response.content
    body = response.json()
    assert body["data"]["member"]["lendingAssessment"]["action"]
    assert body["extensions"]["plan"] == "compiled"
    assert body["extensions"]["sqlStatements"] == 1
    assert body["extensions"]["requestId"] == response.headers["x-request-id"]


def test_a_failing_statement_is_answered_by_the_resolvers(
    server: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = server.response(QUERY).json()["data"]

    def broken(*_: Any) -> Statement:
        return Statement("SELECT no_such_column FROM members", [])

    monkeypatch.setattr("graphql_api.compiled.http.plan_request", broken)
    for _ in range(3):  # the failed statement's connection is not reused broken
        body = server.response(QUERY).json()
        assert body["data"] == expected
        assert body["extensions"]["plan"] == "resolvers"


def test_the_deadline_cancels_a_compiled_statement(
    server: GraphQLClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = f"compiled-deadline-{time.monotonic_ns()}"

    def slow(*_: Any) -> Statement:
        return Statement(f"SELECT pg_sleep(30)::text || '{marker}'", [])

    monkeypatch.setattr("graphql_api.compiled.http.plan_request", slow)
    started = time.monotonic()
    response = server.response(QUERY)
    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
    assert time.monotonic() - started < 5
    monkeypatch.undo()
    deadline = time.monotonic() + 5
    while statement_running(database_url, marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not statement_running(database_url, marker), "the statement kept running in PostgreSQL"
    assert server.response(QUERY).json()["data"]["member"]


def test_production_answers_without_the_plan_note(
    app_database_url: str, api_keys: dict[Role, str]
) -> None:
    settings = Settings(env="production", database_url=app_database_url, rate_limit_enabled=False)
    with (
        serve_in_thread(create_app(settings)) as url,
        GraphQLClient.connect(url, api_keys[Role.ADMIN]) as c,
    ):
        compiled = c.response(QUERY).json()
        resolvers = c.response("{ modelPerformance { modelVersion } }")
    assert compiled["data"]["member"]["memberNumber"] == "M-100010"
    assert set(compiled["extensions"]) == {"requestId"}
    assert "plan" not in resolvers.json().get("extensions", {})


def test_repeated_reads_reuse_the_prepared_document_and_its_plan(server: GraphQLClient) -> None:
    query = "query PlanProbe($n: String!) { member(memberNumber: $n) { memberNumber } }"
    before = prepare.cache_info()
    for number in ("M-100001", "M-100002", "M-100003"):
        body = server.response(query, {"n": number}).json()
        assert body["extensions"]["plan"] == "compiled"
        assert body["data"]["member"]["memberNumber"] == number
    after = prepare.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)
    settings = Settings(database_url="unused")
    prepared = prepare(query, None, rules_for(settings), settings.max_query_tokens)
    assert prepared is not None
    assert len(prepared.plans) == 1  # one statement text for every member number


@pytest.mark.parametrize("field", ["members", "predictions"])
def test_a_deeply_nested_forged_cursor_is_a_typed_error(server: GraphQLClient, field: str) -> None:
    """Thousands of nested JSON arrays inside `after` made the cursor decoder raise
    RecursionError, which escaped as a plain 500; it is an invalid cursor like any other."""
    forged = base64.urlsafe_b64encode(CURSOR_PREFIX.encode() + b"[" * 5000).decode()
    query = f'{{ {field}(first: 1, after: "{forged}") {{ edges {{ cursor }} }} }}'
    response = server.response(query)
    assert response.status_code == 200, response.text
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["INVALID_CURSOR"]
