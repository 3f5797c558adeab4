"""Observability end to end: /readyz, /metrics and the access log of real servers on loopback,
over a real PostgreSQL database of this module's own (syncMember writes to it), with the
sandbox pension provider as a real server; tracing with the SDK's in-memory exporter.

Metrics are process-wide (every app in the test process adds to the same series), so each
test compares a scrape before with one after its own requests, under operation names that
no other test uses.
"""

import asyncio
import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic.script import ScriptDirectory
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from graphql_api.config import Settings
from graphql_api.db import create_engine
from graphql_api.models import Role
from graphql_api.runtime.app import create_app
from graphql_api.runtime.migrate import alembic_config
from graphql_api.seeding.demo import load_demo
from graphql_api.telemetry.access_log import ACCESS_LOGGER
from graphql_api.telemetry.otel_env import exporter_names
from graphql_api.telemetry.pool import forget_pool, instrument_pool
from graphql_api.telemetry.readiness import Readiness
from tests.api_keys import create_api_key
from tests.db import ProvisionedDatabase, _with_database, provisioned_database
from tests.http_server import free_port, serve_in_thread
from tests.sandbox_server import running_sandbox

SANDBOX_KEY = "sandbox-observability-key"
MEMBERS = "query ObsMembers { members(first: 2) { edges { node { memberNumber } } } }"
BROKEN = "query ObsBroken { members(first: 2) { edges { node { noSuchField } } } }"
SYNC = """mutation ObsSync($n: String!) { syncMember(input: {memberNumber: $n}) {
  member { memberNumber } userErrors { code } } }"""
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def obs_db(postgres_server_url: str) -> Iterator[ProvisionedDatabase]:
    with provisioned_database(postgres_server_url) as database:
        asyncio.run(load_demo(database.url))
        yield database


@pytest.fixture(scope="module")
def admin_key(obs_db: ProvisionedDatabase) -> str:
    return create_api_key(obs_db.url, Role.ADMIN, label="test-observability")


