"""What a `subscribe` must be to start (realtime/admission.py), the per-connection cap's typed
error, and per-event `sqlStatements`: the regressions of the H6 review's findings 7 to 10."""

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from graphql_api.models import Role
from tests.graphql_client import GraphQLClient
from tests.subscription_server import TEST_LIMITS, subscription_server
from tests.ws_client import APPLY_FOR_LOAN, AUDIT_EVENTS, WsClient, error_codes

FANS = " ".join(
    f"a{i}: loanApplications(first: 100) {{ edges {{ node {{ id }} }} }}" for i in range(20)
)
COSTLY = (
    'memberUpdated(memberNumber: "M-100001") { loanApplications(first: 100) {'
    f" edges {{ node {{ member {{ {FANS} }} }} }} }} }}"
)
CHEAP = "auditEvents { id }"
TWO_SUBSCRIPTIONS = f"subscription A {{ {COSTLY} }} subscription B {{ {CHEAP} }}"
MUTATION_THEN_SUBSCRIPTION = f"mutation M {{ __typename }} subscription S {{ {CHEAP} }}"


@pytest.fixture(scope="module")
def sub_url(demo_loaded: str, app_database_url: str) -> Iterator[str]:
    with subscription_server(app_database_url, expose_query_stats=True) as url:
        yield url


async def first_answer(ws: WsClient, payload: dict[str, Any]) -> dict[str, Any]:
    await ws.send({"id": "op", "type": "subscribe", "payload": payload})
    return await ws.next_message("op")


@pytest.mark.asyncio
async def test_several_operations_without_a_name_are_refused(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    """The costly first operation used to stream: no operation was chosen, so no cost check."""
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        message = await first_answer(ws, {"query": TWO_SUBSCRIPTIONS})
    assert message["type"] == "error"
    assert error_codes(message) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "operation name" in message["payload"][0]["message"]


@pytest.mark.asyncio
async def test_the_cost_check_is_of_the_named_operation(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        costly = await first_answer(ws, {"query": TWO_SUBSCRIPTIONS, "operationName": "A"})
        assert error_codes(costly) == ["QUERY_TOO_COMPLEX"]
        await ws.send(
            {
                "id": "cheap",
                "type": "subscribe",
                "payload": {"query": TWO_SUBSCRIPTIONS, "operationName": "B"},
            }
        )
        await ws.nothing_for(0.5)  # running: no error, no complete


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"query": TWO_SUBSCRIPTIONS, "operationName": "C"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {"query": f"subscription {{ {CHEAP} }}", "operationName": "X"},
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ({"query": "fragment F on Query { __typename }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": MUTATION_THEN_SUBSCRIPTION}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": MUTATION_THEN_SUBSCRIPTION, "operationName": "M"}, "OPERATION_NOT_ALLOWED"),
    ],
    ids=["unknown-name", "name-of-anonymous", "no-operation", "mutation-first", "named-mutation"],
)
async def test_documents_without_one_runnable_subscription_get_a_typed_error(
    sub_url: str,
    api_keys: dict[Role, str],
    caplog: pytest.LogCaptureFixture,
    payload: dict[str, Any],
    code: str,
) -> None:
    with caplog.at_level(logging.WARNING):
        async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
            message = await first_answer(ws, payload)
            await ws.send({"type": "ping"})
            assert (await ws.recv())["type"] == "pong"
    assert message["type"] == "error"
    assert error_codes(message) == [code]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "wrong",
    [
        {"variables": [1]},
        {"variables": "x"},
        {"operationName": 5},
        {"operationName": {"a": 1}},
        {"extensions": "x"},
        {"extensions": [1]},
    ],
    ids=["variables-list", "variables-string", "name-number", "name-object", "ext-str", "ext-list"],
)
async def test_wrongly_typed_payload_fields_close_with_4400(
    sub_url: str, api_keys: dict[Role, str], caplog: pytest.LogCaptureFixture, wrong: dict[str, Any]
) -> None:
    with caplog.at_level(logging.WARNING):
        async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
            payload = {"query": f"subscription {{ {CHEAP} }}", **wrong}
            await ws.send({"id": "op", "type": "subscribe", "payload": payload})
            assert (await ws.closed_with())[0] == 4400
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.asyncio
async def test_the_per_connection_cap_gives_the_typed_error(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    """Sent at once, before any has registered with the hub: strawberry's own cap used to
    answer the extra ones, with no code."""
    limit = TEST_LIMITS["subscriptions_per_key"]
    async with WsClient.connect(sub_url, api_keys[Role.ADVISOR]) as ws:
        for index in range(limit + 2):
            await ws.subscribe(str(index), AUDIT_EVENTS)
        for index in (limit, limit + 1):
            message = await ws.next_message(str(index))
            assert message["type"] == "error"
            assert error_codes(message) == ["TOO_MANY_SUBSCRIPTIONS"]


@pytest.mark.asyncio
async def test_sql_statements_are_counted_per_event(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    """Each event's `extensions.sqlStatements` is its own (it used to be a running total)."""
    variables = {"filter": {"memberNumber": "M-100002", "action": "loan.applied"}}
    counts = []
    with GraphQLClient.connect(sub_url, api_keys[Role.ADMIN]) as http:
        async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
            await ws.subscribe("1", AUDIT_EVENTS, variables)
            await asyncio.sleep(0.3)
            for _ in range(3):
                http.ok(APPLY_FOR_LOAN, {"member": "M-100002"})
                message = await ws.next_message("1")
                assert message["type"] == "next", message
                counts.append(message["payload"]["extensions"]["sqlStatements"])
    assert counts[1] == counts[2] == counts[0] or counts[1] == counts[2] < counts[0]
    assert 0 < counts[2] <= 3
