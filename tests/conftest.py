"""Shared fixtures: one real PostgreSQL database per test session (see tests/db.py)."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from graphql_api.app import create_app
from graphql_api.config import Settings
from graphql_api.seeding.demo import load_demo
from tests.db import fresh_database, server_url
from tests.http_server import serve_in_thread


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    with server_url() as url:
        yield url


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A migrated, empty database (libpq URL) that lives for the whole test session."""
    with fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="session")
def demo_loaded(database_url: str) -> str:
    """The shared database with the demo data in data/ loaded (once per session). Fixtures
    that add other data to `database_url` must depend on this one, or the demo (which only
    loads into an empty database) would be skipped."""
    loaded = asyncio.run(load_demo(database_url))
    assert loaded, "the shared test database had members before the demo data was loaded"
    return database_url


@pytest.fixture(scope="session")
def api_url(demo_loaded: str) -> Iterator[str]:
    """Base URL of the real API served over HTTP on loopback, backed by the demo data."""
    settings = Settings(database_url=demo_loaded, expose_query_stats=True)
    with serve_in_thread(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="session")
def gql(api_url: str) -> Iterator["GraphQLClient"]:
    with httpx.Client(base_url=api_url, timeout=30) as client:
        yield GraphQLClient(client)


@pytest.fixture(scope="session")
def pristine_gql(postgres_server_url: str) -> Iterator["GraphQLClient"]:
    """A read-only view of exactly the demo data: its own database and server, which no
    mutation test writes to, so read tests can compare with data/demo.json exactly."""
    with fresh_database(postgres_server_url) as url:
        asyncio.run(load_demo(url))
        settings = Settings(database_url=url, expose_query_stats=True)
        with (
            serve_in_thread(create_app(settings)) as base_url,
            httpx.Client(base_url=base_url, timeout=30) as client,
        ):
            yield GraphQLClient(client)


class GraphQLClient:
    """Posts GraphQL documents; `ok` asserts there were no errors (GraphQL errors are 200s)."""

    def __init__(self, client: httpx.Client) -> None:
        self.http = client

    def post(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, **kwargs
        )
        assert response.status_code == 200, response.text
        return response.json()

    def ok(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = self.post(query, variables)
        assert body.get("errors") is None, body["errors"]
        return body["data"]

    def error_codes(self, query: str, variables: dict[str, Any] | None = None) -> list[str]:
        body = self.post(query, variables)
        return [e.get("extensions", {}).get("code", "") for e in body.get("errors") or []]