@contextmanager
def serving(database_url: str, **overrides: Any) -> Iterator[httpx.Client]:
    settings = Settings(database_url=database_url, expose_query_stats=True, **overrides)
    with (
        serve_in_thread(create_app(settings)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with running_sandbox(api_key=SANDBOX_KEY) as sandbox:
        yield sandbox.base_url


@pytest.fixture(scope="module")
def api(obs_db: ProvisionedDatabase, sandbox_url: str) -> Iterator[httpx.Client]:
    with serving(
        obs_db.app_url, pension_api_base_url=sandbox_url, pension_api_key=SANDBOX_KEY
    ) as client:
        yield client


def post(client: httpx.Client, key: str | None, query: str, **variables: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def scrape(client: httpx.Client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


# ---- /readyz ------------------------------------------------------------------------------


def test_readyz_is_ready_on_a_migrated_database(api: httpx.Client) -> None:
    response = api.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "head"}
    assert api.get("/healthz").status_code == 200


def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    closed = f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"
    with serving(closed, readiness_timeout_seconds=1.0) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "unreachable" in response.json()["reason"]
        assert response.json()["status"] == "not ready"
        assert client.get("/healthz").status_code == 200  # alive, just not ready


@contextmanager
def empty_database(server_url: str) -> Iterator[str]:
    """A database with no migrations at all, on the test server; dropped after."""
    name = f"finance_test_empty_{secrets.token_hex(4)}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(_with_database(server_url, "postgres"))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(server_url, name)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_readyz_is_503_when_migrations_are_behind(postgres_server_url: str) -> None:
    with empty_database(postgres_server_url) as url:
        with serving(url) as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["reason"] == "the database has no migrations applied"

        script = ScriptDirectory.from_config(alembic_config(url))
        first = script.get_base()
        assert first is not None
        assert first != script.get_current_head()
        asyncio.run(_set_revision(url, first))
        ready, body = asyncio.run(Readiness(url, 2.0).check())
        assert not ready
        assert body["reason"].startswith(f"migrations behind: the database is at {first}")

        # A revision this release does not know: a newer one, migrated by a rolling deploy.
        asyncio.run(_set_revision(url, "f00dfeedbeef"))
        ready, body = asyncio.run(Readiness(url, 2.0).check())
        assert ready, body
        assert body["migrations"] == "ahead"


async def _set_revision(url: str, revision: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS alembic_version (version_num varchar(32) PRIMARY KEY)"
        )
        await connection.execute("DELETE FROM alembic_version")
        await connection.execute("INSERT INTO alembic_version VALUES ($1)", revision)
    finally:
        await connection.close()


# ---- /metrics -----------------------------------------------------------------------------


def test_metrics_count_requests_by_operation_and_outcome(api: httpx.Client, admin_key: str) -> None:
    before = scrape(api)
    for _ in range(3):
        response = post(api, admin_key, MEMBERS)
        assert response.status_code == 200
        assert "errors" not in response.json()
    assert post(api, admin_key, BROKEN).json()["errors"]
    assert post(api, None, MEMBERS).status_code == 401
    after = scrape(api)

    requests = "finance_api_requests_total"
    ok = {"operation_type": "query", "operation_name": "ObsMembers"}
    assert grew(before, after, requests, **ok, outcome="ok") == 3
    broken = {"operation_type": "query", "operation_name": "ObsBroken"}
    assert grew(before, after, requests, **broken, outcome="graphql_error") == 1
    refused = {"operation_type": "", "operation_name": "", "outcome": "refused"}
    assert grew(before, after, requests, **refused) == 1

    latency = "finance_api_request_duration_seconds"
    assert grew(before, after, f"{latency}_count", **ok) == 3
    assert grew(before, after, f"{latency}_bucket", **ok, le="+Inf") == 3
    assert 0 < grew(before, after, f"{latency}_sum", **ok) < 30

    statements = "finance_api_request_sql_statements"
    assert grew(before, after, f"{statements}_count", operation_type="query") == 4
    # At least one statement per successful read (the key lookup may be cached).
    assert grew(before, after, f"{statements}_sum", operation_type="query") >= 3


def test_metrics_show_the_connection_pool(api: httpx.Client) -> None:
    samples = scrape(api)
    # Every app in this process adds its pool; this one's has the default size.
    assert value(samples, "finance_api_db_pool_size") >= Settings().db_pool_size
    # Present (a missing gauge would read 0 below); its movement is the next test's subject.
    assert ("finance_api_db_pool_connections_in_use", frozenset()) in samples
    assert ("finance_api_db_pool_waiting", frozenset()) in samples
    assert value(samples, "finance_api_db_pool_wait_seconds_count") >= 1


def test_pool_gauges_follow_checkouts_and_waiters(obs_db: ProvisionedDatabase) -> None:
    async def scenario() -> list[float]:
        settings = Settings(db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=5.0)
        engine = create_engine(settings, obs_db.app_url)
        instrument_pool(engine)
        seen: list[float] = []
        try:
            base_in_use = gauge("finance_api_db_pool_connections_in_use")
            base_waiting = gauge("finance_api_db_pool_waiting")
            async with engine.connect() as held:
                await held.execute(text("SELECT 1"))
                seen.append(gauge("finance_api_db_pool_connections_in_use") - base_in_use)
                waiter = asyncio.create_task(_select_one(engine))
                await asyncio.sleep(0.2)  # the waiter is now queued for the only connection
                seen.append(gauge("finance_api_db_pool_waiting") - base_waiting)
            await waiter
            seen.append(gauge("finance_api_db_pool_waiting") - base_waiting)
            seen.append(gauge("finance_api_db_pool_connections_in_use") - base_in_use)
        finally:
            forget_pool(engine)
            await engine.dispose()
        return seen

    assert asyncio.run(scenario()) == [1, 1, 0, 0]


async def _select_one(engine: Any) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def gauge(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def test_rate_limited_requests_are_counted(obs_db: ProvisionedDatabase, admin_key: str) -> None:
    with serving(obs_db.app_url, rate_limit_burst=1, rate_limit_per_second=0.01) as client:
        before = scrape(client)
        assert post(client, admin_key, MEMBERS).status_code == 200
        assert post(client, admin_key, MEMBERS).status_code == 429
        after = scrape(client)
    assert grew(before, after, "finance_api_rate_limited_requests_total", role="ADMIN") == 1
    limited = {"operation_type": "", "operation_name": "", "outcome": "rate_limited"}
    assert grew(before, after, "finance_api_requests_total", **limited) == 1


def test_upstream_calls_are_counted_by_outcome(api: httpx.Client, admin_key: str) -> None:
    before = scrape(api)
    synced = post(api, admin_key, SYNC, n="M-200001").json()["data"]["syncMember"]
    assert synced["userErrors"] == []
    assert synced["member"]["memberNumber"] == "M-200001"
    missing = post(api, admin_key, SYNC, n="M-999999").json()["data"]["syncMember"]
    assert [e["code"] for e in missing["userErrors"]] == ["UPSTREAM_NOT_FOUND"]
    after = scrape(api)

    calls = "finance_api_upstream_calls_total"
    assert grew(before, after, calls, upstream="pension-provider", outcome="ok") == 1
    assert grew(before, after, calls, upstream="pension-provider", outcome="not_found") == 1
    duration = "finance_api_upstream_call_duration_seconds_count"
    assert grew(before, after, duration, upstream="pension-provider") == 2
    state = "finance_api_upstream_circuit_state"
    assert value(after, state, upstream="pension-provider", state="closed") == 1
    assert value(after, state, upstream="pension-provider", state="opened") == 0
    mutation = {"operation_type": "mutation", "operation_name": "ObsSync", "outcome": "ok"}
    assert grew(before, after, "finance_api_requests_total", **mutation) == 2


def test_metrics_can_require_a_token_or_be_off(obs_db: ProvisionedDatabase) -> None:
    with serving(obs_db.app_url, metrics_token="scrape-secret") as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert right.status_code == 200
        assert "finance_api_requests_total" in right.text
    with serving(obs_db.app_url, metrics_enabled=False) as client:
        assert client.get("/metrics").status_code == 404


def test_workers_share_metrics_in_multiprocess_mode(tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, any worker's /metrics reports every worker: counters
    of all of them (stopped ones too), gauges of the live ones."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def run(code: str) -> str:
        prelude = "from graphql_api.telemetry import metrics as m\n"
        done = subprocess.run(
            [sys.executable, "-c", prelude + code], env=env, capture_output=True, check=True
        )
        return done.stdout.decode()

    work = "m.record_upstream_call('pension-provider', 'ok', 0.1)\nm.POOL_IN_USE.set(3)\n"
    run(work)  # a worker still running (its files stay as they are)
    run(work + "m.worker_stopped()\n")  # a worker that shut down cleanly
    exposed = run("print(m.exposition().decode())")
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposed)
        for sample in family.samples
    }
    calls = "finance_api_upstream_calls_total"
    assert value(samples, calls, upstream="pension-provider", outcome="ok") == 2
    assert value(samples, "finance_api_db_pool_connections_in_use") == 3


# ---- access log ---------------------------------------------------------------------------


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog, hearing the access logger too (which does not propagate: its own handler
    prints the bare JSON lines)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


def test_access_log_has_one_json_line_per_request(
    api: httpx.Client, admin_key: str, access_log: pytest.LogCaptureFixture
) -> None:
    ids = {name: f"obs-{name}-{secrets.token_hex(4)}" for name in ("read", "anon", "bad", "sync")}

    def send(name: str, key: str | None, query: str, **variables: Any) -> httpx.Response:
        headers = {"X-Request-ID": ids[name]}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        body = {"query": query, "variables": variables}
        return api.post("/graphql", json=body, headers=headers)

    plan = send("read", admin_key, MEMBERS).json()["extensions"]["plan"]
    send("anon", None, MEMBERS)
    send("bad", admin_key, BROKEN)
    send("sync", admin_key, SYNC, n="M-200002")
    api.get("/healthz")
    api.get("/readyz")

    records = [record for record in access_log.records if record.name == ACCESS_LOGGER]
    assert all(record.levelno == logging.INFO for record in records)
    lines = [json.loads(record.getMessage()) for record in records]
    by_id = {line["request_id"]: line for line in lines}
    for request_id in ids.values():
        assert sum(line["request_id"] == request_id for line in lines) == 1
    assert len(lines) == len(ids)  # probes are not logged

    read = by_id[ids["read"]]
    assert set(read) == {
        "ts", "request_id", "method", "path", "status", "operation_name", "operation_type",
        "role", "duration_ms", "sql_statements", "outcome", "plan",
    }  # fmt: skip
    assert read["method"] == "POST"
    assert read["path"] == "/graphql"
    assert read["status"] == 200
    assert (read["operation_name"], read["operation_type"]) == ("ObsMembers", "query")
    assert (read["role"], read["outcome"], read["plan"]) == ("ADMIN", "ok", plan)
    assert read["sql_statements"] >= 1
    assert read["duration_ms"] > 0
    assert read["ts"].endswith("Z")

    anon = by_id[ids["anon"]]
    assert (anon["status"], anon["outcome"], anon["role"]) == (401, "refused", None)
    assert anon["operation_name"] is None
    assert "plan" not in anon

    bad = by_id[ids["bad"]]
    assert (bad["outcome"], bad["operation_name"], bad["plan"]) == (
        "graphql_error",
        "ObsBroken",
        "resolvers",
    )
    sync = by_id[ids["sync"]]
    assert (sync["operation_type"], sync["outcome"], sync["plan"]) == (
        "mutation",
        "ok",
        "resolvers",
    )
    assert sync["sql_statements"] >= 2


# ---- tracing ------------------------------------------------------------------------------


def test_tracing_records_request_and_sql_spans(
    obs_db: ProvisionedDatabase, admin_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    app = create_app(Settings(database_url=obs_db.app_url))
    exporter = InMemorySpanExporter()
    app.state.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        response = post(client, admin_key, MEMBERS)
        spans = exporter.get_finished_spans()
    # Tracing leaves the compiled path working (its statement's span included).
    assert response.json()["extensions"]["plan"] == "compiled"
    server = [span for span in spans if span.kind is SpanKind.SERVER]
    assert len(server) == 1
    request = server[0]
    assert request.attributes is not None
    assert request.attributes["graphql.operation.name"] == "ObsMembers"
    assert request.attributes["finance.outcome"] == "ok"
    statements = [
        span
        for span in spans
        if span.kind is SpanKind.CLIENT
        and span.context.trace_id == request.context.trace_id
        and str((span.attributes or {}).get("db.statement", "")).startswith("SELECT")
    ]
    # The key lookup and the read itself (a compiled read runs on the driver directly, and
    # still gets its span).
    assert len(statements) >= 2, [span.name for span in spans]
    assert all((span.attributes or {}).get("db.system") == "postgresql" for span in statements)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, []),
        ({"OTEL_TRACES_EXPORTER": "Console, otlp"}, ["console", "otlp"]),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}, []),
    ],
)
def test_tracing_is_on_only_when_the_otel_variables_say_so(
    environ: dict[str, str], expected: list[str]
) -> None:
    assert exporter_names(environ) == expected


def test_tracing_exporters_come_from_the_installed_entry_points() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    from graphql_api.telemetry.tracing import span_exporter, tracer_provider_from_env

    assert tracer_provider_from_env({}) is None
    assert isinstance(span_exporter("otlp", {}), OTLPSpanExporter)
    http = {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}
    assert isinstance(span_exporter("otlp", http), OTLPSpanExporter)
    assert isinstance(span_exporter("console", {}), ConsoleSpanExporter)
    with pytest.raises(RuntimeError, match="no span exporter named 'otlp_proto_grpc'"):
        span_exporter("otlp", {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})  # not shipped
    with pytest.raises(RuntimeError, match="use http/protobuf or grpc"):
        span_exporter("otlp", {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})
    with pytest.raises(RuntimeError, match="no span exporter named 'zipkin'"):
        tracer_provider_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})
    provider = tracer_provider_from_env({"OTEL_TRACES_EXPORTER": "console"})
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "finance-graphql"
    provider.shutdown()
