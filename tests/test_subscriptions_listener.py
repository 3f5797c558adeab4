"""The worker's LISTEN connection survives losing its PostgreSQL backend, and a row committed
while it was down still reaches subscribers (replayed from the audit table), once."""

import asyncio
import base64
import json
from collections.abc import Iterator

import asyncpg
import pytest

from graphql_api.audit.service import AUDIT_CHANNEL
from graphql_api.models import Role
from tests.subscription_server import subscription_server
from tests.ws_client import AUDIT_EVENTS, WsClient, error_codes

ACTION = "test.during_outage"
LISTENERS = (
    "SELECT pid FROM pg_stat_activity"
    " WHERE application_name = 'finance-graphql-listener' AND datname = current_database()"
)


@pytest.fixture(scope="module")
def sub_url(demo_loaded: str, app_database_url: str) -> Iterator[str]:
    with subscription_server(app_database_url) as url:
        yield url


async def commit_while_listeners_are_cut_off(database_url: str) -> int:
    """In one transaction: an announced audit row, and every listener's backend terminated.
    The notification goes out at commit, to no one: only a replay can deliver the row."""
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            audit_id: int = await connection.fetchval(
                "INSERT INTO audit_logs (request_id, actor, action, entity_type, entity_id)"
                " VALUES ('outage', 'test', $1, 'Test', '1') RETURNING id",
                ACTION,
            )
            payload = json.dumps({"id": audit_id, "member_id": None, "action": ACTION})
            await connection.execute("SELECT pg_notify($1, $2)", AUDIT_CHANNEL, payload)
            terminated = await connection.fetch(
                f"SELECT pg_terminate_backend(pid) FROM ({LISTENERS}) AS listeners"
            )
            assert terminated, "no listener connection to cut"
        return audit_id
    finally:
        await connection.close()


async def _execute(database_url: str, statement: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def listener_count(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return len(await connection.fetch(LISTENERS))
    finally:
        await connection.close()


@pytest.mark.asyncio
async def test_a_row_committed_while_the_listener_was_down_is_delivered_once(
    sub_url: str, api_keys: dict[Role, str], database_url: str
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("1", AUDIT_EVENTS, {"filter": {"action": ACTION}})
        await asyncio.sleep(0.3)
        audit_id = await commit_while_listeners_are_cut_off(database_url)
        event = (await ws.next_data("1"))["auditEvents"]
        assert base64.b64decode(event["id"]).decode() == f"AuditLog:{audit_id}"
        await ws.nothing_for(1.0)
    assert await listener_count(database_url) >= 1  # reconnected


@pytest.fixture(scope="module")
def impatient_url(demo_loaded: str, app_database_url: str) -> Iterator[str]:
    """A server whose statements give up after 300 ms."""
    with subscription_server(app_database_url, db_statement_timeout_ms=300) as url:
        yield url


@pytest.mark.asyncio
async def test_subscribers_are_told_when_announced_rows_cannot_be_read(
    impatient_url: str, api_keys: dict[Role, str], database_url: str
) -> None:
    """The hub retries, then ends its subscriptions with EVENTS_MISSED rather than let them
    believe nothing happened (they resume with `after`)."""
    async with WsClient.connect(impatient_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("1", AUDIT_EVENTS, {"filter": {"action": ACTION}})
        await asyncio.sleep(0.3)
        locker = await asyncpg.connect(database_url)
        try:
            async with locker.transaction():
                await locker.execute("LOCK TABLE audit_logs IN ACCESS EXCLUSIVE MODE")
                # Announced (from another session, at once) while no one can read the table.
                payload = json.dumps({"id": 0, "member_id": None, "action": ACTION})
                await _execute(database_url, f"SELECT pg_notify('{AUDIT_CHANNEL}', '{payload}')")
                await asyncio.sleep(3)  # past every attempt of the hub (300 ms timeouts)
        finally:
            await locker.close()
        message = await ws.next_message("1")
    assert error_codes(message) == ["EVENTS_MISSED"]
