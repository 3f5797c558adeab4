"""Test database provisioning: a fresh, migrated database per test run.

By default the suite starts the embedded PostgreSQL in a temporary directory; with
TEST_DATABASE_URL set it uses that server instead. Either way it creates its own database
(so the role needs CREATEDB) and drops it at the end, leaving the server as it found it.
"""

import asyncio
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from graphql_api import migrate
from graphql_api.embedded import EmbeddedPostgres


def _with_database(url: str, database: str) -> str:
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(database=database).render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def server_url() -> Iterator[str]:
    """A URL for a PostgreSQL server: TEST_DATABASE_URL, or a throwaway embedded server."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="finance-api-test-") as tmp:
        server = EmbeddedPostgres(Path(tmp), cleanup="delete")
        try:
            yield server.url("postgres")
        finally:
            server.stop()


@contextmanager
def fresh_database(base_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server of `base_url`, migrate it, drop it after."""
    name = f"finance_test_{secrets.token_hex(4)}"
    asyncio.run(_admin(base_url, f'CREATE DATABASE "{name}"'))
    url = _with_database(base_url, name)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
