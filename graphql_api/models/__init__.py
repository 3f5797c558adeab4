"""All SQLAlchemy models, imported here so Alembic and the mappers see one complete metadata."""

from graphql_api.models.api_key import ApiKey
from graphql_api.models.audit_log import AuditLog
from graphql_api.models.base import Base
from graphql_api.models.enums import (
    AgentAction,
    LoanDecision,
    MemberStatus,
    PortfolioStatus,
    RiskProfile,
    Role,
    Sentiment,
)
from graphql_api.models.idempotency_key import IdempotencyKey
from graphql_api.models.loan_application import LoanApplication
from graphql_api.models.member import Member
from graphql_api.models.pension_account import PensionAccount
from graphql_api.models.portfolio import Portfolio, Recommendation
from graphql_api.models.prediction import Feedback, Prediction

__all__ = [
    "AgentAction",
    "ApiKey",
    "AuditLog",
    "Base",
    "Feedback",
    "IdempotencyKey",
    "LoanApplication",
    "LoanDecision",
    "Member",
    "MemberStatus",
    "PensionAccount",
    "Portfolio",
    "PortfolioStatus",
    "Prediction",
    "Recommendation",
    "RiskProfile",
    "Role",
    "Sentiment",
]
