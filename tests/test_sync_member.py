"""syncMember end to end: the real API over HTTP, a real PostgreSQL database of its own (the
sync rewrites demo members, which the read tests compare against the demo file), and the
sandbox pension provider as a real server, with every fault mode and the attempts it costs.

Also the sandbox's CLI command, and `serve`'s default sandbox beside the embedded database.
"""

import asyncio
import dataclasses
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from graphql_api.config import Settings
from graphql_api.models import Role
from graphql_api.runtime.app import create_app
from graphql_api.runtime.paths import data_dir
from graphql_api.runtime.serve import BASE_URL_VARIABLE, sandbox_unless_configured
from graphql_api.seeding.demo import load_demo
from graphql_api.upstream import PensionClient, PensionClientConfig
from tests.api_keys import create_api_key
from tests.db import fresh_database
from tests.db_counts import fetch, row_counts
from tests.demo_file import demo_members
from tests.graphql_client import GraphQLClient
from tests.http_server import free_port, serve_in_thread
from tests.sandbox_server import FAST_CLIENT_CONFIG, SandboxServer, running_sandbox

API_KEY = f"sk-sync-TOPSECRET-{uuid.uuid4().hex}"
WRONG_KEY = f"sk-wrong-TOPSECRET-{uuid.uuid4().hex}"
# Tiny timings, so the whole fault matrix runs in a few seconds. The breaker threshold is
# high here: the breaker test runs its own server with a low one.
FAST = dataclasses.replace(FAST_CLIENT_CONFIG, breaker_threshold=100)

SYNC = """
mutation ($input: SyncMemberInput!) {
  syncMember(input: $input) {
    member { id memberNumber fullName email status createdAt updatedAt
             pensionAccount { contributionBalance currency lastSyncedAt } }
    userErrors { code message field }
  }
}
"""
AUDIT_BY_REQUEST = """
query ($r: String) { auditLogs(filter: {requestId: $r}) { edges { node {
  action entityType entityId payload createdAt member { memberNumber } } } } }
"""
MEMBER_STATE = """
SELECT m.id, m.member_number, m.full_name, m.email, m.status::text, m.updated_at,
       a.contribution_balance, a.currency, a.last_synced_at, a.updated_at AS account_updated_at,
       (SELECT count(*) FROM audit_logs l WHERE l.member_id = m.id) AS audit_rows
FROM members m LEFT JOIN pension_accounts a ON a.member_id = m.id
WHERE m.member_number = $1
"""


def sandbox_members() -> dict[str, dict[str, Any]]:
    document = json.loads((data_dir() / "sandbox_members.json").read_text())
    return {m["member_number"]: m for m in document["members"]}


class RecordingClient(GraphQLClient):
    """A GraphQL client that keeps every response body, to check none shows the key."""

    def __init__(self, base_url: str, token: str) -> None:
        self.bodies: list[str] = []
        super().__init__(
            httpx.Client(
                base_url=base_url,
                timeout=30,
                headers={"Authorization": f"Bearer {token}"},
                event_hooks={"response": [self._keep_body]},
            )
        )

    def _keep_body(self, response: httpx.Response) -> None:
        response.read()
        self.bodies.append(response.text)

    def sync(self, number: str, **extra: Any) -> tuple[dict[str, Any], str]:
        """The syncMember payload and the request id it ran under."""
        body = self.post(SYNC, {"input": {"memberNumber": number, **extra}})
        assert body.get("errors") is None, body["errors"]
        return body["data"]["syncMember"], body["extensions"]["requestId"]


