"""Shared fixtures: one real PostgreSQL database per test session (see tests/db.py)."""

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from graphql_api.config import Settings
from graphql_api.models import Role
from graphql_api.runtime.app import create_app
from graphql_api.seeding.demo import load_demo
from tests.api_keys import create_api_key
from tests.db import ProvisionedDatabase, provisioned_database, server_url
from tests.graphql_client import GraphQLClient
from tests.http_server import serve_in_thread

# Fixtures that reach PostgreSQL or a served API; `item.fixturenames` is the closure, so a
# test file's own fixture that depends on one of these counts too.
INTEGRATION_FIXTURES = frozenset(
    {"postgres_server_url", "provisioned_db", "database_url", "app_database_url", "demo_loaded"}
    | {"api_url", "api_keys", "gql", "gql_as", "pristine_gql"}
)
# Kinds of test that run real servers or processes of their own: integration tests too.
INTEGRATION_KINDS = frozenset({"fault", "fuzz", "browser", "lifecycle"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test `unit` or `integration` (pyproject.toml), unless it says which itself."""
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        if "lifecycle" in marks:
            item.add_marker(pytest.mark.own_postgres)  # lifecycle tests always bring their own
        if marks & {"unit", "integration"}:
            continue
        uses_servers = not INTEGRATION_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
        integration = uses_servers or bool(marks & INTEGRATION_KINDS)
        item.add_marker(pytest.mark.integration if integration else pytest.mark.unit)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    with server_url() as url:
        yield url


@pytest.fixture(scope="session")
def provisioned_db(postgres_server_url: str) -> Iterator[ProvisionedDatabase]:
    """The session's database with its owner and app roles (tests/db.py)."""
    with provisioned_database(postgres_server_url) as database:
        yield database


@pytest.fixture(scope="session")
def database_url(provisioned_db: ProvisionedDatabase) -> str:
    """A migrated, empty database (libpq URL) that lives for the whole test session, as the
    server's own role (the API itself connects as the app role: `app_database_url`)."""
    return provisioned_db.url


@pytest.fixture(scope="session")
def app_database_url(provisioned_db: ProvisionedDatabase) -> str:
    """The same database as the least-privileged app role (graphql_api/runtime/db_roles.py)."""
    return provisioned_db.app_url


@pytest.fixture(scope="session")
def demo_loaded(database_url: str) -> str:
    """The shared database with the demo data in data/ loaded (once per session). Fixtures
    that add other data to `database_url` must depend on this one, or the demo (which only
    loads into an empty database) would be skipped."""
    loaded = asyncio.run(load_demo(database_url))
    assert loaded, "the shared test database had members before the demo data was loaded"
    return database_url


API_KEY_CACHE_SECONDS = 1.0


@pytest.fixture(scope="session")
def api_url(demo_loaded: str, app_database_url: str) -> Iterator[str]:
    """Base URL of the real API served over HTTP on loopback, backed by the demo data and
    connected as the app role, as `finance-api serve` is. Live keys are cached for
    API_KEY_CACHE_SECONDS (less than the default, so revocation tests wait less)."""
    settings = Settings(
        database_url=app_database_url,
        expose_query_stats=True,
        api_key_cache_seconds=API_KEY_CACHE_SECONDS,
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


MEMBER_KEY_OWNER = "M-100010"


@pytest.fixture(scope="session")
def api_keys(demo_loaded: str) -> dict[Role, str]:
    """One key per role on the shared database; the MEMBER key belongs to M-100010."""
    return {
        role: create_api_key(
            demo_loaded, role, MEMBER_KEY_OWNER if role is Role.MEMBER else None, f"test-{role}"
        )
        for role in Role
    }


@pytest.fixture(scope="session")
def gql(api_url: str, api_keys: dict[Role, str]) -> Iterator[GraphQLClient]:
    """The API as an ADMIN (the role that may do everything)."""
    with GraphQLClient.connect(api_url, api_keys[Role.ADMIN]) as client:
        yield client


@pytest.fixture(scope="session")
def gql_as(api_url: str, api_keys: dict[Role, str]) -> Iterator[dict[Role, GraphQLClient]]:
    """A client per role."""
    with ExitStack() as stack:
        yield {
            role: stack.enter_context(GraphQLClient.connect(api_url, token))
            for role, token in api_keys.items()
        }


@pytest.fixture(scope="session")
def pristine_gql(postgres_server_url: str) -> Iterator[GraphQLClient]:
    """A read-only view of exactly the demo data: its own database and server, which no
    mutation test writes to, so read tests can compare with data/demo.json exactly."""
    with provisioned_database(postgres_server_url) as database:
        url = database.url
        asyncio.run(load_demo(url))
        settings = Settings(database_url=database.app_url, expose_query_stats=True)
        token = create_api_key(url, Role.ADMIN)
        with (
            serve_in_thread(create_app(settings)) as base_url,
            GraphQLClient.connect(base_url, token) as client,
        ):
            yield client
