"""graphql_query's read-only rule against documents that pick their operation by position or
name none: every one gets a typed INVALID_INPUT tool error (never a JSON-RPC internal error)
and writes nothing.

Regression: strawberry runs a document's *first* operation when no operationName is given
(the spec asks for an error), so `mutation M {...} query Q {...}` used to write through the
read-only tool, as any role (a MEMBER could submit feedback, an AGENT apply for a loan).
"""

from typing import Any

import pytest

from graphql_api.models import Role
from tests.db_counts import row_counts
from tests.mcp_client import call_http, error_codes, payload

pytestmark = pytest.mark.integration

PREDICT = 'predictSentiment(input: {memberNumber: "M-100001", text: "hi"}) { userErrors { code } }'
READ = 'query Q { member(memberNumber: "M-100001") { id } }'


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"query": f"mutation M {{ {PREDICT} }} {READ}"}, "query"),
        ({"query": f"{READ} mutation M {{ {PREDICT} }}"}, "query"),
        ({"query": f"{READ} mutation M {{ {PREDICT} }}", "operationName": "Q"}, "query"),
        ({"query": f"subscription S {{ auditEvents {{ id }} }} {READ}"}, "query"),
        ({"query": f"{READ} query R {{ members {{ totalCount }} }}"}, "operationName"),
        ({"query": READ, "operationName": "Nope"}, "operationName"),
        ({"query": ""}, "query"),
        ({"query": "fragment F on Query { __typename }"}, "query"),
    ],
    ids=[
        "mutation first, no name",
        "mutation second, no name",
        "query named beside a mutation",
        "subscription first, no name",
        "two queries, no name",
        "unknown operation name",
        "empty",
        "fragment only",
    ],
)
@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT])
def test_graphql_query_refuses_ambiguous_or_writing_documents_typed(
    api_url: str,
    api_keys: dict[Role, str],
    demo_loaded: str,
    arguments: dict[str, Any],
    field: str,
    role: Role,
) -> None:
    before = row_counts(demo_loaded)
    result = call_http(api_url, api_keys[role], "graphql_query", arguments)
    assert error_codes(result) == ["INVALID_INPUT"]
    assert result.structured_content is not None
    assert result.structured_content["errors"][0]["field"] == [field]
    assert row_counts(demo_loaded) == before


def test_graphql_query_runs_the_named_query_of_several(
    api_url: str, api_keys: dict[Role, str]
) -> None:
    arguments = {"query": f"{READ} query R {{ members {{ totalCount }} }}", "operationName": "R"}
    answer = payload(call_http(api_url, api_keys[Role.AGENT], "graphql_query", arguments))
    assert answer["members"]["totalCount"] > 0
