"""Create API keys straight through the service, for tests."""

import asyncio

from graphql_api.auth import service
from graphql_api.config import Settings
from graphql_api.db import create_engine, create_sessionmaker
from graphql_api.models import Role


async def _create(database_url: str, role: Role, member_number: str | None, label: str) -> str:
    engine = create_engine(Settings(), database_url, pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine).begin() as session:
            _, token = await service.create_key(
                session, role=role, member_number=member_number, label=label
            )
            return token
    finally:
        await engine.dispose()


def create_api_key(
    database_url: str, role: Role, member_number: str | None = None, label: str = "test"
) -> str:
    return asyncio.run(_create(database_url, role, member_number, label))


async def _revoke(database_url: str, key_token: str) -> None:
    engine = create_engine(Settings(), database_url, pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine).begin() as session:
            viewer = await service.authenticate(session, key_token)
            assert viewer is not None
            await service.revoke_key(session, viewer.key_id)
    finally:
        await engine.dispose()


def revoke_api_key(database_url: str, key_token: str) -> None:
    asyncio.run(_revoke(database_url, key_token))
