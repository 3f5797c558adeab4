"""A fault scenario's own database (demo data, an ADMIN key) on a given PostgreSQL server."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from graphql_api.models import Role
from graphql_api.seeding.demo import load_demo
from tests.api_keys import create_api_key
from tests.db import ProvisionedDatabase, provisioned_database


@dataclass(frozen=True)
class DemoDatabase:
    database: ProvisionedDatabase
    admin_token: str

    @property
    def url(self) -> str:
        """As the server's own role: for checks straight in the database."""
        return self.database.url

    @property
    def app_url(self) -> str:
        """As the least-privileged app role: what the API connects as."""
        return self.database.app_url

    @property
    def name(self) -> str:
        return self.database.name


@contextmanager
def demo_database(server_url: str) -> Iterator[DemoDatabase]:
    with provisioned_database(server_url) as database:
        asyncio.run(load_demo(database.url))
        yield DemoDatabase(database, create_api_key(database.url, Role.ADMIN, label="fault"))
