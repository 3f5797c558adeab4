"""Starting and stopping a worker's realtime machinery, and its router settings."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from graphql_api.config import Settings
from graphql_api.observability import request_id_from
from graphql_api.realtime.context import IdleScope, SubscriptionContext, connection_context
from graphql_api.realtime.hub import AuditHub
from graphql_api.realtime.listener import AuditListener, asyncpg_dsn


@asynccontextmanager
async def realtime(state: Any, settings: Settings, engine: AsyncEngine) -> AsyncIterator[None]:
    """The worker's hub and LISTEN connection, in `state.audit_hub`, for the app's life."""
    if not settings.subscriptions_enabled:
        state.audit_hub = None
        yield
        return
    hub = AuditHub(
        engine,
        queue_size=settings.subscription_queue_size,
        per_key_limit=settings.subscriptions_per_key,
    )
    listener = AuditListener(asyncpg_dsn(engine.url), hub)
    state.audit_hub = hub
    state.audit_listener = listener
    state.idle_subscription_scope = await IdleScope.create(engine)
    hub.start()
    listener.start()
    try:
        yield
    finally:
        await listener.stop()
        await hub.stop()


def router_options(settings: Settings) -> dict[str, Any]:
    """GraphQLRouter keyword arguments: graphql-transport-ws only (not the legacy
    graphql-ws), or no WebSocket protocol at all when subscriptions are off."""
    if not settings.subscriptions_enabled:
        return {"subscription_protocols": ()}
    return {
        "subscription_protocols": (GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        "connection_init_wait_timeout": timedelta(
            seconds=settings.ws_connection_init_timeout_seconds
        ),
        # A backstop only: the handler's own check at the same number answers first, with the
        # typed TOO_MANY_SUBSCRIPTIONS (strawberry's error has no code).
        "max_subscriptions_per_connection": settings.subscriptions_per_key,
    }


def websocket_context(connection: HTTPConnection, settings: Settings) -> SubscriptionContext:
    request_id = request_id_from(connection.headers.get("x-request-id"))
    return connection_context(connection.app.state, settings, request_id)
