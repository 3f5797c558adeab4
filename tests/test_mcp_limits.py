"""/mcp's HTTP limits: the body size bound (checked before parsing) and the per-key rate limit
it shares with /graphql."""

from collections.abc import Iterator

import httpx
import pytest

from graphql_api.config import Settings
from graphql_api.models import Role
from graphql_api.runtime.app import create_app
from tests.http_server import serve_in_thread

pytestmark = pytest.mark.integration

BURST = 3
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


@pytest.fixture(scope="module")
def limited_url(app_database_url: str) -> Iterator[str]:
    settings = Settings(
        database_url=app_database_url,
        rate_limit_per_second=0.01,
        rate_limit_burst=BURST,
        mcp_max_request_body_bytes=10_000,
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


def _post(url: str, token: str, body: object) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    return httpx.post(f"{url}/mcp", json=body, headers=headers)


def test_oversized_body_is_refused_before_parsing(
    limited_url: str, api_keys: dict[Role, str]
) -> None:
    arguments = {"query": "x" * 20_000}
    body = {
        **LIST_TOOLS,
        "method": "tools/call",
        "params": {"name": "graphql_query", "arguments": arguments},
    }
    assert _post(limited_url, api_keys[Role.ADVISOR], body).status_code == 413


def test_rate_limit_counts_mcp_requests_per_key(
    limited_url: str, api_keys: dict[Role, str]
) -> None:
    token = api_keys[Role.ADMIN]
    statuses = [_post(limited_url, token, LIST_TOOLS).status_code for _ in range(BURST + 1)]
    assert statuses[-1] == 429
    assert 429 not in statuses[:-1]
    # Another key has its own bucket.
    assert _post(limited_url, api_keys[Role.AGENT], LIST_TOOLS).status_code != 429


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_only_post_is_served_so_no_stream_stays_open(
    api_url: str, api_keys: dict[Role, str], method: str
) -> None:
    """Regression: a GET opened the SDK's standalone SSE stream, which a stateless server
    never writes to, and held it open with no deadline (one socket and task per GET)."""
    headers = {
        "Authorization": f"Bearer {api_keys[Role.AGENT]}",
        "Accept": "text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    response = httpx.request(method, f"{api_url}/mcp", headers=headers, timeout=5)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
