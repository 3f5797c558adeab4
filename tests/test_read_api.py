"""The read API over HTTP against the demo data, compared with the demo file itself."""

from decimal import Decimal
from typing import Any

import pytest

from tests.demo_file import demo_members, newest_first, richest_member
from tests.graphql_client import GraphQLClient

MEMBER_GRAPH = """
query ($number: String!) {
  member(memberNumber: $number) {
    id memberNumber fullName email status createdAt updatedAt
    pensionAccount { contributionBalance currency lastSyncedAt member { memberNumber } }
    portfolios(first: 100) {
      totalCount
      edges { node {
        riskProfile amountUsd status
        recommendations { modelName rationale allocation lines { assetClass weight } }
        latestRecommendation { modelName }
        member { memberNumber }
      } }
    }
    loanApplications(first: 100) {
      totalCount
      edges { node { amount income employmentYears riskScore decision scoringModelVersion
                     createdAt member { memberNumber lendingAssessment { action } } } }
    }
    lendingAssessment { action reason }
    predictions(first: 100) {
      totalCount
      edges { node { text sentiment confidence modelVersion
                     feedback { isCorrect comment prediction { text } } } }
    }
    auditLogs(first: 100) { totalCount edges { node { action requestId payload } } }
  }
}
"""


def _nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def test_nested_member_query_returns_the_whole_graph(pristine_gql: GraphQLClient) -> None:
    expected = richest_member()
    member = pristine_gql.ok(MEMBER_GRAPH, {"number": expected["member_number"]})["member"]

    assert member["fullName"] == expected["full_name"]
    assert member["status"] == expected["status"]
    account = member["pensionAccount"]
    assert account["contributionBalance"] == expected["pension_account"]["contribution_balance"]
    assert account["member"]["memberNumber"] == expected["member_number"]

    loans = _nodes(member["loanApplications"])
    expected_loans = newest_first(expected["loan_applications"])
    assert [loan["amount"] for loan in loans] == [loan["amount"] for loan in expected_loans]
    assert [loan["riskScore"] for loan in loans] == [loan["risk_score"] for loan in expected_loans]
    assert member["loanApplications"]["totalCount"] == len(expected_loans)
    assert {loan["member"]["memberNumber"] for loan in loans} == {expected["member_number"]}

    portfolios = _nodes(member["portfolios"])
    assert len(portfolios) == len(expected["portfolios"])
    for portfolio in portfolios:
        recommendations = portfolio["recommendations"]
        latest = portfolio["latestRecommendation"]
        assert (latest is None) == (not recommendations)
        for recommendation in recommendations:
            assert sum(Decimal(line["weight"]) for line in recommendation["lines"]) == 1

    predictions = _nodes(member["predictions"])
    expected_feedback = sum(len(p.get("feedback", [])) for p in expected["predictions"])
    assert len(predictions) == len(expected["predictions"])
    assert sum(len(p["feedback"]) for p in predictions) == expected_feedback > 0
    for prediction in predictions:
        assert all(f["prediction"]["text"] == prediction["text"] for f in prediction["feedback"])
    assert member["auditLogs"]["totalCount"] == len(expected["audit_logs"])


def _expected_action(member: dict[str, Any]) -> str:
    loans = newest_first(member.get("loan_applications", []))
    if not loans:
        return "REQUEST_MORE_DATA"
    return "MANUAL_REVIEW" if loans[0]["decision"] == "REVIEW" else "AUTO_PROCESS"


