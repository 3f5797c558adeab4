"""The permission matrix: which roles may call each root field. One place, read by the
schema (to guard the fields), the tests (every cell is exercised) and the README.

Row-level scoping is separate: a MEMBER key sees only its own member's rows everywhere,
enforced in SQL (graphql_api/kit/scoping.py); AGENT keys see emails masked.
"""

from graphql_api.models import Role

EVERYONE = frozenset(Role)
STAFF = frozenset({Role.ADMIN, Role.ADVISOR})
STAFF_AND_AGENTS = STAFF | {Role.AGENT}

QUERY_ROLES: dict[str, frozenset[Role]] = {
    "member": EVERYONE,
    "members": EVERYONE,
    "agentContext": EVERYONE,
    "node": EVERYONE,
    "loanApplications": EVERYONE,
    "predictions": EVERYONE,
    # Compliance reads the whole log; a member reads its own trail; agents do not browse it.
    "auditLogs": STAFF | {Role.MEMBER},
    # Aggregates across all members' predictions.
    "modelPerformance": STAFF_AND_AGENTS,
}

MUTATION_ROLES: dict[str, frozenset[Role]] = {
    "createMember": STAFF,
    "syncMember": STAFF,
    "applyForLoan": STAFF_AND_AGENTS,
    "requestPortfolioRecommendation": STAFF_AND_AGENTS,
    "recordRecommendation": STAFF_AND_AGENTS,
    "predictSentiment": STAFF_AND_AGENTS,
    # Members may judge their own predictions (the service refuses anyone else's).
    "submitFeedback": EVERYONE,
}
