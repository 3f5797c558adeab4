"""The domain enums, registered with GraphQL descriptions and re-exported for annotations.

`strawberry.enum` marks the class itself, so the GraphQL types annotate with the domain
classes and mypy sees real types.
"""

import strawberry

from graphql_api.models.enums import (
    AgentAction,
    LoanDecision,
    MemberStatus,
    PortfolioStatus,
    RiskProfile,
    Sentiment,
)

_DESCRIPTIONS = {
    MemberStatus: "Lifecycle state of a pension membership, as reported by the pension provider.",
    RiskProfile: "How much investment risk a portfolio may take.",
    PortfolioStatus: "QUEUED until a recommendation is recorded, then RECOMMENDED.",
    LoanDecision: "Outcome of scoring a loan application.",
    Sentiment: "Polarity of a member's message.",
    AgentAction: "What an agent should do next for a member's lending case.",
}
for _enum, _description in _DESCRIPTIONS.items():
    strawberry.enum(_enum, description=_description)

__all__ = [
    "AgentAction",
    "LoanDecision",
    "MemberStatus",
    "PortfolioStatus",
    "RiskProfile",
    "Sentiment",
]