@pytest.mark.parametrize("action", ["REQUEST_MORE_DATA", "MANUAL_REVIEW", "AUTO_PROCESS"])
def test_agent_context_follows_the_lending_workflow(
    pristine_gql: GraphQLClient, action: str
) -> None:
    member = next(m for m in demo_members() if _expected_action(m) == action)
    context = pristine_gql.ok(
        """query ($n: String!) { agentContext(memberNumber: $n) {
             member { memberNumber lendingAssessment { action } }
             lendingAssessment { action reason } toolingHint generatedAt } }""",
        {"n": member["member_number"]},
    )["agentContext"]
    assert context["lendingAssessment"]["action"] == action
    assert context["member"]["lendingAssessment"]["action"] == action
    assert context["lendingAssessment"]["reason"]
    assert "authoritative" in context["toolingHint"]
    assert context["generatedAt"].endswith("+00:00")


def test_unknown_member_is_null_not_an_error(pristine_gql: GraphQLClient) -> None:
    data = pristine_gql.ok(
        '{ member(memberNumber: "NOPE") { id } agentContext(memberNumber: "NOPE") { toolingHint } }'
    )
    assert data == {"member": None, "agentContext": None}


def test_members_pages_walk_every_member_once_in_order(pristine_gql: GraphQLClient) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = pristine_gql.ok(
            """query ($after: String) {
                 members(first: 7, after: $after, filter: {search: "M-"}) {
                   totalCount pageInfo { hasNextPage endCursor } edges { node { memberNumber } }
                 } }""",
            {"after": after},
        )["members"]
        seen += [edge["node"]["memberNumber"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    expected = sorted(m["member_number"] for m in demo_members())
    assert seen == expected
    assert page["totalCount"] == len(expected)


def test_member_filter_by_status_and_name(pristine_gql: GraphQLClient) -> None:
    retired = sorted(m["member_number"] for m in demo_members() if m["status"] == "RETIRED")
    data = pristine_gql.ok(
        """{ members(first: 100, filter: {status: [RETIRED], search: "M-"}) {
             totalCount edges { node { memberNumber status } } } }"""
    )["members"]
    assert [e["node"]["memberNumber"] for e in data["edges"]] == retired
    assert data["totalCount"] == len(retired) > 0

    someone = demo_members()[3]
    surname = someone["full_name"].split()[-1].upper()
    found = pristine_gql.ok(
        "query ($s: String) { members(filter: {search: $s}) { edges { node { memberNumber } } } }",
        {"s": surname},
    )["members"]["edges"]
    assert someone["member_number"] in [e["node"]["memberNumber"] for e in found]


@pytest.mark.parametrize("search", ["%", "_", "M-%", "\\"])
def test_like_wildcards_in_search_are_literal(pristine_gql: GraphQLClient, search: str) -> None:
    data = pristine_gql.ok(
        "query ($s: String) { members(filter: {search: $s}) { totalCount } }", {"s": search}
    )
    assert data["members"]["totalCount"] == 0


def test_node_resolves_every_global_id(pristine_gql: GraphQLClient) -> None:
    number = richest_member()["member_number"]
    data = pristine_gql.ok(
        """query ($n: String!) { member(memberNumber: $n) { id
             pensionAccount { id } loanApplications(first: 1) { edges { node { id } } }
             portfolios(first: 1) { edges { node { id recommendations { id } } } }
             predictions(first: 1) { edges { node { id feedback { id } } } }
             auditLogs(first: 1) { edges { node { id } } } } }""",
        {"n": number},
    )["member"]
    ids = [
        data["id"],
        data["pensionAccount"]["id"],
        data["loanApplications"]["edges"][0]["node"]["id"],
        data["portfolios"]["edges"][0]["node"]["id"],
        data["auditLogs"]["edges"][0]["node"]["id"],
    ]
    for global_id in ids:
        node = pristine_gql.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": global_id})[
            "node"
        ]
        assert node == {"id": global_id}


@pytest.mark.parametrize("global_id", ["TWVtYmVyOjk5OTk5OTk5", "TWVtYmVyOmFiYw==", "TWVtYmVyOi0x"])
def test_node_with_unknown_or_malformed_number_is_null(
    pristine_gql: GraphQLClient, global_id: str
) -> None:
    # Member:99999999, Member:abc and Member:-1 identify nothing.
    assert (
        pristine_gql.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": global_id})["node"]
        is None
    )


@pytest.mark.parametrize("first", [0, -1, 101, 10_000])
def test_page_size_outside_1_to_100_is_a_typed_error(
    pristine_gql: GraphQLClient, first: int
) -> None:
    codes = pristine_gql.error_codes(
        "query ($f: Int) { members(first: $f) { totalCount } }", {"f": first}
    )
    assert codes == ["INVALID_PAGE_REQUEST"]


@pytest.mark.parametrize("cursor", ["garbage", "azE6WzFd", "azE6bm90IGpzb24=", ""])
def test_foreign_cursor_is_a_typed_error(pristine_gql: GraphQLClient, cursor: str) -> None:
    codes = pristine_gql.error_codes(
        "query ($a: String) { loanApplications(after: $a) { totalCount } }", {"a": cursor or "x"}
    )
    assert codes == ["INVALID_CURSOR"]


def test_loan_and_prediction_filters(pristine_gql: GraphQLClient) -> None:
    loans = [loan for m in demo_members() for loan in m.get("loan_applications", [])]
    for decision in ("APPROVED", "REVIEW", "DECLINED"):
        data = pristine_gql.ok(
            "query ($d: LoanDecision) { loanApplications(filter: {decision: $d}) { totalCount } }",
            {"d": decision},
        )
        assert data["loanApplications"]["totalCount"] == sum(
            1 for loan in loans if loan["decision"] == decision
        )
    predictions = [p for m in demo_members() for p in m.get("predictions", [])]
    negative = pristine_gql.ok(
        """{ predictions(first: 100, filter: {sentiment: NEGATIVE}) {
               totalCount edges { node { sentiment } } } }"""
    )["predictions"]
    assert negative["totalCount"] == sum(1 for p in predictions if p["sentiment"] == "NEGATIVE")
    assert {e["node"]["sentiment"] for e in negative["edges"]} == {"NEGATIVE"}


def test_audit_log_filters(pristine_gql: GraphQLClient) -> None:
    member = richest_member()
    entry = member["audit_logs"][0]
    by_member = pristine_gql.ok(
        "query ($n: String) { auditLogs(filter: {memberNumber: $n}) { totalCount } }",
        {"n": member["member_number"]},
    )["auditLogs"]
    assert by_member["totalCount"] == len(member["audit_logs"])
    by_request = pristine_gql.ok(
        """query ($r: String, $after: DateTime, $before: DateTime) {
             auditLogs(filter: {requestId: $r, createdAfter: $after, createdBefore: $before}) {
               edges { node { requestId action createdAt member { memberNumber } } } } }""",
        {
            "r": entry["request_id"],
            "after": entry["created_at"],
            "before": "2100-01-01T00:00:00+00:00",
        },
    )["auditLogs"]["edges"]
    assert by_request
    assert all(e["node"]["requestId"] == entry["request_id"] for e in by_request)
    assert by_request[0]["node"]["action"] == entry["action"]
    empty_window = pristine_gql.ok(
        """query ($t: DateTime) { auditLogs(filter: {createdAfter: $t}) { totalCount } }""",
        {"t": "2100-01-01T00:00:00+00:00"},
    )
    assert empty_window["auditLogs"]["totalCount"] == 0


def test_request_id_is_echoed_in_header_and_extensions(pristine_gql: GraphQLClient) -> None:
    response = pristine_gql.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "trace-123"}
    )
    assert response.headers["X-Request-ID"] == "trace-123"
    assert response.json()["extensions"]["requestId"] == "trace-123"
    minted = pristine_gql.http.post("/graphql", json={"query": "{ __typename }"})
    assert len(minted.headers["X-Request-ID"]) == 32
    hostile = pristine_gql.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "a b<script>"}
    )
    assert hostile.headers["X-Request-ID"] != "a b<script>"
