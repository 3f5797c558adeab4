"""MCP over streamable HTTP at /mcp with the SDK's own client: listing tools, calling each one
successfully (writes leave their audit row), and the API keys guarding the endpoint."""

import asyncio
import base64
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.types import CallToolResult

from graphql_api.models import Role
from tests.db_counts import fetch
from tests.mcp_client import call_http, http_session, payload, with_http

pytestmark = pytest.mark.integration

ALL_TOOLS = {
    "get_member_context",
    "search_members",
    "apply_for_loan",
    "request_portfolio_recommendation",
    "record_recommendation",
    "predict_sentiment",
    "submit_feedback",
    "list_audit_events",
    "graphql_query",
}
AUDIT_BY_ACTION = "SELECT count(*) AS n FROM audit_logs WHERE action = $1 AND entity_id = $2"


def _audited(database_url: str, action: str, global_id: str) -> int:
    rows = asyncio.run(fetch(database_url, AUDIT_BY_ACTION, action, _db_id(global_id)))
    return int(rows[0]["n"])


def _db_id(global_id: str) -> str:
    return base64.b64decode(global_id).decode().rpartition(":")[2]


def test_lists_tools_with_schemas_from_the_graphql_inputs(
    api_url: str, api_keys: dict[Role, str]
) -> None:
    tools = with_http(api_url, api_keys[Role.ADMIN], lambda c: c.list_tools())
    by_name = {tool.name: tool for tool in tools.tools}
    assert set(by_name) == ALL_TOOLS
    loan = by_name["apply_for_loan"].input_schema
    # Decimal is a string with the scalar's plain-notation pattern, never a JSON number.
    assert loan["properties"]["amount"]["type"] == "string"
    assert "pattern" in loan["properties"]["amount"]
    assert set(loan["required"]) == {"memberNumber", "amount", "income", "employmentYears"}
    assert loan["additionalProperties"] is False
    assert loan["properties"]["employmentYears"]["type"] == "integer"
    assert "idempotencyKey" in loan["properties"]
    # Descriptions come over from the GraphQL schema.
    assert "2 decimal places" in loan["properties"]["amount"]["description"]
    weight = by_name["record_recommendation"].input_schema["properties"]["allocation"]
    assert weight["items"]["properties"]["weight"]["type"] == "string"
    profile = by_name["request_portfolio_recommendation"].input_schema["properties"]
    assert profile["riskProfile"]["enum"] == ["AGGRESSIVE", "BALANCED", "CONSERVATIVE"]
    hints = {name: tool.annotations for name, tool in by_name.items()}
    assert hints["get_member_context"] is not None
    assert hints["get_member_context"].read_only_hint is True
    assert hints["apply_for_loan"] is not None
    assert hints["apply_for_loan"].read_only_hint is False


def test_get_member_context_and_search(api_url: str, api_keys: dict[Role, str]) -> None:
    token = api_keys[Role.ADVISOR]
    context = payload(call_http(api_url, token, "get_member_context", {"memberNumber": "M-100001"}))
    assert context["member"]["memberNumber"] == "M-100001"
    assert "***" not in context["member"]["email"]  # staff see emails unmasked
    assert context["lendingAssessment"]["action"] in {
        "AUTO_PROCESS",
        "MANUAL_REVIEW",
        "REQUEST_MORE_DATA",
    }
    found = payload(
        call_http(api_url, token, "search_members", {"first": 2, "filter": {"search": "M-1000"}})
    )
    assert len(found["edges"]) == 2
    assert found["pageInfo"]["hasNextPage"] is True


def test_apply_for_loan_is_stored_and_audited(
    api_url: str, api_keys: dict[Role, str], demo_loaded: str
) -> None:
    arguments = {
        "memberNumber": "M-100003",
        "amount": "12500.00",
        "income": "85000.00",
        "employmentYears": 7,
    }
    loan = payload(call_http(api_url, api_keys[Role.AGENT], "apply_for_loan", arguments))[
        "loanApplication"
    ]
    assert (loan["amount"], loan["income"], loan["scoringModelVersion"]) == (
        "12500.00",
        "85000.00",
        "rules-v1",
    )
    assert _audited(demo_loaded, "loan.applied", loan["id"]) == 1


