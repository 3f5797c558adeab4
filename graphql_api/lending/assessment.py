"""The lending seed's agent workflow as a pure rule over a member's latest application, in
Python (`assess`) and in SQL (`assessment_sql`), which must give the same value: the compiled
read path uses the SQL form, and the differential tests compare both paths."""

from dataclasses import dataclass

from graphql_api.kit.pagination import PageRequest
from graphql_api.models import AgentAction, LoanApplication, LoanDecision

# The assessment only ever needs the newest application.
LATEST_ONLY = PageRequest(limit=1)
NO_APPLICATIONS = "No loan applications on record for this member."


@dataclass(frozen=True)
class Assessment:
    action: AgentAction
    reason: str


def assess(latest: LoanApplication | None) -> Assessment:
    if latest is None:
        return Assessment(AgentAction.REQUEST_MORE_DATA, NO_APPLICATIONS)
    if latest.decision is LoanDecision.REVIEW:
        return Assessment(
            AgentAction.MANUAL_REVIEW,
            f"The latest application (risk score {latest.risk_score}) is under review.",
        )
    return Assessment(
        AgentAction.AUTO_PROCESS,
        f"The latest application was {latest.decision.value.lower()}; history is acceptable.",
    )


def assessment_sql(latest: str) -> str:
    """`assess` over `latest`, the alias of the newest application row (all NULL when there
    is none), as a JSON object {action, reason}. NUMERIC(12, 2) prints like str(Decimal)."""
    review, manual, auto = (
        LoanDecision.REVIEW.value,
        AgentAction.MANUAL_REVIEW.value,
        (AgentAction.AUTO_PROCESS.value),
    )
    return (
        f"CASE WHEN {latest}.id IS NULL THEN json_build_object('action',"
        f" '{AgentAction.REQUEST_MORE_DATA.value}', 'reason', '{NO_APPLICATIONS}')"
        f" WHEN {latest}.decision = '{review}' THEN json_build_object('action', '{manual}',"
        f" 'reason', 'The latest application (risk score ' || {latest}.risk_score::text"
        " || ') is under review.')"
        f" ELSE json_build_object('action', '{auto}', 'reason', 'The latest application was '"
        f" || lower({latest}.decision) || '; history is acceptable.') END"
    )
