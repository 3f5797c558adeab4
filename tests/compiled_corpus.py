"""The hand corpus for the compiled-reads oracle: the README's queries, the bench queries,
the permission tests' queries, and one query per feature the compiler covers (aliases,
fragments, `__typename`, variables with defaults, directives, connections, every root field,
every node type, filters), plus requests it must leave to the resolvers.

Each case: (name, query, variables, compiles) where `compiles` says whether an allowed role
is answered by the compiled path (the test checks `extensions.plan`).
"""

from typing import Any

from graphql_api.bench.queries import AGENT_CONTEXT_QUERY, MEMBERS_QUERY
from tests.gql_helpers import global_id
from tests.test_read_api import MEMBER_GRAPH

Case = tuple[str, str, dict[str, Any] | None, bool]

README_AGENT_CONTEXT = """
query AgentContext {
  agentContext(memberNumber: "M-100001") {
    toolingHint
    generatedAt
    lendingAssessment { action reason }
    member {
      memberNumber fullName email status
      pensionAccount { contributionBalance currency lastSyncedAt }
      loanApplications(first: 5) {
        totalCount
        edges { node { amount income riskScore decision scoringModelVersion createdAt } }
      }
      portfolios(first: 5) {
        edges { node { riskProfile amountUsd status
                       latestRecommendation { modelName lines { assetClass weight } } } }
      }
      predictions(first: 5) {
        edges { node { text sentiment confidence modelVersion feedback { isCorrect comment } } }
      }
      auditLogs(first: 10) { edges { node { action actor requestId payload createdAt } } }
    }
  }
}
"""

FRAGMENTS = """
query Fragments($n: String!, $withLoans: Boolean = true, $skipEmail: Boolean = false) {
  __typename
  member(memberNumber: $n) {
    __typename
    ...Who
    mail: email @skip(if: $skipEmail)
    ... on Member { status id }
    loanApplications(first: 2) @include(if: $withLoans) {
      __typename
      totalCount
      pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
      edges { __typename cursor node { ...Loan } }
    }
    again: loanApplications(first: 1) { edges { node { id } } }
  }
}
fragment Who on Member { memberNumber fullName createdAt }
fragment Loan on LoanApplication { id amount riskScore decision createdAt member { ...Who } }
"""

PAGE_INFO_ONLY = """
{ members(first: 3) { pageInfo { hasNextPage endCursor } totalCount }
  loanApplications(first: 2) { totalCount }
  predictions { pageInfo { hasNextPage hasPreviousPage } } }
"""

_NODE_FRAGMENT = """
fragment All on Node {
  __typename id
  ... on Member { memberNumber email }
  ... on PensionAccount { contributionBalance holder: member { memberNumber } }
  ... on Portfolio { amountUsd riskProfile recommendations { id lines { weight } } }
  ... on Recommendation { allocation modelName portfolio { status } }
  ... on LoanApplication { employmentYears applicant: member { id } }
  ... on Prediction { confidence feedback { isCorrect } author: member { fullName } }
  ... on Feedback { comment prediction { sentiment } }
  ... on AuditLog { action payload entityId about: member { memberNumber } }
}
"""


def _nodes_query(ids: list[str], extra: str = "") -> str:
    """node(id:) for each id (under the alias limit: the fragment has 4 aliases itself)."""
    fields = " ".join(f'n{i}: node(id: "{node_id}") {{ ...All }}' for i, node_id in enumerate(ids))
    return f"{{ {fields} {extra} }}" + _NODE_FRAGMENT


EVERY_NODE = [
    _nodes_query([global_id("Member", 10), global_id("PensionAccount", 10),
                  global_id("Portfolio", 1), global_id("Recommendation", 1)]),
    _nodes_query(
        [global_id("LoanApplication", 1), global_id("Prediction", 1),
         global_id("Feedback", 1), global_id("AuditLog", 1)],
        f'missing: node(id: "{global_id("Member", 999999)}") {{ id }}'
        f' notARow: node(id: "{global_id("PageInfo", 1)}") {{ id __typename }}'
        f' notAnId: node(id: "{global_id("Member", "x1")}") {{ id }}',
    ),
]  # fmt: skip

FILTERS = """
query ($statuses: [MemberStatus!], $search: String, $decision: LoanDecision) {
  active: members(first: 5, filter: {status: $statuses}) {
    totalCount edges { node { memberNumber status } } }
  search: members(filter: {search: $search}) { totalCount edges { cursor node { fullName } } }
  blank: members(filter: {search: "  "}) { totalCount }
  loans: loanApplications(first: 3, filter: {decision: $decision}) {
    totalCount edges { node { decision } } }
  mine: loanApplications(filter: {memberNumber: "M-100010"}) { totalCount }
  nobody: loanApplications(filter: {memberNumber: "nobody"}) { totalCount }
  sentiment: predictions(filter: {sentiment: POSITIVE, modelVersion: "vader-3.3.2"}) { totalCount }
  byMember: predictions(filter: {memberNumber: "M-100010"}) { edges { node { text } } }
}
"""

