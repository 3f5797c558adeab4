"""GraphQL types of the members domain."""

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry import relay

from graphql_api import models, relations
from graphql_api.audit.types import AuditLog, AuditLogConnection
from graphql_api.context import Info
from graphql_api.graph.connection import After, CountedConnection, First
from graphql_api.graph.enums import MemberStatus
from graphql_api.graph.fields import load_connection, load_one, required
from graphql_api.graph.mapping import relation_metadata
from graphql_api.graph.nodes import NodeRow
from graphql_api.graph.permissions import MaskEmailForAgents
from graphql_api.lending.types import (
    LendingAssessment,
    LoanApplication,
    LoanApplicationConnection,
    load_lending_assessment,
)
from graphql_api.portfolios.types import Portfolio, PortfolioConnection
from graphql_api.predictions.types import Prediction, PredictionConnection


@strawberry.type(description="A member's pension account, mirrored from the pension provider.")
class PensionAccount(NodeRow):
    __model__ = models.PensionAccount
    __by_id__ = relations.PENSION_ACCOUNT_BY_ID

    id: relay.NodeID[int]
    member_id: strawberry.Private[int]
    contribution_balance: Decimal = strawberry.field(
        description="Total contributions held, in `currency`, exact to the cent."
    )
    currency: str = strawberry.field(description="ISO 4217 currency code of the balance.")
    last_synced_at: datetime | None = strawberry.field(
        description="When the balance was last refreshed from the provider; null if never."
    )
    created_at: datetime = strawberry.field(description="When the account was first recorded.")
    updated_at: datetime = strawberry.field(description="When the account last changed.")

    @strawberry.field(
        description="The member who owns this account.",
        metadata=relation_metadata(relations.PENSION_ACCOUNT_MEMBER),
    )
    async def member(self, info: Info) -> "Member":
        return await required(load_one(info, relations.PENSION_ACCOUNT_MEMBER, self, Member))


@strawberry.type(description="A pension fund member: the root of everything the API knows.")
class Member(NodeRow):
    __model__ = models.Member
    __by_id__ = relations.MEMBER_BY_ID

    id: relay.NodeID[int]
    member_number: str = strawberry.field(
        description="Business key shared with the pension provider, e.g. M-100001."
    )
    full_name: str = strawberry.field(description="The member's full name.")
    email: str | None = strawberry.field(
        description="Contact email address; null when unknown (e.g. synced from the provider)."
        " Masked (a***@example.org) for AGENT keys.",
        extensions=[MaskEmailForAgents()],
    )
    status: MemberStatus = strawberry.field(description="Membership lifecycle state.")
    created_at: datetime = strawberry.field(description="When the member was first recorded.")
    updated_at: datetime = strawberry.field(description="When the member record last changed.")

    @strawberry.field(
        description="The member's pension account; null until it is synced.",
        metadata=relation_metadata(relations.MEMBER_PENSION_ACCOUNT),
    )
    async def pension_account(self, info: Info) -> PensionAccount | None:
        return await load_one(info, relations.MEMBER_PENSION_ACCOUNT, self, PensionAccount)

    @strawberry.field(
        description="Portfolio requests, newest first.",
        metadata=relation_metadata(relations.MEMBER_PORTFOLIOS),
    )
    async def portfolios(
        self, info: Info, first: First = None, after: After = None
    ) -> PortfolioConnection:
        return await load_connection(
            info, relations.MEMBER_PORTFOLIOS, self.id, first=first, after=after,
            connection=PortfolioConnection, node_type=Portfolio,
        )  # fmt: skip

    @strawberry.field(
        description="Loan applications, newest first.",
        metadata=relation_metadata(relations.MEMBER_LOAN_APPLICATIONS),
    )
    async def loan_applications(
        self, info: Info, first: First = None, after: After = None
    ) -> LoanApplicationConnection:
        return await load_connection(
            info, relations.MEMBER_LOAN_APPLICATIONS, self.id, first=first, after=after,
            connection=LoanApplicationConnection, node_type=LoanApplication,
        )  # fmt: skip

    @strawberry.field(
        description="What an agent should do next about lending, from the latest application.",
        metadata=relation_metadata(relations.MEMBER_LOAN_APPLICATIONS),
    )
    async def lending_assessment(self, info: Info) -> LendingAssessment:
        return await load_lending_assessment(info, self.id)

    @strawberry.field(
        description="Sentiment predictions over the member's messages, newest first.",
        metadata=relation_metadata(relations.MEMBER_PREDICTIONS),
    )
    async def predictions(
        self, info: Info, first: First = None, after: After = None
    ) -> PredictionConnection:
        return await load_connection(
            info, relations.MEMBER_PREDICTIONS, self.id, first=first, after=after,
            connection=PredictionConnection, node_type=Prediction,
        )  # fmt: skip

    @strawberry.field(
        description="Audit trail entries about this member, newest first.",
        metadata=relation_metadata(relations.MEMBER_AUDIT_LOGS),
    )
    async def audit_logs(
        self, info: Info, first: First = None, after: After = None
    ) -> AuditLogConnection:
        return await load_connection(
            info, relations.MEMBER_AUDIT_LOGS, self.id, first=first, after=after,
            connection=AuditLogConnection, node_type=AuditLog,
        )  # fmt: skip


@strawberry.type(name="MemberConnection", description="A page of members.")
class MemberConnection(CountedConnection[Member]):
    pass
