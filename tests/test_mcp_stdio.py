"""MCP over stdio: `finance-api mcp` as a subprocess on the test database, key from
FINANCE_API_KEY, driven by the SDK's own stdio client."""

import asyncio
import os
import subprocess
import sys

import pytest
from mcp.types import CallToolResult, ListToolsResult

from graphql_api.models import Role
from tests.api_keys import create_api_key, revoke_api_key
from tests.db_counts import row_counts
from tests.mcp_client import error_codes, payload, stdio_session

pytestmark = pytest.mark.integration


def test_stdio_lists_and_calls_tools_as_the_environment_key(
    app_database_url: str, api_keys: dict[Role, str]
) -> None:
    async def session() -> tuple[ListToolsResult, dict[str, CallToolResult]]:
        async with stdio_session(app_database_url, api_keys[Role.AGENT]) as client:
            tools = await client.list_tools()
            context = await client.call_tool("get_member_context", {"memberNumber": "M-100001"})
            audit = await client.call_tool("list_audit_events", {"first": 1})
            search = await client.call_tool("search_members", {"filter": {"search": "M-10000"}})
            bad = await client.call_tool("apply_for_loan", {"memberNumber": "M-100001"})
            return tools, {"context": context, "audit": audit, "search": search, "bad": bad}

    tools, answers = asyncio.run(session())
    names = {tool.name for tool in tools.tools}
    # AGENT keys do not read the audit log (policy.ALLOWED), so the tool is not listed ...
    assert "list_audit_events" not in names
    assert {"get_member_context", "apply_for_loan", "graphql_query"} <= names
    # ... and calling it anyway is refused with the policy's code.
    assert error_codes(answers["audit"]) == ["FORBIDDEN"]
    member = payload(answers["context"])["member"]
    assert member["memberNumber"] == "M-100001"
    assert "***" in member["email"]  # masked for AGENT keys, as over GraphQL
    assert payload(answers["search"])["totalCount"] >= 1
    # amount, income and employmentYears missing: one typed error each.
    assert error_codes(answers["bad"]) == ["INVALID_INPUT"] * 3


def test_stdio_write_is_audited(
    app_database_url: str, demo_loaded: str, api_keys: dict[Role, str]
) -> None:
    before = row_counts(demo_loaded)

    async def session() -> CallToolResult:
        async with stdio_session(app_database_url, api_keys[Role.ADVISOR]) as client:
            return await client.call_tool(
                "predict_sentiment",
                {"memberNumber": "M-100002", "text": "The new portal is great, thank you!"},
            )

    prediction = payload(asyncio.run(session()))["prediction"]
    assert prediction["sentiment"] == "POSITIVE"
    after = row_counts(demo_loaded)
    assert after["predictions"] == before["predictions"] + 1
    assert after["audit_logs"] == before["audit_logs"] + 1


def test_stdio_key_revocation_takes_effect_within_the_cache_time(
    app_database_url: str, demo_loaded: str
) -> None:
    token = create_api_key(demo_loaded, Role.ADVISOR, label="stdio-revocation")
    query = {"query": "{ members(first: 1) { totalCount } }"}

    async def session() -> tuple[CallToolResult, CallToolResult]:
        cache = {"FINANCE_API_API_KEY_CACHE_SECONDS": "0.2"}
        async with stdio_session(app_database_url, token, **cache) as client:
            before = await client.call_tool("graphql_query", query)
            await asyncio.to_thread(revoke_api_key, demo_loaded, token)
            await asyncio.sleep(0.5)
            return before, await client.call_tool("graphql_query", query)

    before, after = asyncio.run(session())
    assert payload(before)["members"]["totalCount"] > 0
    assert error_codes(after) == ["UNAUTHENTICATED"]


def test_stdio_refuses_to_start_without_a_valid_key(app_database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINANCE_API_", "TEST_"))}
    for token in ("", "fgk_" + "x" * 43):
        completed = subprocess.run(
            [sys.executable, "-m", "graphql_api.runtime.cli", "mcp"],
            env={**env, "DATABASE_URL": app_database_url, "FINANCE_API_KEY": token},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert completed.returncode == 2, completed.stderr
        assert "FINANCE_API_KEY" in completed.stderr
        assert completed.stdout == ""  # stdout is the protocol: nothing else goes there
