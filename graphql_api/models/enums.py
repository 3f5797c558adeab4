"""Domain enumerations, shared by the database models, services and the GraphQL layer.

Values equal names so the stored text, the Python value and the GraphQL value read the same.
"""

import enum


class MemberStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    DEFERRED = "DEFERRED"
    RETIRED = "RETIRED"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"


class RiskProfile(enum.StrEnum):
    CONSERVATIVE = "CONSERVATIVE"
    BALANCED = "BALANCED"
    AGGRESSIVE = "AGGRESSIVE"


class PortfolioStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    RECOMMENDED = "RECOMMENDED"


class LoanDecision(enum.StrEnum):
    APPROVED = "APPROVED"
    REVIEW = "REVIEW"
    DECLINED = "DECLINED"


class Sentiment(enum.StrEnum):
    POSITIVE = "POSITIVE"
    NEGATIVE = "NEGATIVE"
    NEUTRAL = "NEUTRAL"


class AgentAction(enum.StrEnum):
    REQUEST_MORE_DATA = "REQUEST_MORE_DATA"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    AUTO_PROCESS = "AUTO_PROCESS"


class Role(enum.StrEnum):
    """What an API key may do; the authorization policy (graphql_api/auth/policy.py) says what."""

    ADMIN = "ADMIN"
    ADVISOR = "ADVISOR"
    AGENT = "AGENT"
    MEMBER = "MEMBER"
