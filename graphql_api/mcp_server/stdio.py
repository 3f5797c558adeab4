"""MCP over stdio (`finance-api mcp`): one client, one API key from the environment.

The key is checked like the HTTP one: looked up when the server starts (an unknown or revoked
key stops it with a message on stderr), and again whenever the last check is older than
`api_key_cache_seconds`, so a revocation takes effect within that time here too. stdout
carries the protocol only; logs go to stderr.
"""

import logging
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.stdio import stdio_server

from graphql_api.auth.key_cache import VerifiedKeyCache
from graphql_api.auth.service import Viewer, authenticate, hash_token
from graphql_api.config import Settings
from graphql_api.db import create_engine, create_sessionmaker
from graphql_api.mcp_server.execute import Caller, Services, new_request_id
from graphql_api.mcp_server.server import build_server
from graphql_api.predictions.sentiment import load_model
from graphql_api.request_db import RequestDatabase
from graphql_api.upstream import PensionClient

API_KEY_ENV = "FINANCE_API_KEY"
logger = logging.getLogger("graphql_api.mcp")


class InvalidApiKeyError(RuntimeError):
    """The key in FINANCE_API_KEY is unknown, malformed or revoked."""


class EnvironmentKey:
    """The one key this process acts with, re-verified once its cache entry expires."""

    def __init__(self, token: str, services: Services) -> None:
        self._token = token
        self._hash = hash_token(token)
        self._services = services
        self._cache = VerifiedKeyCache(services.settings.api_key_cache_seconds)

    async def viewer(self) -> Viewer | None:
        viewer = self._cache.get(self._hash)
        if viewer is not None:
            return viewer
        db = RequestDatabase(self._services.engine)
        try:
            async with db.session() as session:
                viewer = await authenticate(session, self._token)
        finally:
            await db.close()
        if viewer is not None:
            self._cache.put(self._hash, viewer)
        return viewer


async def serve_stdio(settings: Settings, database_url: str, token: str) -> None:
    engine = create_engine(settings, database_url)
    pension_client = _pension_client(settings)
    services = Services(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        sentiment_model=load_model(settings.sentiment_model),
        pension_client=pension_client,
    )
    key = EnvironmentKey(token, services)
    try:
        viewer = await key.viewer()
        if viewer is None:
            raise InvalidApiKeyError(f"{API_KEY_ENV} is not a valid (live) API key")
        logger.info("MCP over stdio as %s (%s)", viewer.actor, viewer.role.value)

        async def caller_of(ctx: ServerRequestContext[Any, Any]) -> Caller | None:
            current = await key.viewer()
            return Caller(current, services, new_request_id()) if current else None

        server = build_server(caller_of)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    finally:
        if pension_client is not None:
            await pension_client.aclose()
        await engine.dispose()


def _pension_client(settings: Settings) -> PensionClient | None:
    if not settings.pension_api_base_url:
        return None
    return PensionClient(settings.pension_api_base_url, settings.pension_api_key.get_secret_value())
