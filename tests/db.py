"""Test database provisioning: a fresh, migrated database per test run.

By default the suite starts the embedded PostgreSQL in a temporary directory; with
TEST_DATABASE_URL set it uses that server instead. Either way it creates its own database
and, for it, its own owner and app roles (graphql_api/runtime/db_roles.py) named after it, so runs
sharing a server never share roles (the server role needs CREATEDB and CREATEROLE, e.g. a
superuser). The owner runs the migrations; everything is dropped at the end, leaving the
server as it found it.
"""

import asyncio
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from graphql_api.runtime import db_roles
from graphql_api.runtime.embedded import EmbeddedPostgres


def _with_database(
    url: str, database: str, *, user: str | None = None, password: str | None = None
) -> str:
    parsed = make_url(url.replace("postgres://", "postgresql://", 1)).set(database=database)
    if user is not None:
        parsed = parsed.set(username=user, password=password)
    return parsed.render_as_string(hide_password=False)


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


@dataclass(frozen=True)
class ProvisionedDatabase:
    name: str
    url: str  # as the server's own (admin) role: what the `database_url` fixture is
    owner_url: str  # as the owner role, which ran the migrations and owns every object
    app_url: str  # as the least-privileged app role the API connects as
    owner_role: str
    app_role: str


async def _create(base_url: str, database: ProvisionedDatabase, password: str) -> None:
    admin = await asyncpg.connect(_with_database(base_url, "postgres"))
    try:
        # Passwords too: the embedded server trusts its socket, another server may not.
        await db_roles.ensure_login_role(admin, database.owner_role, password=password)
        await db_roles.ensure_login_role(admin, database.app_role, password=password)
        await db_roles.ensure_database(admin, database.name, database.owner_role)
    finally:
        await admin.close()
    in_database = await asyncpg.connect(database.url)
    try:
        await db_roles.secure_schema(in_database, database.owner_role)
    finally:
        await in_database.close()


async def _drop(base_url: str, database: ProvisionedDatabase) -> None:
    admin = await asyncpg.connect(_with_database(base_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
        # Their grants and default privileges lived in that database only.
        await admin.execute(f'DROP ROLE IF EXISTS "{database.app_role}"')
        await admin.execute(f'DROP ROLE IF EXISTS "{database.owner_role}"')
    finally:
        await admin.close()


@contextmanager
def provisioned_database(base_url: str) -> Iterator[ProvisionedDatabase]:
    """A uniquely named database with its own owner and app roles on the server of
    `base_url`, migrated as the owner with the app's grants applied; dropped after."""
    name = f"finance_test_{secrets.token_hex(4)}"
    owner, app, password = f"{name}_owner", f"{name}_app", secrets.token_hex(16)
    database = ProvisionedDatabase(
        name=name,
        url=_with_database(base_url, name),
        owner_url=_with_database(base_url, name, user=owner, password=password),
        app_url=_with_database(base_url, name, user=app, password=password),
        owner_role=owner,
        app_role=app,
    )
    try:
        asyncio.run(_create(base_url, database, password))
        db_roles.upgrade_and_grant(database.owner_url, app)
        yield database
    finally:
        asyncio.run(_drop(base_url, database))


@contextmanager
def fresh_database(base_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server of `base_url`, migrate it, drop it
    after; yields its URL as the server's own role (see `provisioned_database`)."""
    with provisioned_database(base_url) as database:
        yield database.url
