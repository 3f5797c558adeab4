"""Engine and session factories. URLs arrive in libpq form and are adapted for asyncpg."""

import json
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from graphql_api.config import Settings

SessionMaker = async_sessionmaker[AsyncSession]
# A local or same-region PostgreSQL answers a new connection in milliseconds.
CONNECT_TIMEOUT_SECONDS = 5.0


def to_async_url(database_url: str) -> URL:
    """Accept `postgresql://` / `postgres://` (libpq style) and select the asyncpg driver."""
    url = make_url(database_url.replace("postgres://", "postgresql://", 1))
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got {url.get_backend_name()!r}")
    query = dict(url.query)
    # libpq's sslmode means the same as asyncpg's ssl parameter.
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    return url.set(drivername="postgresql+asyncpg", query=query)


def _json_default(value: object) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def create_engine(settings: Settings, database_url: str, **overrides: Any) -> AsyncEngine:
    options: dict[str, Any] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
        # No pre-ping (a round trip per checkout, the largest fixed cost of a compiled read):
        # a connection that died is invalidated with the whole pool on its first error, and
        # that request gets a typed 503 (graphql_api/unavailable.py).
        "pool_pre_ping": False,
        "pool_recycle": 1800,
        # JSON numbers become Decimal, never float: allocation weights must stay exact.
        "json_deserializer": partial(json.loads, parse_float=Decimal),
        "json_serializer": partial(json.dumps, default=_json_default),
        "connect_args": {
            # Opening a connection to a server that is not accepting (shutting down, SYN
            # dropped) otherwise waits asyncpg's 60 s; the caller then gets 503 instead.
            "timeout": CONNECT_TIMEOUT_SECONDS,
            "server_settings": {
                "application_name": "finance-graphql",
                "jit": "off",
                "statement_timeout": str(settings.db_statement_timeout_ms),
            },
        },
    }
    options.update(overrides)
    return create_async_engine(to_async_url(database_url), **options)


def create_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, expire_on_commit=False)
