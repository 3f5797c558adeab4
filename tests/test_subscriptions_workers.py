"""Across workers: `finance-api serve --workers 2` as users run it; a mutation served by one
worker reaches subscribers connected to either (PostgreSQL NOTIFY reaches every listener)."""

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from graphql_api.bench.realtime import connections_on_both_workers, loan_id, served
from graphql_api.bench.realtime_idle import subscribe
from graphql_api.models import Role
from tests.ws_client import APPLY_FOR_LOAN, AUDIT_EVENTS

MEMBER = "M-100002"


@pytest.fixture(scope="module")
def two_workers(demo_loaded: str, app_database_url: str) -> Iterator[str]:
    with served(app_database_url, workers=2) as (base_url, _):
        yield base_url


async def next_event(connection: ClientConnection) -> dict[str, object]:
    while True:
        message = json.loads(await asyncio.wait_for(connection.recv(), 10))
        if message["type"] == "next":
            event: dict[str, object] = message["payload"]["data"]["auditEvents"]
            return event


@pytest.mark.asyncio
async def test_every_worker_s_subscribers_get_an_event_from_a_mutation_on_another(
    two_workers: str, api_keys: dict[Role, str]
) -> None:
    key = api_keys[Role.ADMIN]
    opened = await connections_on_both_workers(two_workers, key)
    try:
        for index, (connection, _) in enumerate(opened):
            await subscribe(connection, str(index), AUDIT_EVENTS, filter={"memberNumber": MEMBER})
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
            response = await http.post(
                f"{two_workers}/graphql",
                json={"query": APPLY_FOR_LOAN, "variables": {"member": MEMBER}},
            )
        loan = response.json()["data"]["applyForLoan"]["loanApplication"]["id"]
        events = await asyncio.gather(*(next_event(c) for c, _ in opened))
    finally:
        for connection, _ in opened:
            await connection.close()
    assert len({pid for _, pid in opened}) == 2
    # The mutation's own event reached every subscriber, whichever worker served it.
    assert {event["entityId"] for event in events} == {loan_id(loan)}
    assert all(event["action"] == "loan.applied" for event in events)