def _use_client_config(app: FastAPI, settings: Settings, config: PensionClientConfig) -> None:
    """Swap the app's pension client for one with `config`, built from the same settings,
    inside the app's own lifespan (so it lives on the server's event loop)."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with inner(app_):
            default = app_.state.pension_client
            assert settings.pension_api_base_url is not None
            app_.state.pension_client = PensionClient(
                settings.pension_api_base_url, settings.pension_api_key.get_secret_value(), config
            )
            await default.aclose()
            yield  # the app's lifespan closes whichever client is installed

    app.router.lifespan_context = lifespan


@contextmanager
def serving_api(
    database_url: str,
    sandbox_url: str,
    *,
    api_key: str = API_KEY,
    config: PensionClientConfig,
    **settings_overrides: Any,
) -> Iterator[RecordingClient]:
    settings = Settings(
        database_url=database_url,
        pension_api_base_url=sandbox_url,
        pension_api_key=api_key,
        expose_query_stats=True,
        **settings_overrides,
    )
    token = create_api_key(database_url, Role.ADMIN, label="test-sync")
    app = create_app(settings)
    _use_client_config(app, settings, config)
    with serve_in_thread(app) as url:
        client = RecordingClient(url, token)
        try:
            yield client
        finally:
            client.http.close()


@pytest.fixture(scope="module")
def sync_db(postgres_server_url: str) -> Iterator[str]:
    with fresh_database(postgres_server_url) as url:
        asyncio.run(load_demo(url))
        yield url


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with running_sandbox(api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def api(sync_db: str, sandbox: SandboxServer) -> Iterator[RecordingClient]:
    with serving_api(sync_db, sandbox.base_url, config=FAST) as client:
        yield client


@pytest.fixture(autouse=True)
def _fresh_sandbox_and_no_key_leaks(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").reset()
    caplog.set_level(logging.DEBUG)
    yield
    bodies: list[str] = []
    if "api" in request.fixturenames:
        bodies = request.getfixturevalue("api").bodies
    for body in bodies:
        assert API_KEY not in body
        assert WRONG_KEY not in body
    bodies.clear()
    for record in [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]:
        assert API_KEY not in record.getMessage()
        assert WRONG_KEY not in record.getMessage()
        assert API_KEY not in repr(record.__dict__)


def state(database_url: str, number: str) -> dict[str, Any] | None:
    rows = asyncio.run(fetch(database_url, MEMBER_STATE, number))
    return dict(rows[0]) if rows else None


def _errors(result: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in result["userErrors"]]


def _money(value: object) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


# ---- success -------------------------------------------------------------------------------


def test_upstream_only_member_is_created_with_null_email(
    api: RecordingClient, sandbox: SandboxServer, sync_db: str
) -> None:
    number = "M-200001"
    upstream = sandbox_members()[number]
    assert state(sync_db, number) is None
    before = row_counts(sync_db)

    result, request_id = api.sync(number)

    assert result["userErrors"] == []
    member = result["member"]
    assert member["memberNumber"] == number
    assert member["email"] is None
    assert member["fullName"] == upstream["full_name"]
    assert member["status"] == upstream["status"].upper()
    account = member["pensionAccount"]
    assert account["contributionBalance"] == _money(upstream["contribution_balance"])
    assert account["currency"] == upstream["currency"]
    assert sandbox.requests_for(number) == 1
    after = row_counts(sync_db)
    assert after == {
        **before,
        "members": before["members"] + 1,
        "pension_accounts": before["pension_accounts"] + 1,
        "audit_logs": before["audit_logs"] + 1,
    }

    (entry,) = [
        e["node"] for e in api.ok(AUDIT_BY_REQUEST, {"r": request_id})["auditLogs"]["edges"]
    ]
    assert (entry["action"], entry["entityType"]) == ("member.synced", "Member")
    assert entry["member"]["memberNumber"] == number
    assert entry["payload"] == {
        "created": True,
        "changes": {
            "fullName": {"before": None, "after": upstream["full_name"]},
            "status": {"before": None, "after": upstream["status"].upper()},
            "contributionBalance": {
                "before": None,
                "after": _money(upstream["contribution_balance"]),
            },
            "currency": {"before": None, "after": upstream["currency"]},
        },
    }
    # Member, account and audit row share the transaction's now().
    assert entry["createdAt"] == member["createdAt"] == account["lastSyncedAt"]


def test_existing_demo_member_is_updated_and_keeps_its_email(
    api: RecordingClient, sandbox: SandboxServer, sync_db: str
) -> None:
    number = "M-100005"
    (demo,) = [m for m in demo_members() if m["member_number"] == number]
    upstream = sandbox_members()[number]
    before_state = state(sync_db, number)
    assert before_state is not None
    before = row_counts(sync_db)

    result, request_id = api.sync(number)

    assert result["userErrors"] == []
    member = result["member"]
    assert member["email"] == demo["email"]
    assert (member["fullName"], member["status"]) == (
        upstream["full_name"],
        upstream["status"].upper(),
    )
    assert member["pensionAccount"]["contributionBalance"] == _money(
        upstream["contribution_balance"]
    )
    assert row_counts(sync_db) == {**before, "audit_logs": before["audit_logs"] + 1}
    (entry,) = [
        e["node"] for e in api.ok(AUDIT_BY_REQUEST, {"r": request_id})["auditLogs"]["edges"]
    ]
    assert entry["entityId"] == str(before_state["id"])
    assert entry["payload"] == {
        "created": False,
        "changes": {
            "fullName": {"before": demo["full_name"], "after": upstream["full_name"]},
            "status": {"before": demo["status"], "after": upstream["status"].upper()},
            "contributionBalance": {
                "before": demo["pension_account"]["contribution_balance"],
                "after": _money(upstream["contribution_balance"]),
            },
            "currency": {
                "before": demo["pension_account"]["currency"],
                "after": upstream["currency"],
            },
        },
    }
    assert entry["createdAt"] == member["updatedAt"] == member["pensionAccount"]["lastSyncedAt"]

    # Nothing changed upstream: still one audit row, an empty change set, a new sync time,
    # and the member row itself untouched.
    synced = state(sync_db, number)
    again, request_id = api.sync(number)
    assert again["userErrors"] == []
    (entry,) = [
        e["node"] for e in api.ok(AUDIT_BY_REQUEST, {"r": request_id})["auditLogs"]["edges"]
    ]
    assert entry["payload"] == {"created": False, "changes": {}}
    resynced = state(sync_db, number)
    assert synced is not None
    assert resynced is not None
    assert resynced["updated_at"] == synced["updated_at"]
    assert resynced["last_synced_at"] > synced["last_synced_at"]
    assert resynced["audit_rows"] == synced["audit_rows"] + 1
    assert sandbox.requests_for(number) == 2


def test_concurrent_syncs_of_a_new_member_create_it_once(
    api: RecordingClient, sandbox: SandboxServer, sync_db: str
) -> None:
    number = "M-200003"
    payload = {"query": SYNC, "variables": {"input": {"memberNumber": number}}}

    async def burst() -> list[Any]:
        async with httpx.AsyncClient(
            base_url=str(api.http.base_url),
            timeout=30,
            headers={"Authorization": api.http.headers["Authorization"]},  # the API key
        ) as client:
            responses = await asyncio.gather(
                *(client.post("/graphql", json=payload) for _ in range(6))
            )
        return [r.json()["data"]["syncMember"] for r in responses]

    results = asyncio.run(burst())
    assert all(r["userErrors"] == [] for r in results)
    assert len({r["member"]["id"] for r in results}) == 1
    rows = asyncio.run(
        fetch(
            sync_db,
            "SELECT l.payload->>'created' AS created FROM audit_logs l"
            " JOIN members m ON m.id = l.member_id WHERE m.member_number = $1",
            number,
        )
    )
    assert sorted(r["created"] for r in rows) == ["false"] * 5 + ["true"]
    assert sandbox.requests_for(number) == 6


def test_transient_500s_are_retried_then_succeed(
    api: RecordingClient, sandbox: SandboxServer, sync_db: str
) -> None:
    number = "M-200004"
    sandbox.set_fault("error_500", times=2)
    result, _ = api.sync(number)
    assert result["userErrors"] == []
    assert result["member"]["memberNumber"] == number
    assert sandbox.requests_for(number) == 3


def test_rate_limit_waits_for_retry_after_then_succeeds(
    api: RecordingClient, sandbox: SandboxServer, sync_db: str
) -> None:
    number = "M-200005"
    sandbox.set_fault("rate_limited", times=1, retry_after=1)
    started = time.monotonic()
    result, _ = api.sync(number)
    assert result["userErrors"] == []
    assert time.monotonic() - started >= 0.9
    assert sandbox.requests_for(number) == 2


# ---- refusals: nothing written ------------------------------------------------------------


@contextmanager
def writes_nothing(database_url: str, number: str) -> Iterator[None]:
    before, member_before = row_counts(database_url), state(database_url, number)
    yield
    assert row_counts(database_url) == before
    assert state(database_url, number) == member_before


@pytest.mark.parametrize(
    ("fault", "code", "attempts"),
    [
        ({"mode": "error_500", "times": 10}, "UPSTREAM_UNAVAILABLE", 3),
        ({"mode": "slow", "times": 10, "delay_seconds": 1.0}, "UPSTREAM_UNAVAILABLE", 3),
        ({"mode": "rate_limited", "times": 10, "retry_after": 0}, "UPSTREAM_UNAVAILABLE", 3),
        ({"mode": "malformed_json"}, "UPSTREAM_BAD_RESPONSE", 1),
        ({"mode": "bad_schema"}, "UPSTREAM_BAD_RESPONSE", 1),
        (
            {"mode": "override", "fields": {"contribution_balance": "-1.00"}},
            "UPSTREAM_BAD_RESPONSE",
            1,
        ),
        (
            {"mode": "override", "fields": {"full_name": "Ava\u0000Smith"}},
            "UPSTREAM_BAD_RESPONSE",
            1,
        ),
        ({"mode": "override", "fields": {"member_number": "M-100002"}}, "UPSTREAM_BAD_RESPONSE", 1),
    ],
)
@pytest.mark.parametrize("number", ["M-100001", "M-200006"])
def test_provider_failure_is_a_user_error_and_writes_nothing(
    api: RecordingClient,
    sandbox: SandboxServer,
    sync_db: str,
    number: str,
    fault: dict[str, Any],
    code: str,
    attempts: int,
) -> None:
    sandbox.set_fault(**fault)
    with writes_nothing(sync_db, number):
        result, _ = api.sync(number, idempotencyKey=f"fail-{uuid.uuid4()}")
    assert result["member"] is None
    assert _errors(result) == [(code, None)]
    assert result["userErrors"][0]["message"]
    assert sandbox.requests_for(number) == attempts


def test_unknown_member_is_upstream_not_found(
    api: RecordingClient, sandbox: SandboxServer, sync_db: str
) -> None:
    with writes_nothing(sync_db, "M-999999"):
        result, _ = api.sync("M-999999")
    assert _errors(result) == [("UPSTREAM_NOT_FOUND", ["input", "memberNumber"])]
    assert sandbox.requests_for("M-999999") == 1


@pytest.mark.parametrize("number", ["", "M 1", "M/100001", "-M-1", "M-" + "1" * 31])
def test_invalid_member_number_never_reaches_the_provider(
    api: RecordingClient, sandbox: SandboxServer, sync_db: str, number: str
) -> None:
    before = row_counts(sync_db)
    result, _ = api.sync(number)
    assert _errors(result) == [("INVALID_INPUT", ["input", "memberNumber"])]
    assert sandbox.stats()["total"] == 0
    assert row_counts(sync_db) == before


def test_wrong_api_key_is_unavailable_after_one_attempt(
    sandbox: SandboxServer, sync_db: str
) -> None:
    number = "M-100003"
    with serving_api(sync_db, sandbox.base_url, api_key=WRONG_KEY, config=FAST) as wrong:
        with writes_nothing(sync_db, number):
            result, _ = wrong.sync(number)
        bodies = list(wrong.bodies)
    assert _errors(result) == [("UPSTREAM_UNAVAILABLE", None)]
    assert sandbox.requests_for(number) == 1
    assert bodies
    assert not any(WRONG_KEY in body or API_KEY in body for body in bodies)


def test_open_breaker_fails_fast_with_no_attempt(sandbox: SandboxServer, sync_db: str) -> None:
    number = "M-100004"
    config = PensionClientConfig(
        connect_timeout=1.0, read_timeout=0.3, max_attempts=2, backoff_initial=0.01,
        backoff_max=0.02, backoff_jitter=0.0, breaker_threshold=2, breaker_cooldown=60.0,
    )  # fmt: skip
    sandbox.set_fault("error_500", times=1000)
    with serving_api(sync_db, sandbox.base_url, config=config) as client:
        with writes_nothing(sync_db, number):
            for _ in range(2):
                result, _ = client.sync(number)
                assert _errors(result) == [("UPSTREAM_UNAVAILABLE", None)]
            assert sandbox.requests_for(number) == 4
            sandbox.set_fault("none")  # the provider is fine again, but the breaker is open
            result, _ = client.sync(number)
        bodies = list(client.bodies)
    assert _errors(result) == [("UPSTREAM_UNAVAILABLE", None)]
    assert sandbox.requests_for(number) == 4
    assert not any(API_KEY in body for body in bodies)


@pytest.mark.parametrize("number", ["M-100006", "M-200010"])
def test_hung_provider_is_unavailable_before_the_request_deadline(
    sandbox: SandboxServer, sync_db: str, number: str
) -> None:
    # Production client timeouts (3 attempts x 5 s read + backoff) against a 3 s request
    # deadline: only the deadline-derived budget (3 s - 0.5 s margin) can end the call in time.
    request_timeout, margin = 3.0, 0.5
    sandbox.hang()
    with (
        serving_api(
            sync_db,
            sandbox.base_url,
            config=PensionClientConfig(),
            request_timeout_seconds=request_timeout,
            upstream_deadline_margin_seconds=margin,
        ) as client,
        writes_nothing(sync_db, number),
    ):
        started = time.monotonic()
        result, _ = client.sync(number, idempotencyKey=f"hang-{uuid.uuid4()}")  # HTTP 200
        elapsed = time.monotonic() - started
    assert result["member"] is None
    assert _errors(result) == [("UPSTREAM_UNAVAILABLE", None)]
    assert sandbox.requests_for(number) == 1  # the budget left no time for a second attempt
    # Answered at about the budget's end, before the 504 the deadline would have given.
    assert request_timeout - margin - 1.0 < elapsed < request_timeout


def test_no_provider_configured_is_unavailable(gql: GraphQLClient, demo_loaded: str) -> None:
    number = demo_members()[0]["member_number"]
    with writes_nothing(demo_loaded, number):
        result = gql.ok(SYNC, {"input": {"memberNumber": number}})["syncMember"]
    assert _errors(result) == [("UPSTREAM_UNAVAILABLE", None)]
    assert "configured" in result["userErrors"][0]["message"]


# ---- idempotency ----------------------------------------------------------------------------


def test_idempotent_retry_returns_the_first_result_without_asking_upstream(
    api: RecordingClient, sandbox: SandboxServer, sync_db: str
) -> None:
    number, key = "M-200007", f"sync-{uuid.uuid4()}"
    first, _ = api.sync(number, idempotencyKey=key)
    assert first["userErrors"] == []
    assert sandbox.requests_for(number) == 1

    # Even with the provider down, the retry answers from the first result.
    sandbox.set_fault("error_500", times=100)
    with writes_nothing(sync_db, number):
        again, _ = api.sync(number, idempotencyKey=key)
        assert again["userErrors"] == []
        assert again["member"]["id"] == first["member"]["id"]

        other, _ = api.sync("M-200008", idempotencyKey=key)
        assert other["member"] is None
        assert _errors(other) == [("IDEMPOTENCY_KEY_REUSED", ["input", "idempotencyKey"])]
    assert sandbox.stats()["total"] == 1


def test_a_failed_sync_does_not_claim_its_key(
    api: RecordingClient, sandbox: SandboxServer, sync_db: str
) -> None:
    number, key = "M-200009", f"sync-{uuid.uuid4()}"
    sandbox.set_fault("bad_schema")
    failed, _ = api.sync(number, idempotencyKey=key)
    assert _errors(failed) == [("UPSTREAM_BAD_RESPONSE", None)]
    retried, _ = api.sync(number, idempotencyKey=key)
    assert retried["userErrors"] == []
    assert retried["member"]["memberNumber"] == number
    assert sandbox.requests_for(number) == 2


# ---- running the sandbox --------------------------------------------------------------------


def _get_member(base_url: str, number: str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{base_url}/members/{number}", headers=headers, timeout=2)


@pytest.mark.integration  # the CLI as a subprocess
def test_sandbox_provider_command_serves_members_and_checks_the_key() -> None:
    port = free_port()
    env = {**os.environ, "PENSION_API_KEY": API_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "graphql_api", "sandbox-provider", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = _get_member(base_url, "M-100001", API_KEY)
                break
            except httpx.TransportError:
                assert process.poll() is None, "sandbox-provider exited early"
                assert time.monotonic() < deadline, "sandbox-provider did not start"
                time.sleep(0.05)
        assert response.status_code == 200
        assert response.json()["member_number"] == "M-100001"
        assert _get_member(base_url, "M-100001", None).status_code == 401
        assert _get_member(base_url, "M-100001", WRONG_KEY).status_code == 401
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert API_KEY.encode() not in stderr


def test_serve_starts_the_sandbox_only_when_no_provider_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(BASE_URL_VARIABLE, raising=False)
    with sandbox_unless_configured(Settings(pension_api_key=API_KEY), api_port=free_port()):
        base_url = os.environ[BASE_URL_VARIABLE]
        assert base_url.startswith("http://127.0.0.1:")
        assert _get_member(base_url, "M-200001", API_KEY).status_code == 200
        assert _get_member(base_url, "M-200001", None).status_code == 401
    assert BASE_URL_VARIABLE not in os.environ
    with pytest.raises(httpx.TransportError):
        _get_member(base_url, "M-200001", API_KEY)

    configured = Settings(pension_api_base_url="http://provider.invalid")
    with sandbox_unless_configured(configured, api_port=free_port()):
        assert BASE_URL_VARIABLE not in os.environ
