"""A real server for the subscription tests: the app in a uvicorn thread with the WebSocket
options `finance-api serve` uses, and small limits so the tests can reach them."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from graphql_api.config import Settings
from graphql_api.runtime.app import create_app
from graphql_api.runtime.serve import websocket_options
from tests.http_server import serve_in_thread

TEST_LIMITS: dict[str, Any] = {
    "subscriptions_per_key": 5,
    "subscription_queue_size": 32,
    "ws_connection_init_timeout_seconds": 1.0,
    "ws_idle_timeout_seconds": 2.0,
    "subscription_replay_limit": 20,
    "ws_max_message_bytes": 4096,
    "api_key_cache_seconds": 0.0,
}


@contextmanager
def subscription_server(database_url: str, **overrides: Any) -> Iterator[str]:
    with subscription_app_server(database_url, **overrides) as (url, _):
        yield url


@contextmanager
def subscription_app_server(database_url: str, **overrides: Any) -> Iterator[tuple[str, Any]]:
    """The base URL and the app (whose `state.audit_hub` a test may inspect: the server runs
    in a thread of the test process)."""
    settings = Settings(database_url=database_url, **{**TEST_LIMITS, **overrides})
    app = create_app(settings)
    with serve_in_thread(app, **websocket_options(settings)) as url:
        yield url, app
