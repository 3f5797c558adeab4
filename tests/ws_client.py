"""A small graphql-transport-ws client over a real WebSocket, for the subscription tests
and the realtime benchmark's shape (the benchmark has its own lean loop)."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")

APPLY_FOR_LOAN = (
    "mutation ($member: String!) { applyForLoan(input: {memberNumber: $member,"
    ' amount: "5000.00", income: "90000.00", employmentYears: 6}) {'
    " loanApplication { id } userErrors { code } } }"
)
AUDIT_EVENTS = (
    "subscription ($filter: AuditEventFilter, $after: ID) {"
    " auditEvents(filter: $filter, after: $after) {"
    " id action entityType entityId actor requestId payload createdAt"
    " member { memberNumber email } } }"
)
MEMBER_UPDATED = (
    "subscription ($number: String!) { memberUpdated(memberNumber: $number) {"
    " memberNumber email loanApplications(first: 1) { totalCount } } }"
)


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/graphql"


class WsClient:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.ack: dict[str, Any] | None = None

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, base_url: str, token: str | None = None, **options: Any
    ) -> AsyncIterator["WsClient"]:
        """Connected; with `token`, `connection_init` sent and acknowledged."""
        async with websockets.connect(
            ws_url(base_url), subprotocols=[PROTOCOL], **options
        ) as connection:
            client = cls(connection)
            if token is not None:
                await client.init({"Authorization": f"Bearer {token}"})
            yield client

    async def init(self, payload: dict[str, Any]) -> None:
        await self.send({"type": "connection_init", "payload": payload})
        message = await self.recv()
        assert message["type"] == "connection_ack", message
        self.ack = message.get("payload")

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def recv(self, wait: float = 10) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), wait)
        assert isinstance(raw, str), "graphql-transport-ws messages are text frames"
        message: dict[str, Any] = json.loads(raw)
        return message

    async def subscribe(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": op_id, "type": "subscribe", "payload": payload})

    async def next_message(self, op_id: str, wait: float = 10) -> dict[str, Any]:
        """The next message for `op_id` (pings answered, other operations' messages skipped)."""
        while True:
            message = await self.recv(wait)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
            elif message.get("id") == op_id:
                return message

    async def next_data(self, op_id: str, wait: float = 10) -> dict[str, Any]:
        message = await self.next_message(op_id, wait)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def nothing_for(self, seconds: float) -> None:
        """Nothing at all arrives within `seconds`."""
        try:
            message = await asyncio.wait_for(self.connection.recv(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {message!r}")

    async def closed_with(self, wait: float = 10) -> tuple[int | None, str]:
        """The close code and reason, once the server closes."""
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), wait)
        except websockets.ConnectionClosed as closed:
            received = closed.rcvd
            return (received.code, received.reason) if received else (None, "")


def error_codes(message: dict[str, Any]) -> list[str]:
    """The `extensions.code` of an `error` message or of a `next` carrying errors."""
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [error.get("extensions", {}).get("code", "") for error in errors]
