"""graphql-transport-ws at /graphql refuses what it must: bad keys, protocol violations,
oversized messages, queries and mutations, over-deep documents, too many subscriptions, and
connections that stay idle."""

import asyncio
import json
from collections.abc import Iterator

import pytest
import websockets

from graphql_api.models import Role
from tests.api_keys import create_api_key, revoke_api_key
from tests.graphql_client import GraphQLClient
from tests.subscription_server import TEST_LIMITS, subscription_server
from tests.ws_client import APPLY_FOR_LOAN, AUDIT_EVENTS, MEMBER_UPDATED, WsClient, error_codes

UNKNOWN_KEY = "fgk_" + "x" * 43


@pytest.fixture(scope="module")
def sub_url(demo_loaded: str, app_database_url: str) -> Iterator[str]:
    with subscription_server(app_database_url) as url:
        yield url


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "payload",
    [
        {"Authorization": f"Bearer {UNKNOWN_KEY}"},
        {"apiKey": UNKNOWN_KEY},
        {"Authorization": "Basic abc"},
        {},
    ],
)
async def test_a_wrong_or_missing_key_closes_with_4403(sub_url: str, payload: object) -> None:
    async with WsClient.connect(sub_url) as ws:
        await ws.send({"type": "connection_init", "payload": payload})
        assert (await ws.closed_with())[0] == 4403


@pytest.mark.asyncio
async def test_the_key_may_come_as_api_key(sub_url: str, api_keys: dict[Role, str]) -> None:
    async with WsClient.connect(sub_url) as ws:
        await ws.init({"apiKey": api_keys[Role.ADVISOR]})
        assert ws.ack is not None
        assert ws.ack["pid"] > 0


@pytest.mark.asyncio
async def test_no_connection_init_in_time_closes_with_4408(sub_url: str) -> None:
    async with WsClient.connect(sub_url) as ws:
        code, _ = await ws.closed_with(wait=TEST_LIMITS["ws_connection_init_timeout_seconds"] + 5)
    assert code == 4408


