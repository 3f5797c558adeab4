"""graphql-transport-ws at /graphql: authentication in `connection_init`, subscriptions only.

- The API key goes in the `connection_init` payload (`{"Authorization": "Bearer fgk_..."}`
  or `{"apiKey": "fgk_..."}`); a missing, wrong or revoked key closes with 4403. The ack
  payload names the worker process (`pid`).
- The key is looked up through the worker's verified-key cache, shared with HTTP's auth
  middleware (`app.state.verified_keys`): a reconnect storm of known keys needs no pooled
  connections. A key that cannot be checked (no pooled connection in time, database down)
  closes with 1013 "Try again later".
- Only `subscription` operations, exactly one per `subscribe` (realtime/admission.py): a
  query or mutation gets an `error` message with code OPERATION_NOT_ALLOWED (they must use
  HTTP POST, where the guard, deadline, rate limit and caches apply). The depth, alias and
  token limits (schema extensions) apply as over HTTP; the cost limit is checked there,
  before the subscription starts (its extension only stops queries and mutations).
- More than `subscriptions_per_key` operations on one connection: TOO_MANY_SUBSCRIPTIONS,
  like the per-key cap across connections.
- Each operation gets its own context (realtime/context.py) and the hub registrations it made
  are removed when it ends, however it ends.
- A message that is not a JSON object of the protocol's shape (admission.py) closes with
  4400; strawberry closes with 4401 (subscribe before ack), 4408 (no `connection_init` in
  time), 4409 (duplicate id), 4429 (second `connection_init`); uvicorn with 1009 (oversized
  message).
- A connection without any subscription for `ws_idle_timeout_seconds` is closed with 4000;
  one whose key was revoked, with 4403 within `ws_key_recheck_seconds` (plus the key
  cache's TTL).
"""

import asyncio
import logging
import os
import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import suppress
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.types.graphql import OperationType as StrawberryOperationType
from strawberry.utils.aio import aclosing

from graphql_api.auth.service import Viewer, authenticate, hash_token, looks_like_token
from graphql_api.context import Context
from graphql_api.db_health import is_database_unavailable
from graphql_api.realtime.admission import refusal, well_formed
from graphql_api.realtime.context import SubscriptionContext
from graphql_api.request_db import RequestDatabase

IDLE_CLOSE_CODE = 4000
REVOKED_CLOSE_CODE = 4403
logger = logging.getLogger("graphql_api.realtime")
TRY_AGAIN_LATER_CLOSE_CODE = 1013  # RFC 6455 registry: "Try Again Later"


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Text frames: the router encodes JSON to bytes (orjson) for HTTP, and
    graphql-transport-ws clients expect text."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error


async def _viewer_from(context: Context) -> Viewer | None:
    """The key's viewer: from the worker's verified-key cache (shared with HTTP's auth
    middleware), else looked up on a pooled connection and remembered."""
    params = getattr(context, "connection_params", None) or {}
    token = _token(params)
    if token is None or not isinstance(context, SubscriptionContext) or context.engine is None:
        return None
    token_hash = hash_token(token)
    cache = context.key_cache
    if cache is not None and (viewer := cache.get(token_hash)) is not None:
        return viewer
    db = RequestDatabase(context.engine)
    try:
        async with db.session() as session:
            viewer = await authenticate(session, token)
    finally:
        await db.close()
    if cache is not None and viewer is not None:
        cache.put(token_hash, viewer)
    return viewer


def _token(params: Mapping[str, Any]) -> str | None:
    header = params.get("Authorization", params.get("authorization"))
    token: object = params.get("apiKey")
    if isinstance(header, str):
        scheme, _, value = header.partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    return token if isinstance(token, str) and looks_like_token(token) else None


class FinanceTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    context: SubscriptionContext

    async def handle(self) -> None:
        settings = self.context.settings
        self._idle_since: float | None = time.monotonic()
        watchdogs = [
            asyncio.create_task(self._close_when_idle(settings.ws_idle_timeout_seconds)),
            asyncio.create_task(self._close_when_key_revoked(settings.ws_key_recheck_seconds)),
        ]
        try:
            await super().handle()
        finally:
            for watchdog in watchdogs:
                watchdog.cancel()
                with suppress(asyncio.CancelledError):
                    await watchdog

    async def handle_connection_init(self, message: Any) -> None:
        """A key that cannot be checked (pool exhausted, database down) closes with 1013, so
        clients retry later (with backoff), instead of a logged traceback."""
        try:
            await super().handle_connection_init(message)
        except Exception as error:
            if not is_database_unavailable(error):
                raise
            logger.warning("connection_init: the API key could not be checked: %r", error)
            await self.websocket.close(TRY_AGAIN_LATER_CLOSE_CODE, "Try again later")

    async def handle_subscribe(self, message: Any) -> None:
        """The per-connection cap, typed like the per-key one; strawberry's own check (at the
        same number, router_options) comes later and would answer with no code."""
        limit = self.context.settings.subscriptions_per_key
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            error = GraphQLError(
                f"This connection already has {limit} subscriptions; complete one first.",
                extensions={"code": "TOO_MANY_SUBSCRIPTIONS"},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def handle_message(self, message: Message) -> None:
        if not well_formed(message):
            await self.handle_invalid_message("Invalid graphql-transport-ws message")
            return
        await super().handle_message(message)
        self._idle_since = None if self.operations else (self._idle_since or time.monotonic())

    def forget_id(self, id: str) -> None:
        super().forget_id(id)
        if not self.operations:
            self._idle_since = time.monotonic()

    async def cleanup_operation(self, operation_id: str) -> None:
        await super().cleanup_operation(operation_id)
        if not self.operations:
            self._idle_since = time.monotonic()

    async def _close_when_idle(self, idle_seconds: float) -> None:
        while True:
            idle_since = self._idle_since
            if self.operations or idle_since is None:
                await asyncio.sleep(idle_seconds)
                continue
            remaining = idle_since + idle_seconds - time.monotonic()
            if remaining <= 0:
                await self.websocket.close(IDLE_CLOSE_CODE, "Idle timeout: no subscription")
                return
            await asyncio.sleep(remaining)

    async def _close_when_key_revoked(self, interval_seconds: float) -> None:
        """The key is checked again every interval: a revoked key's connection is closed
        (4403) within that time, as the HTTP key cache forgets a revoked key."""
        while True:
            await asyncio.sleep(interval_seconds)
            if not self.connection_acknowledged:
                continue
            try:
                viewer = await _viewer_from(self.context)
            except Exception:  # the database is unreachable: keep serving, check again later
                logger.warning("could not re-check a WebSocket connection's API key")
                continue
            if viewer is None:
                await self.websocket.close(REVOKED_CLOSE_CODE, "API key revoked")
                return

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """strawberry's, with a context per operation and subscriptions only."""
        context = self.context.for_operation()
        try:
            if (refused := self._refusal(operation)) is not None:
                await operation.send_initial_errors([refused])
                return
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
                allowed_operation_types=(StrawberryOperationType.SUBSCRIPTION,),
            )
            events = _statements_per_event(result_source)
            async with aclosing(result_source), aclosing(events):
                await self._send_result_stream(operation, events)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return  # strawberry closed the connection (a document that does not parse)
        except Exception as error:
            await self.handle_task_exception(error)  # logged; the client is told it ended
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
        finally:
            context.release_subscriptions()
            await context.db.close()

    def _refusal(self, operation: Operation[Context, None]) -> GraphQLError | None:
        return refusal(
            self.schema._schema,  # type: ignore[attr-defined]
            self.context.settings,
            operation.query,
            operation.operation_name,
            operation.variables,
        )


async def _statements_per_event(source: Any) -> AsyncGenerator[Any, None]:
    """`extensions.sqlStatements` of each event is its own count: the statement counter
    (QueryStats) spans the whole operation, so each result carries a running total."""
    counted = 0
    async for result in source:
        extensions = getattr(result, "extensions", None)
        total = extensions.get("sqlStatements") if isinstance(extensions, dict) else None
        if isinstance(extensions, dict) and isinstance(total, int):
            extensions["sqlStatements"] = total - counted
            counted = total
        yield result


class SubscriptionTransport:
    """Mixed into the GraphQL router (runtime/app.py)."""

    # Any: strawberry's own annotations are generic over the view's type parameters.
    websocket_adapter_class: Any = TextWebSocketAdapter
    graphql_transport_ws_handler_class: Any = FinanceTransportWSHandler

    async def on_ws_connect(self, context: Context) -> dict[str, object]:
        viewer = await _viewer_from(context)
        if viewer is None:
            raise ConnectionRejectionError
        context.viewer = viewer
        return {"pid": os.getpid()}
