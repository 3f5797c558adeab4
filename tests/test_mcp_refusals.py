"""MCP refusals: roles (policy.can / the GraphQL guards), invalid arguments (typed errors and
nothing written), idempotency keys, and graphql_query's read-only rule and masking."""

import uuid
from typing import Any

import pytest

from graphql_api.models import Role
from tests.conftest import MEMBER_KEY_OWNER
from tests.db_counts import row_counts
from tests.mcp_client import call_http, error_codes, loan_arguments, payload, with_http

pytestmark = pytest.mark.integration


def test_member_key_sees_and_may_call_only_its_tools(
    api_url: str, api_keys: dict[Role, str], demo_loaded: str
) -> None:
    token = api_keys[Role.MEMBER]
    tools = with_http(api_url, token, lambda c: c.list_tools())
    names = {tool.name for tool in tools.tools}
    assert "apply_for_loan" not in names
    assert {"get_member_context", "submit_feedback", "list_audit_events"} <= names
    before = row_counts(demo_loaded)
    refused = call_http(
        api_url, token, "apply_for_loan", loan_arguments(memberNumber=MEMBER_KEY_OWNER)
    )
    assert error_codes(refused) == ["FORBIDDEN"]
    assert row_counts(demo_loaded) == before


def test_member_key_reads_only_its_own_member(api_url: str, api_keys: dict[Role, str]) -> None:
    token = api_keys[Role.MEMBER]
    own = payload(
        call_http(api_url, token, "get_member_context", {"memberNumber": MEMBER_KEY_OWNER})
    )
    assert own["member"]["memberNumber"] == MEMBER_KEY_OWNER
    other = call_http(api_url, token, "get_member_context", {"memberNumber": "M-100001"})
    assert error_codes(other) == ["NOT_FOUND"]
    found = payload(call_http(api_url, token, "search_members", {"first": 100}))
    assert [e["node"]["memberNumber"] for e in found["edges"]] == [MEMBER_KEY_OWNER]


def test_member_key_may_not_judge_another_members_prediction(
    api_url: str, api_keys: dict[Role, str], demo_loaded: str
) -> None:
    others = payload(
        call_http(
            api_url,
            api_keys[Role.ADMIN],
            "graphql_query",
            {
                "query": '{ predictions(first: 1, filter: {memberNumber: "M-100001"}) '
                "{ edges { node { id } } } }"
            },
        )
    )["predictions"]["edges"]
    before = row_counts(demo_loaded)
    arguments = {"predictionId": others[0]["node"]["id"], "isCorrect": False}
    refused = call_http(api_url, api_keys[Role.MEMBER], "submit_feedback", arguments)
    assert error_codes(refused) == ["NOT_FOUND"]
    assert row_counts(demo_loaded) == before


def test_agent_may_not_list_the_audit_log(api_url: str, api_keys: dict[Role, str]) -> None:
    token = api_keys[Role.AGENT]
    names = {t.name for t in with_http(api_url, token, lambda c: c.list_tools()).tools}
    assert "list_audit_events" not in names
    assert error_codes(call_http(api_url, token, "list_audit_events", {})) == ["FORBIDDEN"]
    # The same refusal through graphql_query: the GraphQL field guard, not a copy of it.
    sneaky = call_http(api_url, token, "graphql_query", {"query": "{ auditLogs { totalCount } }"})
    assert error_codes(sneaky) == ["FORBIDDEN"]


INVALID_LOANS = {
    "wrong type": loan_arguments(employmentYears="six"),
    "amount as a JSON number": loan_arguments(amount=5000),
    "exponent notation": loan_arguments(amount="5e3"),
    "negative amount": loan_arguments(amount="-5.00"),
    "three decimals": loan_arguments(amount="10.005"),
    "missing field": {k: v for k, v in loan_arguments().items() if k != "income"},
    "extra field": loan_arguments(note="please"),
    "too many years": loan_arguments(employmentYears=81),
}


@pytest.mark.parametrize("arguments", INVALID_LOANS.values(), ids=INVALID_LOANS.keys())
def test_invalid_arguments_get_typed_errors_and_write_nothing(
    api_url: str, api_keys: dict[Role, str], demo_loaded: str, arguments: dict[str, Any]
) -> None:
    before = row_counts(demo_loaded)
    result = call_http(api_url, api_keys[Role.ADMIN], "apply_for_loan", arguments)
    assert error_codes(result) == ["INVALID_INPUT"]
    assert result.structured_content["errors"][0]["message"]
    assert row_counts(demo_loaded) == before


