"""`connection_init` checks the key through the worker's verified-key cache, the same one
HTTP's auth middleware fills; a key that cannot be checked (pool exhausted) closes with 1013."""

import asyncio
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from graphql_api.config import Settings
from graphql_api.db import create_engine
from graphql_api.models import Role
from tests.api_keys import create_api_key, revoke_api_key
from tests.graphql_client import GraphQLClient
from tests.subscription_server import subscription_server
from tests.ws_client import WsClient

POOL_TIMEOUT_SECONDS = 0.3


@pytest.fixture(scope="module")
def cached_url(demo_loaded: str, app_database_url: str) -> Iterator[str]:
    """A key cache long enough to outlive a test, and a one-connection pool."""
    with subscription_server(
        app_database_url,
        api_key_cache_seconds=60.0,
        db_pool_size=1,
        db_pool_timeout_seconds=POOL_TIMEOUT_SECONDS,
    ) as url:
        yield url


@pytest.mark.asyncio
async def test_connection_init_uses_the_verified_key_cache(
    cached_url: str, demo_loaded: str
) -> None:
    """Revoked after a first connection: a second one within the cache's TTL is accepted
    without a lookup, as HTTP would (the TTL bounds how long a revocation takes)."""
    key = await asyncio.to_thread(create_api_key, demo_loaded, Role.ADVISOR, None, "ws-cache")
    async with WsClient.connect(cached_url, key):
        pass
    await asyncio.to_thread(revoke_api_key, demo_loaded, key)
    async with WsClient.connect(cached_url, key) as ws:
        assert ws.ack is not None


@pytest.mark.asyncio
async def test_the_cache_is_shared_with_http(cached_url: str, demo_loaded: str) -> None:
    key = await asyncio.to_thread(
        create_api_key, demo_loaded, Role.ADVISOR, None, "ws-shared-cache"
    )
    await asyncio.to_thread(_read_over_http, cached_url, key)
    await asyncio.to_thread(revoke_api_key, demo_loaded, key)
    async with WsClient.connect(cached_url, key) as ws:
        assert ws.ack is not None


@pytest.mark.asyncio
async def test_an_exhausted_pool_closes_connection_init_with_1013(
    cached_url: str, demo_loaded: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The first connection's lookup waits on a lock holding the only pooled connection; the
    second cannot get one within the pool timeout."""
    first_key, second_key = [
        await asyncio.to_thread(create_api_key, demo_loaded, Role.ADVISOR, None, f"ws-pool-{n}")
        for n in (1, 2)
    ]
    engine = create_engine(Settings(), demo_loaded, pool_size=1, max_overflow=0)
    try:
        with caplog.at_level(logging.WARNING):
            async with engine.connect() as locker:
                await locker.execute(text("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE"))
                async with (
                    WsClient.connect(cached_url) as waiting,
                    WsClient.connect(cached_url) as refused,
                ):
                    await waiting.send(_init(first_key))
                    await asyncio.sleep(0.2)
                    await refused.send(_init(second_key))
                    code, reason = await refused.closed_with(wait=POOL_TIMEOUT_SECONDS + 5)
                    await locker.rollback()
                    assert (await waiting.recv())["type"] == "connection_ack"
    finally:
        await engine.dispose()
    assert (code, reason) == (1013, "Try again later")
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def _read_over_http(base_url: str, key: str) -> None:
    with GraphQLClient.connect(base_url, key) as http:
        http.ok("{ members(first: 1) { totalCount } }")


def _init(key: str) -> dict[str, object]:
    return {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
