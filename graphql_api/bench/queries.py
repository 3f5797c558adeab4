"""The benchmark scenarios: the GraphQL documents both targets are sent, and their bodies.

Kept free of heavy imports: the load driver and the floor server import this module.
Cursors, `pageInfo` and `generatedAt` are left out on purpose: agents and frontends read the
data, and those fields are either opaque or differ on every request.
"""

from dataclasses import dataclass
from random import Random
from typing import Any

# Loan, portfolio and prediction nodes read the same fields in both scenarios, so the floor
# builds them from the same SQL fragments.
_LOAN_NODE = """
            id amount income employmentYears riskScore decision scoringModelVersion createdAt"""
_PREDICTION_NODE = """
            id text sentiment confidence modelVersion createdAt
            feedback { id isCorrect comment createdAt }"""
_RECOMMENDATION = "id modelName rationale createdAt lines { assetClass weight }"
_PORTFOLIO_FIELDS = "id riskProfile amountUsd status createdAt updatedAt"

AGENT_CONTEXT_QUERY = f"""
query AgentContext($memberNumber: String!) {{
  agentContext(memberNumber: $memberNumber) {{
    toolingHint
    lendingAssessment {{ action reason }}
    member {{
      id memberNumber fullName email status createdAt updatedAt
      pensionAccount {{ id contributionBalance currency lastSyncedAt createdAt updatedAt }}
      loanApplications(first: 5) {{ edges {{ node {{{_LOAN_NODE}
      }} }} }}
      portfolios(first: 5) {{ edges {{ node {{
            {_PORTFOLIO_FIELDS}
            latestRecommendation {{ {_RECOMMENDATION} }}
      }} }} }}
      predictions(first: 5) {{ edges {{ node {{{_PREDICTION_NODE}
      }} }} }}
    }}
  }}
}}
"""

MEMBERS_QUERY = f"""
query MembersPage {{
  members(first: 100) {{
    edges {{ node {{
      id memberNumber fullName email status createdAt updatedAt
      lendingAssessment {{ action reason }}
      loanApplications(first: 5) {{ edges {{ node {{{_LOAN_NODE}
      }} }} }}
      portfolios(first: 5) {{ edges {{ node {{
            {_PORTFOLIO_FIELDS}
            recommendations {{ {_RECOMMENDATION} }}
      }} }} }}
      predictions(first: 5) {{ edges {{ node {{{_PREDICTION_NODE}
      }} }} }}
      auditLogs(first: 5) {{ edges {{ node {{
            id requestId actor action entityType entityId payload createdAt
      }} }} }}
    }} }}
  }}
}}
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    operation: str
    query: str
    description: str
    per_member: bool  # True: each request asks about one random member

    def body(self, member_number: str | None = None) -> dict[str, Any]:
        variables = {"memberNumber": member_number} if self.per_member else {}
        return {"query": self.query, "operationName": self.operation, "variables": variables}

    def bodies(self, member_numbers: list[str], rng: Random) -> "BodySource":
        return BodySource(self, member_numbers, rng)


class BodySource:
    """Request bodies for a scenario: a random synthetic member per request, or one body."""

    def __init__(self, scenario: Scenario, member_numbers: list[str], rng: Random) -> None:
        self._scenario = scenario
        self._numbers = member_numbers
        self._rng = rng
        self._fixed = None if scenario.per_member else scenario.body()

    def next(self) -> dict[str, Any]:
        if self._fixed is not None:
            return self._fixed
        return self._scenario.body(self._rng.choice(self._numbers))


AGENT_CONTEXT = Scenario(
    name="agentContext",
    operation="AgentContext",
    query=AGENT_CONTEXT_QUERY,
    description="agentContext(memberNumber:) for a random synthetic member",
    per_member=True,
)
MEMBERS_PAGE = Scenario(
    name="members100",
    operation="MembersPage",
    query=MEMBERS_QUERY,
    description="members(first: 100) with five nested relations per member",
    per_member=False,
)
SCENARIOS: dict[str, Scenario] = {s.name: s for s in (AGENT_CONTEXT, MEMBERS_PAGE)}
