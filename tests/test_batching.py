"""Dataloaders batch: a nested query costs the same number of SQL statements whether it
covers one member or fifty (no N+1)."""

from tests.graphql_client import GraphQLClient

NESTED = """
query ($first: Int!) {
  members(first: $first, filter: {search: "M-"}) {
    totalCount
    edges { node {
      memberNumber lendingAssessment { action }
      pensionAccount { contributionBalance member { memberNumber } }
      portfolios(first: 5) { totalCount edges { node {
        status recommendations { lines { weight } } latestRecommendation { modelName }
      } } }
      loanApplications(first: 5) { totalCount edges { node { riskScore member { status } } } }
      predictions(first: 5) {
        edges { node { sentiment feedback { isCorrect prediction { id } } } }
      }
      auditLogs(first: 5) { edges { node { action member { memberNumber } } } }
    } }
  }
}
"""


def _statements(pristine_gql: GraphQLClient, first: int) -> tuple[int, int]:
    body = pristine_gql.post(NESTED, {"first": first})
    assert body.get("errors") is None, body["errors"]
    return body["extensions"]["sqlStatements"], len(body["data"]["members"]["edges"])


def test_statement_count_does_not_grow_with_members(pristine_gql: GraphQLClient) -> None:
    # Warm up: a fresh engine's first connection runs the dialect's own setup queries.
    _statements(pristine_gql, 1)
    one, fetched_one = _statements(pristine_gql, 1)
    fifty, fetched_fifty = _statements(pristine_gql, 50)
    assert (fetched_one, fetched_fifty) == (1, 50)
    assert fifty == one
    # Page + count + one statement per relation level, never one per member.
    assert one <= 14
