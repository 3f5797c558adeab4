"""GraphQL types of the lending domain."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from graphql_api import models, relation_specs
from graphql_api.context import Info
from graphql_api.graph.connection import CountedConnection
from graphql_api.graph.declare import SqlContext, attribute, column, to_one
from graphql_api.graph.enums import AgentAction, LoanDecision
from graphql_api.graph.nodes import NodeRow
from graphql_api.lending import assessment
from graphql_api.lending.assessment import Assessment

if TYPE_CHECKING:
    from graphql_api.members.types import Member

MemberRef = Annotated["Member", strawberry.lazy("graphql_api.members.types")]


@strawberry.type(description="A loan application, scored by a versioned policy.")
class LoanApplication(NodeRow):
    __model__ = models.LoanApplication
    __by_id__ = relation_specs.LOAN_APPLICATION_BY_ID

    id: relay.NodeID[int]
    member_id: strawberry.Private[int]
    amount: Decimal = column("Requested amount, exact to the cent.")
    income: Decimal = column("Declared annual income, exact to the cent.")
    employment_years: int = column("Years in employment, 0 to 80.")
    risk_score: Decimal = column(
        "Policy score: higher is safer (rules-v1: income/amount*100 + years*5)."
    )
    decision: LoanDecision = column("The policy's decision.")
    scoring_model_version: str = column(
        "Version of the scoring policy that produced the score, e.g. rules-v1."
    )
    created_at: datetime = column("When the application was made.")
    member: MemberRef = to_one(relation_specs.LOAN_APPLICATION_MEMBER, "The applicant.")


@strawberry.type(name="LoanApplicationConnection", description="A page of loan applications.")
class LoanApplicationConnection(CountedConnection[LoanApplication]):
    pass


@strawberry.type(description="An agent's next step for a member's lending case.")
class LendingAssessment:
    action: AgentAction = attribute(
        "REQUEST_MORE_DATA without applications, MANUAL_REVIEW when the latest is"
        " under review, otherwise AUTO_PROCESS."
    )
    reason: str = attribute("Why, in one sentence an agent can quote.")

    @classmethod
    def from_result(cls, result: Assessment) -> "LendingAssessment":
        return cls(action=result.action, reason=result.reason)


async def assess_member(info: Info, member_id: int) -> LendingAssessment:
    """The Python form of a member's `lendingAssessment`: the rule over the newest loan."""
    latest = await info.context.loaders.page(
        relation_specs.MEMBER_LOAN_APPLICATIONS, member_id, assessment.LATEST_ONLY
    )
    return LendingAssessment.from_result(assessment.assess(latest[0] if latest else None))


async def member_assessment(member: Any, info: Info) -> LendingAssessment:
    return await assess_member(info, member.id)


def lending_assessment_sql(member: str, sql: SqlContext) -> str:
    """The SQL form: the same rule over the newest application of the member row `member`."""
    latest = sql.alias("latest_loan")
    newest = sql.rows(relation_specs.MEMBER_LOAN_APPLICATIONS, member, limit=1)
    rule = assessment.assessment_sql(latest)
    # Aliases and our own SQL only: no request value is ever spliced.
    return f"(SELECT {rule} FROM (SELECT 1) AS one LEFT JOIN LATERAL {newest} AS {latest} ON TRUE)"  # noqa: S608
