"""The domain enums, registered with GraphQL descriptions for the type and every value, and
re-exported for annotations.

`strawberry.enum` marks the class itself, so the GraphQL types annotate with the domain
classes and mypy sees real types. The domain classes stay free of GraphQL; the value
descriptions live here, and a test fails when a value has none.
"""

from enum import Enum

import strawberry

from graphql_api.kit.errors import ErrorCode
from graphql_api.models.enums import (
    AgentAction,
    LoanDecision,
    MemberStatus,
    PortfolioStatus,
    RiskProfile,
    Role,
    Sentiment,
)

# enum -> (type description, {value: value description})
_DESCRIPTIONS: dict[type[Enum], tuple[str, dict[Enum, str]]] = {
    MemberStatus: (
        "Lifecycle state of a pension membership, as reported by the pension provider.",
        {
            MemberStatus.ACTIVE: "Contributing member.",
            MemberStatus.DEFERRED: "No longer contributing; benefits kept until retirement.",
            MemberStatus.RETIRED: "Drawing a pension.",
            MemberStatus.SUSPENDED: "Temporarily blocked by the provider, e.g. pending checks.",
            MemberStatus.CLOSED: "Membership ended; kept for the record.",
        },
    ),
    RiskProfile: (
        "How much investment risk a portfolio may take.",
        {
            RiskProfile.CONSERVATIVE: "Mostly bonds and cash; smallest swings.",
            RiskProfile.BALANCED: "A mix of equities and bonds.",
            RiskProfile.AGGRESSIVE: "Mostly equities; largest expected growth and swings.",
        },
    ),
    PortfolioStatus: (
        "QUEUED until a recommendation is recorded, then RECOMMENDED.",
        {
            PortfolioStatus.QUEUED: "Requested; no recommendation recorded yet.",
            PortfolioStatus.RECOMMENDED: "At least one recommendation has been recorded.",
        },
    ),
    LoanDecision: (
        "Outcome of scoring a loan application.",
        {
            LoanDecision.APPROVED: "The risk score is within the policy's approval band.",
            LoanDecision.REVIEW: "Borderline score: a person must decide.",
            LoanDecision.DECLINED: "The risk score is outside what the policy accepts.",
        },
    ),
    Sentiment: (
        "Polarity of a member's message.",
        {
            Sentiment.POSITIVE: "The message reads as favourable.",
            Sentiment.NEGATIVE: "The message reads as unfavourable or a complaint.",
            Sentiment.NEUTRAL: "Neither clearly favourable nor unfavourable.",
        },
    ),
    AgentAction: (
        "What an agent should do next for a member's lending case.",
        {
            AgentAction.REQUEST_MORE_DATA: "No loan application yet: ask the member for one.",
            AgentAction.MANUAL_REVIEW: "The latest application needs a person's decision.",
            AgentAction.AUTO_PROCESS: "The latest application can be processed automatically.",
        },
    ),
    Role: (
        "What an API key may do; `@roles(allowed:)` on a field lists the roles that may use it.",
        {
            Role.ADMIN: "Everything, including member creation and sync.",
            Role.ADVISOR: "Everything an admin may do through the API.",
            Role.AGENT: "Reads member context (emails masked) and runs the advice and scoring"
            " workflows; no member creation, sync or root audit log.",
            Role.MEMBER: "One member's own data, and feedback on their own predictions.",
        },
    ),
    ErrorCode: (
        "Why a mutation was refused; branch on this, not on text.",
        {
            ErrorCode.INVALID_INPUT: "An input value is malformed or out of range (see `field`).",
            ErrorCode.NOT_FOUND: "A referenced member, portfolio or prediction does not exist"
            " (or is not visible to this key).",
            ErrorCode.CONFLICT: "The change clashes with existing data, e.g. a taken member"
            " number or email.",
            ErrorCode.IDEMPOTENCY_KEY_REUSED: "This idempotency key was used with different input.",
            ErrorCode.FORBIDDEN: "The API key's role may not do this (the authorization policy).",
            ErrorCode.UPSTREAM_NOT_FOUND: "The pension provider does not know this member.",
            ErrorCode.UPSTREAM_UNAVAILABLE: "The pension provider did not answer in time or"
            " failed; retry later.",
            ErrorCode.UPSTREAM_BAD_RESPONSE: "The pension provider answered with data that"
            " does not fit its contract.",
        },
    ),
}


def _register(enum_class: type[Enum], description: str, values: dict[Enum, str]) -> None:
    strawberry.enum(enum_class, description=description)
    definition = enum_class.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        value.description = values.get(enum_class[value.name])


for _enum, (_description, _values) in _DESCRIPTIONS.items():
    _register(_enum, _description, _values)

__all__ = [
    "AgentAction",
    "ErrorCode",
    "LoanDecision",
    "MemberStatus",
    "PortfolioStatus",
    "RiskProfile",
    "Role",
    "Sentiment",
]