@pytest.mark.asyncio
async def test_subscribing_before_connection_init_closes_with_4401(sub_url: str) -> None:
    async with WsClient.connect(sub_url) as ws:
        await ws.subscribe("1", AUDIT_EVENTS)
        assert (await ws.closed_with())[0] == 4401


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        "[1, 2]",
        '"connection_init"',
        '{"type": "no_such_type"}',
        '{"type": "subscribe", "id": "1", "payload": "query"}',
        '{"type": "subscribe", "id": 7, "payload": {"query": "subscription { x }"}}',
        '{"payload": {}}',
    ],
)
async def test_malformed_messages_close_with_4400(
    sub_url: str, api_keys: dict[Role, str], raw: str
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.connection.send(raw)
        assert (await ws.closed_with())[0] == 4400


@pytest.mark.asyncio
async def test_a_binary_message_closes_with_4400(sub_url: str, api_keys: dict[Role, str]) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.connection.send(b'{"type": "ping"}')
        assert (await ws.closed_with())[0] == 4400


@pytest.mark.asyncio
async def test_an_oversized_message_closes_with_1009(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        padding = " " * TEST_LIMITS["ws_max_message_bytes"]
        await ws.subscribe("1", AUDIT_EVENTS + padding)
        assert (await ws.closed_with())[0] == 1009


@pytest.mark.asyncio
async def test_completing_an_unknown_operation_is_ignored(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    """The protocol has no answer to a `complete` for an id the server does not know (it may
    have just ended): the connection goes on."""
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.send({"id": "never-started", "type": "complete"})
        await ws.send({"type": "ping"})
        assert (await ws.recv())["type"] == "pong"


@pytest.mark.asyncio
async def test_a_duplicate_operation_id_closes_with_4409(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("same", AUDIT_EVENTS)
        await ws.subscribe("same", AUDIT_EVENTS)
        assert (await ws.closed_with())[0] == 4409


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "document",
    ["{ members(first: 1) { totalCount } }", APPLY_FOR_LOAN],
    ids=["query", "mutation"],
)
async def test_queries_and_mutations_are_refused_over_websocket(
    sub_url: str, api_keys: dict[Role, str], document: str
) -> None:
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("op", document, {"member": "M-100001"})
        message = await ws.next_message("op")
        assert message["type"] == "error"
        assert error_codes(message) == ["OPERATION_NOT_ALLOWED"]
        # The connection stays usable for subscriptions.
        await ws.send({"type": "ping"})
        assert (await ws.recv())["type"] == "pong"


@pytest.mark.asyncio
async def test_request_limits_apply_to_subscription_documents(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    levels = 4  # four levels of member -> auditLogs -> edges -> node: depth 17
    deep = (
        "subscription { auditEvents { "
        + "member { auditLogs(first: 1) { edges { node { " * levels
        + "id"
        + " } } } }" * levels
        + " } }"
    )
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("deep", deep)
        message = await ws.next_message("deep")
    assert message["type"] == "error"
    assert error_codes(message) == ["QUERY_TOO_DEEP"]


@pytest.mark.asyncio
async def test_subscriptions_per_key_are_capped_across_connections(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    limit = TEST_LIMITS["subscriptions_per_key"]
    key = api_keys[Role.ADVISOR]
    async with WsClient.connect(sub_url, key) as first, WsClient.connect(sub_url, key) as second:
        for index in range(limit - 1):
            await first.subscribe(f"a{index}", MEMBER_UPDATED, {"number": "M-100001"})
        await second.subscribe("b0", AUDIT_EVENTS)
        await asyncio.sleep(0.5)
        await second.subscribe("b1", AUDIT_EVENTS)
        message = await second.next_message("b1")
        assert error_codes(message) == ["TOO_MANY_SUBSCRIPTIONS"]
        # Completing one frees its place.
        await first.send({"id": "a0", "type": "complete"})
        await asyncio.sleep(0.3)
        await second.subscribe("b2", AUDIT_EVENTS)
        await second.nothing_for(0.5)


@pytest.mark.asyncio
async def test_a_connection_without_subscriptions_is_closed_when_idle(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    idle = TEST_LIMITS["ws_idle_timeout_seconds"]
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        code, reason = await ws.closed_with(wait=idle + 5)
    assert code == 4000
    assert "idle" in reason.lower()


@pytest.mark.asyncio
async def test_an_active_subscription_keeps_the_connection_open(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    idle = TEST_LIMITS["ws_idle_timeout_seconds"]
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("1", AUDIT_EVENTS, {"filter": {"action": "no.such.action"}})
        await ws.nothing_for(idle + 1)
        await ws.send({"type": "ping"})
        assert (await ws.recv())["type"] == "pong"
        assert json.loads(json.dumps(ws.ack))["pid"] > 0
    with pytest.raises(websockets.ConnectionClosed):
        await ws.connection.send("{}")


@pytest.mark.asyncio
async def test_the_cost_limit_applies_to_subscription_documents(
    sub_url: str, api_keys: dict[Role, str]
) -> None:
    fans = " ".join(
        f"p{n}: predictions(first: 100) {{ edges {{ node {{ id }} }} }}" for n in range(12)
    )
    costly = (
        "subscription { auditEvents { member { loanApplications(first: 100) {"
        f" edges {{ node {{ member {{ {fans} }} }} }} }} }} }} }}"
    )
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("costly", costly)
        message = await ws.next_message("costly")
    assert error_codes(message) == ["QUERY_TOO_COMPLEX"]


@pytest.mark.asyncio
async def test_with_subscriptions_off_no_websocket_protocol_is_offered(
    demo_loaded: str, app_database_url: str
) -> None:
    with subscription_server(app_database_url, subscriptions_enabled=False) as url:
        async with WsClient.connect(url) as ws:
            assert (await ws.closed_with())[0] == 4406


def test_a_subscription_sent_over_http_is_refused(sub_url: str, api_keys: dict[Role, str]) -> None:
    with GraphQLClient.connect(sub_url, api_keys[Role.ADMIN]) as http:
        response = http.response(AUDIT_EVENTS)
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_REQUEST"]


@pytest.mark.asyncio
async def test_revoking_a_key_closes_its_open_connections(
    demo_loaded: str, app_database_url: str
) -> None:
    label = "revoked-while-subscribed"
    token = await asyncio.to_thread(create_api_key, demo_loaded, Role.ADVISOR, None, label)
    with subscription_server(app_database_url, ws_key_recheck_seconds=0.5) as url:
        async with WsClient.connect(url, token) as ws:
            await ws.subscribe("1", AUDIT_EVENTS)
            await ws.nothing_for(1.0)  # still checked and still live
            await asyncio.to_thread(revoke_api_key, demo_loaded, token)
            assert (await ws.closed_with())[0] == 4403
