"""The domain enums, exposed to GraphQL with descriptions."""

import strawberry

from graphql_api.models import enums

MemberStatus = strawberry.enum(
    enums.MemberStatus,
    description="Lifecycle state of a pension membership, as reported by the pension provider.",
)
RiskProfile = strawberry.enum(
    enums.RiskProfile, description="How much investment risk a portfolio may take."
)
PortfolioStatus = strawberry.enum(
    enums.PortfolioStatus,
    description="QUEUED until a recommendation is recorded, then RECOMMENDED.",
)
LoanDecision = strawberry.enum(
    enums.LoanDecision, description="Outcome of scoring a loan application."
)
Sentiment = strawberry.enum(enums.Sentiment, description="Polarity of a member's message.")
AgentAction = strawberry.enum(
    enums.AgentAction, description="What an agent should do next for a member's lending case."
)