def test_portfolio_request_record_and_audit(
    api_url: str, api_keys: dict[Role, str], demo_loaded: str
) -> None:
    token = api_keys[Role.AGENT]

    async def work(client: Client) -> tuple[dict[str, Any], dict[str, Any]]:
        requested = payload(
            await client.call_tool(
                "request_portfolio_recommendation",
                {"memberNumber": "M-100004", "amountUsd": "25000.00", "riskProfile": "BALANCED"},
            )
        )["portfolio"]
        recorded = payload(
            await client.call_tool(
                "record_recommendation",
                {
                    "portfolioId": requested["id"],
                    "modelName": "mcp-test-agent",
                    "rationale": "Even split for a balanced profile.",
                    "allocation": [
                        {"assetClass": "equities", "weight": "0.5"},
                        {"assetClass": "bonds", "weight": "0.5"},
                    ],
                },
            )
        )["recommendation"]
        return requested, recorded

    portfolio, recommendation = with_http(api_url, token, work)
    assert portfolio["status"] == "RECOMMENDED"
    assert portfolio["latestRecommendation"]["lines"]
    assert recommendation["portfolio"] == {"id": portfolio["id"], "status": "RECOMMENDED"}
    assert [line["weight"] for line in recommendation["lines"]] == ["0.5000", "0.5000"]
    assert _audited(demo_loaded, "portfolio.requested", portfolio["id"]) == 1
    assert _audited(demo_loaded, "recommendation.recorded", recommendation["id"]) == 1


def test_predict_then_feedback_and_the_audit_trail(
    api_url: str, api_keys: dict[Role, str], demo_loaded: str
) -> None:
    async def work(client: Client) -> tuple[dict[str, Any], dict[str, Any]]:
        prediction = payload(
            await client.call_tool(
                "predict_sentiment",
                {"memberNumber": "M-100005", "text": "I am unhappy with the fees."},
            )
        )["prediction"]
        feedback = payload(
            await client.call_tool(
                "submit_feedback", {"predictionId": prediction["id"], "isCorrect": True}
            )
        )["feedback"]
        return prediction, feedback

    prediction, feedback = with_http(api_url, api_keys[Role.AGENT], work)
    assert prediction["sentiment"] == "NEGATIVE"
    assert feedback["prediction"]["id"] == prediction["id"]
    assert _audited(demo_loaded, "prediction.created", prediction["id"]) == 1
    assert _audited(demo_loaded, "feedback.submitted", feedback["id"]) == 1
    # The audit trail as compliance reads it, through the tool.
    trail = payload(
        call_http(
            api_url,
            api_keys[Role.ADMIN],
            "list_audit_events",
            {"first": 5, "filter": {"action": "feedback.submitted", "memberNumber": "M-100005"}},
        )
    )
    assert trail["edges"][0]["node"]["action"] == "feedback.submitted"


def test_legacy_initialize_handshake_works_too(api_url: str, api_keys: dict[Role, str]) -> None:
    async def work() -> tuple[str, CallToolResult]:
        async with http_session(api_url, api_keys[Role.AGENT], mode="legacy") as client:
            result = await client.call_tool("search_members", {"first": 1})
            return client.protocol_version, result

    version, result = asyncio.run(work())
    assert version < "2026"  # a handshake-era version, not the default 2026-07-28
    assert payload(result)["edges"][0]["node"]["email"].count("***") == 1


def test_graphql_query_runs_reads(api_url: str, api_keys: dict[Role, str]) -> None:
    answer = payload(
        call_http(
            api_url,
            api_keys[Role.ADMIN],
            "graphql_query",
            {
                "query": "query ($n: String!) { member(memberNumber: $n) { fullName } }",
                "variables": {"n": "M-100001"},
            },
        )
    )
    assert answer["member"]["fullName"]


def test_mcp_needs_a_valid_key(api_url: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    for headers in ({}, {"Authorization": "Bearer fgk_" + "x" * 43}):
        response = httpx.post(f"{api_url}/mcp", json=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