def test_refusal_field_paths_name_the_tool_arguments(
    api_url: str, api_keys: dict[Role, str]
) -> None:
    token = api_keys[Role.ADMIN]
    negative = call_http(api_url, token, "apply_for_loan", loan_arguments(amount="-5.00"))
    assert negative.structured_content["errors"][0]["field"] == ["amount"]
    missing = call_http(
        api_url,
        token,
        "apply_for_loan",
        {k: v for k, v in loan_arguments().items() if k != "income"},
    )
    assert missing.structured_content["errors"][0]["field"] == ["income"]


def test_unknown_member_and_unknown_tool(
    api_url: str, api_keys: dict[Role, str], demo_loaded: str
) -> None:
    token = api_keys[Role.ADMIN]
    before = row_counts(demo_loaded)
    unknown = call_http(api_url, token, "apply_for_loan", loan_arguments(memberNumber="M-999999"))
    assert error_codes(unknown) == ["NOT_FOUND"]
    assert error_codes(call_http(api_url, token, "delete_everything", {})) == ["NOT_FOUND"]
    assert row_counts(demo_loaded) == before


def test_idempotency_key_replay_returns_the_first_result_and_writes_once(
    api_url: str, api_keys: dict[Role, str], demo_loaded: str
) -> None:
    token = api_keys[Role.AGENT]
    arguments = loan_arguments(idempotencyKey=f"mcp-{uuid.uuid4()}")
    before = row_counts(demo_loaded)
    first = payload(call_http(api_url, token, "apply_for_loan", arguments))
    after_first = row_counts(demo_loaded)
    assert after_first["loan_applications"] == before["loan_applications"] + 1
    # A retry in another session (a reconnecting agent) gets the first answer, writes nothing.
    replay = payload(call_http(api_url, token, "apply_for_loan", arguments))
    assert replay["loanApplication"]["id"] == first["loanApplication"]["id"]
    assert row_counts(demo_loaded) == after_first
    other = call_http(api_url, token, "apply_for_loan", {**arguments, "amount": "6000.00"})
    assert error_codes(other) == ["IDEMPOTENCY_KEY_REUSED"]
    assert row_counts(demo_loaded) == after_first


PREDICT = 'predictSentiment(input: {memberNumber: "M-100001", text: "hi"}) { userErrors { code } }'


@pytest.mark.parametrize(
    "document",
    [
        f"mutation {{ {PREDICT} }}",
        "subscription { auditEvents { id } }",
        f'query Q {{ member(memberNumber: "M-100001") {{ id }} }} mutation M {{ {PREDICT} }}',
    ],
    ids=["mutation", "subscription", "mutation chosen by name"],
)
def test_graphql_query_refuses_writes(
    api_url: str, api_keys: dict[Role, str], demo_loaded: str, document: str
) -> None:
    before = row_counts(demo_loaded)
    arguments: dict[str, Any] = {"query": document}
    if " M " in document:
        arguments["operationName"] = "M"
    result = call_http(api_url, api_keys[Role.ADMIN], "graphql_query", arguments)
    assert error_codes(result) == ["INVALID_INPUT"]
    assert row_counts(demo_loaded) == before


def test_graphql_query_masks_emails_for_agents(api_url: str, api_keys: dict[Role, str]) -> None:
    query = {"query": '{ member(memberNumber: "M-100001") { email } }'}
    masked = payload(call_http(api_url, api_keys[Role.AGENT], "graphql_query", query))
    clear = payload(call_http(api_url, api_keys[Role.ADVISOR], "graphql_query", query))
    assert "***" in masked["member"]["email"]
    assert "***" not in clear["member"]["email"]
    assert masked["member"]["email"] != clear["member"]["email"]


def test_agent_reads_no_audit_rows_through_nested_fields(
    api_url: str, api_keys: dict[Role, str]
) -> None:
    """The policy's row filter holds on the MCP path too (its loaders are the viewer's)."""
    query = {"query": '{ member(memberNumber: "M-100001") { auditLogs { totalCount } } }'}
    agent = payload(call_http(api_url, api_keys[Role.AGENT], "graphql_query", query))
    staff = payload(call_http(api_url, api_keys[Role.ADVISOR], "graphql_query", query))
    assert agent["member"]["auditLogs"]["totalCount"] == 0
    assert staff["member"]["auditLogs"]["totalCount"] > 0


def test_graphql_query_reports_graphql_errors_typed(
    api_url: str, api_keys: dict[Role, str]
) -> None:
    token = api_keys[Role.ADMIN]
    broken = call_http(api_url, token, "graphql_query", {"query": "{ member(memberNumber: "})
    assert error_codes(broken) == ["INVALID_INPUT"]
    assert broken.structured_content["errors"][0]["graphqlCode"] == "GRAPHQL_PARSE_FAILED"
    unknown = call_http(api_url, token, "graphql_query", {"query": "{ nope }"})
    assert error_codes(unknown) == ["INVALID_INPUT"]
