"""Fixtures of the fault suite: its own demo database on the session's server (cases that do
not touch PostgreSQL itself) and a log directory per case."""

from collections.abc import Iterator

import pytest

from tests.fault.stack import DemoDatabase, demo_database


@pytest.fixture(scope="session")
def fault_database(postgres_server_url: str) -> Iterator[DemoDatabase]:
    """Demo data in a database of its own: faults never write into the session's database."""
    with demo_database(postgres_server_url) as database:
        yield database
