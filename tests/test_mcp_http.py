"""MCP over streamable HTTP at /mcp: listing tools, calling each, keys."""

import pytest

from graphql_api.models import Role
from tests.mcp_client import call_http, payload, with_http

pytestmark = pytest.mark.integration


def test_lists_tools_with_schemas_from_the_graphql_inputs(api_url, api_keys):
    tools = with_http(api_url, api_keys[Role.ADMIN], lambda c: c.list_tools())
    by_name = {tool.name: tool for tool in tools.tools}
    assert set(by_name) == {
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
    loan = by_name["apply_for_loan"].input_schema
    assert loan["properties"]["amount"]["type"] == "string"
    assert "pattern" in loan["properties"]["amount"]
    assert set(loan["required"]) == {"memberNumber", "amount", "income", "employmentYears"}
    assert loan["additionalProperties"] is False
    assert "idempotencyKey" in loan["properties"]
    assert by_name["get_member_context"].annotations.read_only_hint is True
    assert by_name["apply_for_loan"].annotations.read_only_hint is False


def test_get_member_context(api_url, api_keys):
    result = call_http(
        api_url, api_keys[Role.ADMIN], "get_member_context", {"memberNumber": "M-100001"}
    )
    context = payload(result)
    assert context["member"]["memberNumber"] == "M-100001"
    assert "@" in context["member"]["email"]
    assert context["lendingAssessment"]["action"]
