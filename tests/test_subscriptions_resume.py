"""Resuming with `after` replays exactly what was missed; a subscriber that stops reading is
cut off with SLOW_CONSUMER instead of being buffered for without bound, and without holding
up the other subscribers on its worker."""

import asyncio
import base64
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from graphql_api.audit.service import AUDIT_CHANNEL
from graphql_api.auth.policy import read_scope
from graphql_api.models import Role
from graphql_api.realtime.hub import Ending
from graphql_api.request_db import RequestEndedError
from tests.graphql_client import GraphQLClient
from tests.subscription_server import TEST_LIMITS, subscription_app_server
from tests.ws_client import APPLY_FOR_LOAN, AUDIT_EVENTS, WsClient, error_codes

RESUMED_MEMBER = "M-100003"
FLOOD_ACTION = "test.flood"


@pytest.fixture(scope="module")
def served(demo_loaded: str, app_database_url: str) -> Iterator[tuple[str, Any]]:
    with subscription_app_server(app_database_url) as url_and_app:
        yield url_and_app


@pytest.fixture(scope="module")
def sub_url(served: tuple[str, Any]) -> str:
    return served[0]


@pytest.fixture(scope="module")
def admin(sub_url: str, api_keys: dict[Role, str]) -> Iterator[GraphQLClient]:
    with GraphQLClient.connect(sub_url, api_keys[Role.ADMIN]) as client:
        yield client


def apply(admin: GraphQLClient, member: str = RESUMED_MEMBER) -> None:
    assert admin.ok(APPLY_FOR_LOAN, {"member": member})["applyForLoan"]["userErrors"] == []


def audit_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


@pytest.mark.asyncio
async def test_resuming_after_an_id_replays_exactly_what_was_missed(
    sub_url: str, api_keys: dict[Role, str], admin: GraphQLClient
) -> None:
    variables = {"filter": {"memberNumber": RESUMED_MEMBER, "action": "loan.applied"}}
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("1", AUDIT_EVENTS, variables)
        await asyncio.sleep(0.3)
        apply(admin)
        last_seen = (await ws.next_data("1"))["auditEvents"]["id"]
    for _ in range(3):  # while disconnected
        apply(admin)
    apply(admin, "M-100001")  # not matching the filter
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("2", AUDIT_EVENTS, {**variables, "after": last_seen})
        replayed = [(await ws.next_data("2"))["auditEvents"] for _ in range(3)]
        ids = [audit_id(event["id"]) for event in replayed]
        assert ids == sorted(ids)
        assert ids[0] > audit_id(last_seen)
        assert {event["member"]["memberNumber"] for event in replayed} == {RESUMED_MEMBER}
        apply(admin)  # live, after the backlog
        live = (await ws.next_data("2"))["auditEvents"]
        assert audit_id(live["id"]) > ids[-1]
        await ws.nothing_for(1.0)  # no repeat of anything


@pytest.mark.asyncio
async def test_too_many_missed_events_is_a_typed_error(
    sub_url: str, api_keys: dict[Role, str], admin: GraphQLClient
) -> None:
    for _ in range(TEST_LIMITS["subscription_replay_limit"] + 1):
        apply(admin, "M-100005")
    first = base64.b64encode(b"AuditLog:1").decode()
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("1", AUDIT_EVENTS, {"after": first})
        message = await ws.next_message("1")
        assert message["type"] == "error"
        assert error_codes(message) == ["REPLAY_TOO_LARGE"]
        member = base64.b64encode(b"Member:1").decode()
        await ws.subscribe("2", AUDIT_EVENTS, {"after": member})
        assert error_codes(await ws.next_message("2")) == ["BAD_USER_INPUT"]


async def flood(database_url: str, count: int, action: str = FLOOD_ACTION) -> None:
    """`count` audit rows of 4 kB committed at once, each announced as `record` does
    (large enough that a client that stops reading soon fills every buffer between)."""
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            ids = await connection.fetch(
                "INSERT INTO audit_logs (request_id, actor, action, entity_type, entity_id,"
                " payload) SELECT 'flood', 'test', $1, 'Test', g::text,"
                " jsonb_build_object('padding', repeat('x', 4000))"
                " FROM generate_series(1, $2) AS g RETURNING id",
                action,
                count,
            )
            for row in ids:
                payload = json.dumps({"id": row["id"], "member_id": None, "action": action})
                await connection.execute("SELECT pg_notify($1, $2)", AUDIT_CHANNEL, payload)
    finally:
        await connection.close()


@pytest.mark.asyncio
async def test_a_burst_larger_than_the_queue_reaches_a_subscriber_that_keeps_reading(
    sub_url: str, api_keys: dict[Role, str], database_url: str
) -> None:
    # The queue bound is the burst allowance: a burst that size, committed at once, reaches
    # a client that keeps reading (twice: the queue is free again after the first).
    events = TEST_LIMITS["subscription_queue_size"]
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN]) as ws:
        await ws.subscribe("1", AUDIT_EVENTS, {"filter": {"action": FLOOD_ACTION}})
        await asyncio.sleep(0.3)
        received = []
        for _ in range(2):
            await flood(database_url, events)
            received += [(await ws.next_data("1"))["auditEvents"]["id"] for _ in range(events)]
    assert len(set(received)) == 2 * events


