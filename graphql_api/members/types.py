"""GraphQL types of the members domain."""

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry import relay

from graphql_api import models, relation_specs
from graphql_api.audit.types import AuditLogConnection
from graphql_api.graph.connection import CountedConnection
from graphql_api.graph.declare import column, computed, connection, masked, to_one
from graphql_api.graph.enums import MemberStatus
from graphql_api.graph.nodes import NodeRow
from graphql_api.kit.formats import mask_email, mask_email_sql
from graphql_api.lending.types import (
    LendingAssessment,
    LoanApplicationConnection,
    lending_assessment_sql,
    member_assessment,
)
from graphql_api.portfolios.types import PortfolioConnection
from graphql_api.predictions.types import PredictionConnection


@strawberry.type(description="A member's pension account, mirrored from the pension provider.")
class PensionAccount(NodeRow):
    __model__ = models.PensionAccount
    __by_id__ = relation_specs.PENSION_ACCOUNT_BY_ID

    id: relay.NodeID[int]
    member_id: strawberry.Private[int]
    contribution_balance: Decimal = column(
        "Total contributions held, in `currency`, exact to the cent."
    )
    currency: str = column("ISO 4217 currency code of the balance.")
    last_synced_at: datetime | None = column(
        "When the balance was last refreshed from the provider; null if never."
    )
    created_at: datetime = column("When the account was first recorded.")
    updated_at: datetime = column("When the account last changed.")
    member: "Member" = to_one(
        relation_specs.PENSION_ACCOUNT_MEMBER, "The member who owns this account."
    )


@strawberry.type(description="A pension fund member: the root of everything the API knows.")
class Member(NodeRow):
    __model__ = models.Member
    __by_id__ = relation_specs.MEMBER_BY_ID

    id: relay.NodeID[int]
    member_number: str = column("Business key shared with the pension provider, e.g. M-100001.")
    full_name: str = column("The member's full name.")
    email: str | None = masked(
        "Contact email address; null when unknown (e.g. synced from the provider)."
        " Masked (a***@example.org) for AGENT keys.",
        model=models.Member,
        attribute="email",
        python=mask_email,
        sql=mask_email_sql,
    )
    status: MemberStatus = column("Membership lifecycle state.")
    created_at: datetime = column("When the member was first recorded.")
    updated_at: datetime = column("When the member record last changed.")
    pension_account: PensionAccount | None = to_one(
        relation_specs.MEMBER_PENSION_ACCOUNT,
        "The member's pension account; null until it is synced.",
        nullable=True,
    )
    portfolios: PortfolioConnection = connection(
        relation_specs.MEMBER_PORTFOLIOS, "Portfolio requests, newest first."
    )
    loan_applications: LoanApplicationConnection = connection(
        relation_specs.MEMBER_LOAN_APPLICATIONS, "Loan applications, newest first."
    )
    lending_assessment: LendingAssessment = computed(
        "What an agent should do next about lending, from the latest application.",
        python=member_assessment,
        sql=lending_assessment_sql,
    )
    predictions: PredictionConnection = connection(
        relation_specs.MEMBER_PREDICTIONS,
        "Sentiment predictions over the member's messages, newest first.",
    )
    audit_logs: AuditLogConnection = connection(
        relation_specs.MEMBER_AUDIT_LOGS,
        "Audit trail entries about this member, newest first. Always empty for AGENT keys,"
        " which may not read the audit log.",
    )


@strawberry.type(name="MemberConnection", description="A page of members.")
class MemberConnection(CountedConnection[Member]):
    pass
