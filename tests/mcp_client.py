"""The MCP SDK's own client against our server: over streamable HTTP (a real server on
loopback) or over stdio (`finance-api mcp` as a subprocess)."""

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

T = TypeVar("T")


@asynccontextmanager
async def http_session(
    api_url: str, token: str | None, mode: str = "auto"
) -> AsyncIterator[Client]:
    """`mode`: "auto" negotiates the newest protocol (2026-07-28, no handshake); "legacy"
    forces the initialize handshake older clients use."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        transport = streamable_http_client(f"{api_url}/mcp", http_client=http)
        async with Client(transport, mode=mode) as client:
            yield client


def stdio_parameters(database_url: str, token: str, **settings: str) -> StdioServerParameters:
    """`finance-api mcp` on `database_url` as `token`; `settings` are extra environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINANCE_API_", "TEST_"))}
    env |= {"DATABASE_URL": database_url, "FINANCE_API_KEY": token, **settings}
    return StdioServerParameters(
        command=sys.executable, args=["-m", "graphql_api.runtime.cli", "mcp"], env=env
    )


@asynccontextmanager
async def stdio_session(database_url: str, token: str, **settings: str) -> AsyncIterator[Client]:
    parameters = stdio_parameters(database_url, token, **settings)
    async with Client(parameters, read_timeout_seconds=60) as client:
        yield client


def with_http(api_url: str, token: str, work: Callable[[Client], Awaitable[T]]) -> T:
    """Run `work` in one MCP session over HTTP, from a synchronous test."""

    async def run() -> T:
        async with http_session(api_url, token) as client:
            return await work(client)

    return asyncio.run(run())


def call_http(api_url: str, token: str, name: str, arguments: dict[str, Any]) -> CallToolResult:
    return with_http(api_url, token, lambda client: client.call_tool(name, arguments))


def error_codes(result: CallToolResult) -> list[str]:
    assert result.is_error, result
    assert result.structured_content is not None
    return [error["code"] for error in result.structured_content["errors"]]


def payload(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.structured_content
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


def loan_arguments(**overrides: Any) -> dict[str, Any]:
    """Valid `apply_for_loan` arguments for a demo member, with `overrides` applied."""
    return {
        "memberNumber": "M-100008",
        "amount": "5000.00",
        "income": "60000.00",
        "employmentYears": 4,
        **overrides,
    }