def small_window_socket(base_url: str) -> socket.socket:
    """A client socket with a tiny receive buffer, so a client that stops reading soon
    stops the server's writes (TCP flow control), as a slow consumer would."""
    address = urlsplit(base_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((address.hostname, address.port))
    sock.setblocking(False)
    return sock


@pytest.mark.asyncio
async def test_a_subscriber_that_stops_reading_is_cut_off_as_slow_consumer(
    sub_url: str, api_keys: dict[Role, str], database_url: str
) -> None:
    events = 3000
    options = {"sock": small_window_socket(sub_url), "max_queue": 1}
    async with WsClient.connect(sub_url, api_keys[Role.ADMIN], **options) as ws:
        await ws.subscribe("1", AUDIT_EVENTS, {"filter": {"action": FLOOD_ACTION}})
        await asyncio.sleep(0.3)
        await flood(database_url, events)
        await asyncio.sleep(3)  # the client reads nothing meanwhile
        received = 0
        while True:
            message = await ws.next_message("1")
            if message["type"] != "next" or "errors" in message["payload"]:
                break
            received += 1
        assert error_codes(message) == ["SLOW_CONSUMER"]
        assert (await ws.next_message("1"))["type"] == "complete"
    # Far fewer than were announced were ever queued or buffered for it.
    print(f"slow consumer: {received} of {events} events reached it before SLOW_CONSUMER")
    assert received < events // 2


STALL_ACTION = "test.stall"
BARRIER_ACTION = "test.barrier"
QUEUE = TEST_LIMITS["subscription_queue_size"]


async def registered(hub: Any, subscribing: Any) -> Any:
    """The hub's subscription that `await subscribing` adds."""
    before = hub.subscriptions()
    await subscribing
    for _ in range(500):
        if added := hub.subscriptions() - before:
            (subscription,) = added
            return subscription
        await asyncio.sleep(0.01)
    raise AssertionError("the subscription was not registered")


async def fill_until_stuck(healthy: WsClient, stalled: Any, database_url: str) -> tuple[int, int]:
    """Events for both until the stalled client's pipeline (socket buffers, then its queue)
    no longer moves; never more than half its queue. (events sent, events left queued)"""
    sent = 0
    for _ in range(500):
        if (room := QUEUE // 2 - stalled.queue.qsize()) > 0:
            await flood(database_url, room, STALL_ACTION)
            sent += room
            for _ in range(room):  # delivered to the healthy one: dispatched to both
                await healthy.next_data("h")
        queued = stalled.queue.qsize()
        await flood(database_url, 1, BARRIER_ACTION)  # for the healthy one only
        await healthy.next_data("b")
        assert stalled.ended is None
        if queued > 0 and stalled.queue.qsize() == queued:
            return sent, queued
    raise AssertionError("the stalled client's pipeline never filled")


@pytest.mark.asyncio
async def test_a_stalled_subscriber_does_not_hold_up_a_healthy_one(
    served: tuple[str, Any], api_keys: dict[Role, str], database_url: str
) -> None:
    url, app = served
    hub, key = app.state.audit_hub, api_keys[Role.ADMIN]
    watch = {"filter": {"action": STALL_ACTION}}
    options = {"sock": small_window_socket(url), "max_queue": 1}
    async with (
        WsClient.connect(url, key, **options) as stalled_ws,
        WsClient.connect(url, key) as healthy,
    ):
        stalled = await registered(hub, stalled_ws.subscribe("s", AUDIT_EVENTS, watch))
        await registered(hub, healthy.subscribe("h", AUDIT_EVENTS, watch))
        await registered(
            hub, healthy.subscribe("b", AUDIT_EVENTS, {"filter": {"action": BARRIER_ACTION}})
        )
        sent, queued = await fill_until_stuck(healthy, stalled, database_url)
        # A burst as large as the queue: the healthy one's queue is empty and takes it all;
        # the stalled one's overflows at event number `overflowing`.
        overflowing = QUEUE - queued + 1
        await flood(database_url, QUEUE, STALL_ACTION)
        burst = []
        for number in range(1, QUEUE + 1):
            burst.append((await healthy.next_data("h"))["auditEvents"]["id"])
            if number == overflowing:
                # Ended by the very offer that did not fit, in the step that gave the
                # healthy one this event: the hub did not wait on the stalled queue (the
                # old grace period held this event's successors back for everyone).
                assert stalled.ended is Ending.SLOW_CONSUMER
        assert len(set(burst)) == QUEUE
        assert stalled.queue.empty()  # its undeliverable events were let go at once
        # The stalled client reads again only now: what was already on its way, then the end.
        received = 0
        while (message := await stalled_ws.next_message("s"))["type"] == "next":
            if "errors" in message["payload"]:
                break
            received += 1
        assert error_codes(message) == ["SLOW_CONSUMER"]
        assert (await stalled_ws.next_message("s"))["type"] == "complete"
    print(f"stalled: {received} of {sent} + {QUEUE} events reached it; {queued} were queued")
    assert received == sent - queued


@pytest.mark.asyncio
async def test_idle_contexts_hold_loaders_that_read_nothing(served: tuple[str, Any]) -> None:
    """What idle connections and subscriptions hold in place of loaders of their own (one
    per worker) has no viewer (no rows) and a closed database: it cannot read at all."""
    idle = served[1].state.idle_subscription_scope
    assert idle.loaders.scope == read_scope(None)
    with pytest.raises(RequestEndedError):
        async with idle.db.session():
            pass
