"""Which policy action each GraphQL root field is. The roles that may call a field are the
action's (graphql_api/auth/policy.py): this module holds no role list of its own.

Read by the schema (to guard the fields and print `@roles`), the compiled read path (which
answers only what the viewer may ask), the tests (every cell is exercised) and the README.
Row-level scoping (a MEMBER key sees only its own member's rows; an AGENT key reads no audit
rows) and masking (emails for AGENT keys) are the policy's too.
"""

from collections.abc import Mapping

from graphql_api.auth.policy import Action, roles_for
from graphql_api.models import Role

QUERY_ACTIONS: dict[str, Action] = {
    "member": Action.READ_MEMBERS,
    "members": Action.READ_MEMBERS,
    "agentContext": Action.READ_MEMBERS,
    "node": Action.READ_NODE,
    "loanApplications": Action.READ_LENDING,
    "predictions": Action.READ_PREDICTIONS,
    "auditLogs": Action.READ_AUDIT,
    "modelPerformance": Action.READ_MODEL_PERFORMANCE,
}

MUTATION_ACTIONS: dict[str, Action] = {
    "createMember": Action.CREATE_MEMBER,
    "syncMember": Action.SYNC_MEMBER,
    "applyForLoan": Action.APPLY_FOR_LOAN,
    "requestPortfolioRecommendation": Action.REQUEST_RECOMMENDATION,
    "recordRecommendation": Action.RECORD_RECOMMENDATION,
    "predictSentiment": Action.PREDICT_SENTIMENT,
    "submitFeedback": Action.SUBMIT_FEEDBACK,
}

# Subscriptions (graphql_api/realtime): each event is filtered by the same policy again.
SUBSCRIPTION_ACTIONS: dict[str, Action] = {
    "auditEvents": Action.READ_AUDIT,
    "memberUpdated": Action.READ_MEMBERS,
}


def _roles(actions: Mapping[str, Action]) -> dict[str, frozenset[Role]]:
    return {name: roles_for(action) for name, action in actions.items()}


# Derived views, role sets per root field, for readers that ask "who may call this field".
QUERY_ROLES: dict[str, frozenset[Role]] = _roles(QUERY_ACTIONS)
MUTATION_ROLES: dict[str, frozenset[Role]] = _roles(MUTATION_ACTIONS)
