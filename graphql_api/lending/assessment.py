"""The lending seed's agent workflow as a pure rule over a member's latest application."""

from dataclasses import dataclass

from graphql_api.kit.pagination import PageRequest
from graphql_api.models import AgentAction, LoanApplication, LoanDecision

# The assessment only ever needs the newest application.
LATEST_ONLY = PageRequest(limit=1)


@dataclass(frozen=True)
class Assessment:
    action: AgentAction
    reason: str


def assess(latest: LoanApplication | None) -> Assessment:
    if latest is None:
        return Assessment(
            AgentAction.REQUEST_MORE_DATA, "No loan applications on record for this member."
        )
    if latest.decision is LoanDecision.REVIEW:
        return Assessment(
            AgentAction.MANUAL_REVIEW,
            f"The latest application (risk score {latest.risk_score}) is under review.",
        )
    return Assessment(
        AgentAction.AUTO_PROCESS,
        f"The latest application was {latest.decision.value.lower()}; history is acceptable.",
    )