AUDIT = """
query ($after: DateTime, $before: DateTime) {
  all: auditLogs(first: 4) { totalCount edges { node { action actor entityType payload } } }
  window: auditLogs(filter: {createdAfter: $after, createdBefore: $before}) { totalCount }
  byAction: auditLogs(filter: {action: "loan.applied", memberNumber: "M-100010"}) {
    totalCount edges { node { entityId member { memberNumber } } } }
  byRequest: auditLogs(filter: {requestId: "no-such-request"}) { totalCount }
}
"""

UNKNOWN_MEMBER = (
    '{ member(memberNumber: "M-999999") { id } agentContext(memberNumber: "") { toolingHint } }'
)
PERMISSIONS_SCOPED = (
    "query ($n: String!) { member(memberNumber: $n) { id email"
    " loanApplications(first: 1) { edges { node { id member { memberNumber } } } }"
    " predictions(first: 1) { edges { node { id } } } } }"
)
MASKED = "{ members(first: 50) { edges { node { memberNumber email } } } }"

CORPUS: list[Case] = [
    ("readme agent context", README_AGENT_CONTEXT, None, True),
    ("bench agent context", AGENT_CONTEXT_QUERY, {"memberNumber": "M-100010"}, True),
    ("bench members page", MEMBERS_QUERY, None, True),
    ("read test member graph", MEMBER_GRAPH, {"number": "M-100010"}, True),
    ("fragments and directives", FRAGMENTS, {"n": "M-100010"}, True),
    (
        "directives flipped",
        FRAGMENTS,
        {"n": "M-100010", "withLoans": False, "skipEmail": True},
        True,
    ),
    ("page info only", PAGE_INFO_ONLY, None, True),
    ("node types 1", EVERY_NODE[0], None, True),
    ("node types 2", EVERY_NODE[1], None, True),
    (
        "filters",
        FILTERS,
        {"statuses": ["ACTIVE", "RETIRED"], "search": "m-1000", "decision": "REVIEW"},
        True,
    ),
    ("filters unset", FILTERS, {"statuses": None, "search": None, "decision": None}, True),
    (
        "audit",
        AUDIT,
        {"after": "2024-01-01T00:00:00+00:00", "before": "2025-06-01T00:00:00Z"},
        True,
    ),
    ("masked emails", MASKED, None, True),
    (
        "unknown member",
        UNKNOWN_MEMBER,
        None,
        True,
    ),
    # Permission tests' probes.
    ("perm member", '{ member(memberNumber: "M-100010") { memberNumber } }', None, True),
    ("perm members", "{ members(first: 1) { totalCount } }", None, True),
    ("perm node", f'{{ node(id: "{global_id("Member", 1)}") {{ id }} }}', None, True),
    ("perm audit", "{ auditLogs(first: 1) { totalCount } }", None, True),
    (
        "perm scoped",
        PERMISSIONS_SCOPED,
        {"n": "M-100001"},
        True,
    ),
    # Left to the resolvers, which must still answer identically.
    (
        "model performance",
        "{ modelPerformance { modelVersion predictions accuracy } }",
        None,
        False,
    ),
    ("first out of range", "{ members(first: 101) { totalCount } }", None, False),
    (
        "first zero",
        '{ member(memberNumber: "M-100010") { portfolios(first: 0) { totalCount } } }',
        None,
        False,
    ),
    ("foreign cursor", '{ members(after: "bm9wZQ==") { totalCount } }', None, False),
    ("bad global id", '{ node(id: "%%%") { id } }', None, False),
    (
        "variable type error",
        "query ($n: String!) { member(memberNumber: $n) { id } }",
        {"n": 5},
        False,
    ),
    ("missing variable", "query ($n: String!) { member(memberNumber: $n) { id } }", {}, False),
    ("validation error", "{ member { id } }", None, False),
    ("introspection", "{ __schema { queryType { name } } }", None, False),
    (
        "audit instant out of range",
        'query { auditLogs(filter: {createdAfter: "0001-01-01T00:00:00+14:00"}) { totalCount } }',
        None,
        False,
    ),
    (
        "nul in member number",
        "query ($n: String!) { member(memberNumber: $n) { id } }",
        {"n": "M-\u0000"},
        False,
    ),
]
