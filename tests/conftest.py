"""Shared fixtures: one real PostgreSQL database per test session (see tests/db.py)."""

from collections.abc import Iterator

import pytest

from tests.db import fresh_database, server_url


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    with server_url() as url:
        yield url


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A migrated, empty database (libpq URL) that lives for the whole test session."""
    with fresh_database(postgres_server_url) as url:
        yield url
