"""GraphQL types of the lending domain."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from graphql_api import models, relations
from graphql_api.context import Info
from graphql_api.graph.connection import CountedConnection
from graphql_api.graph.enums import AgentAction, LoanDecision
from graphql_api.graph.fields import load_one, required
from graphql_api.graph.mapping import relation_metadata
from graphql_api.graph.nodes import NodeRow
from graphql_api.lending import assessment
from graphql_api.lending.assessment import Assessment

if TYPE_CHECKING:
    from graphql_api.members.types import Member

MemberRef = Annotated["Member", strawberry.lazy("graphql_api.members.types")]


@strawberry.type(description="A loan application, scored by a versioned policy.")
class LoanApplication(NodeRow):
    __model__ = models.LoanApplication
    __by_id__ = relations.LOAN_APPLICATION_BY_ID

    id: relay.NodeID[int]
    member_id: strawberry.Private[int]
    amount: Decimal = strawberry.field(description="Requested amount, exact to the cent.")
    income: Decimal = strawberry.field(description="Declared annual income, exact to the cent.")
    employment_years: int = strawberry.field(description="Years in employment, 0 to 80.")
    risk_score: Decimal = strawberry.field(
        description="Policy score: higher is safer (rules-v1: income/amount*100 + years*5)."
    )
    decision: LoanDecision = strawberry.field(description="The policy's decision.")
    scoring_model_version: str = strawberry.field(
        description="Version of the scoring policy that produced the score, e.g. rules-v1."
    )
    created_at: datetime = strawberry.field(description="When the application was made.")

    @strawberry.field(
        description="The applicant.", metadata=relation_metadata(relations.LOAN_APPLICATION_MEMBER)
    )
    async def member(self, info: Info) -> MemberRef:
        from graphql_api.members.types import Member

        return await required(load_one(info, relations.LOAN_APPLICATION_MEMBER, self, Member))


@strawberry.type(name="LoanApplicationConnection", description="A page of loan applications.")
class LoanApplicationConnection(CountedConnection[LoanApplication]):
    pass


@strawberry.type(description="An agent's next step for a member's lending case.")
class LendingAssessment:
    action: AgentAction = strawberry.field(
        description="REQUEST_MORE_DATA without applications, MANUAL_REVIEW when the latest is"
        " under review, otherwise AUTO_PROCESS."
    )
    reason: str = strawberry.field(description="Why, in one sentence an agent can quote.")

    @classmethod
    def from_result(cls, result: Assessment) -> "LendingAssessment":
        return cls(action=result.action, reason=result.reason)


async def load_lending_assessment(info: Info, member_id: int) -> LendingAssessment:
    latest = await info.context.loaders.page(
        relations.MEMBER_LOAN_APPLICATIONS, member_id, assessment.LATEST_ONLY
    )
    return LendingAssessment.from_result(assessment.assess(latest[0] if latest else None))
