"""The MCP tools, declared: each names its policy action, the GraphQL document it runs, and
where its input schema comes from (a root field's arguments or one input object's fields).

Nothing else defines a tool. Who may list and call it is `policy.can(viewer, action)`; what
it may read or write is decided inside the document's own execution, by the same resolvers,
services and policy as /graphql.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from graphql_api.auth.policy import Action
from graphql_api.bench.queries import AGENT_CONTEXT_QUERY
from graphql_api.mcp_server.input_schema import (
    JsonSchema,
    arguments_schema,
    input_object_schema,
)
from graphql_api.schema import schema

_USER_ERRORS = "userErrors { code message field }"
_LOAN = "id amount income employmentYears riskScore decision scoringModelVersion createdAt"
_RECOMMENDATION = "id modelName rationale createdAt lines { assetClass weight }"
_PORTFOLIO = f"""id riskProfile amountUsd status createdAt updatedAt
      latestRecommendation {{ {_RECOMMENDATION} }}"""
_PREDICTION = "id text sentiment confidence modelVersion createdAt"


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    action: Action
    document: str
    operation_name: str
    # The root field whose value is the tool's answer.
    root_field: str
    # Mutation tools take their input object's fields flat; reads take the field's arguments.
    input_type: str | None = None
    read_only: bool = True

    @cached_property
    def input_schema(self) -> JsonSchema:
        graphql_schema = schema._schema
        if self.input_type is not None:
            return input_object_schema(graphql_schema, self.input_type)
        return arguments_schema(graphql_schema, "Query", self.root_field)

    def variables(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return {"input": arguments} if self.input_type is not None else arguments


def _mutation(name: str, field: str, input_type: str, selection: str) -> str:
    return (
        f"mutation {name}($input: {input_type}!) {{\n"
        f"  {field}(input: $input) {{ {selection} {_USER_ERRORS} }}\n}}"
    )


GET_MEMBER_CONTEXT = ToolSpec(
    name="get_member_context",
    description="Everything to read about one member before advising: profile (email masked"
    " for AGENT keys), pension account, the 5 newest loan applications, portfolios and"
    " sentiment predictions, and the next lending step. NOT_FOUND if there is no such member"
    " visible to this key.",
    action=Action.READ_MEMBERS,
    document=AGENT_CONTEXT_QUERY,
    operation_name="AgentContext",
    root_field="agentContext",
)

SEARCH_MEMBERS = ToolSpec(
    name="search_members",
    description="Find members by member-number prefix or part of the name, optionally by"
    " status; a page in member-number order (pass `after` = the last `cursor` for more).",
    action=Action.READ_MEMBERS,
    document="""query SearchMembers($first: Int, $after: String, $filter: MemberFilter) {
  members(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id memberNumber fullName email status updatedAt } }
  }
}""",
    operation_name="SearchMembers",
    root_field="members",
)

LIST_AUDIT_EVENTS = ToolSpec(
    name="list_audit_events",
    description="The audit log, newest first, optionally filtered by action, member, request"
    " or time; MEMBER keys see their own member's trail only.",
    action=Action.READ_AUDIT,
    document="""query ListAuditEvents($first: Int, $after: String, $filter: AuditLogFilter) {
  auditLogs(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id action actor entityType entityId requestId payload createdAt
      member { memberNumber }
    } }
  }
}""",
    operation_name="ListAuditEvents",
    root_field="auditLogs",
)

APPLY_FOR_LOAN = ToolSpec(
    name="apply_for_loan",
    description="Apply for a loan for a member: scored by the current policy, stored and"
    ' audited (loan.applied). Amounts are decimal strings, e.g. "12500.00". Send an'
    " idempotencyKey to make retries safe.",
    action=Action.APPLY_FOR_LOAN,
    document=_mutation(
        "ApplyForLoan", "applyForLoan", "ApplyForLoanInput", f"loanApplication {{ {_LOAN} }}"
    ),
    operation_name="ApplyForLoan",
    root_field="applyForLoan",
    input_type="ApplyForLoanInput",
    read_only=False,
)

REQUEST_PORTFOLIO_RECOMMENDATION = ToolSpec(
    name="request_portfolio_recommendation",
    description="Request a portfolio for a member (amount in USD as a decimal string, risk"
    " profile); the built-in model recommends an allocation at once. Audited.",
    action=Action.REQUEST_RECOMMENDATION,
    document=_mutation(
        "RequestPortfolioRecommendation",
        "requestPortfolioRecommendation",
        "RequestPortfolioRecommendationInput",
        f"portfolio {{ {_PORTFOLIO} }}",
    ),
    operation_name="RequestPortfolioRecommendation",
    root_field="requestPortfolioRecommendation",
    input_type="RequestPortfolioRecommendationInput",
    read_only=False,
)

RECORD_RECOMMENDATION = ToolSpec(
    name="record_recommendation",
    description="Record your own recommended allocation for a portfolio (weights as decimal"
    " strings summing to 1); the portfolio becomes RECOMMENDED. Audited.",
    action=Action.RECORD_RECOMMENDATION,
    document=_mutation(
        "RecordRecommendation",
        "recordRecommendation",
        "RecordRecommendationInput",
        f"recommendation {{ {_RECOMMENDATION} portfolio {{ id status }} }}",
    ),
    operation_name="RecordRecommendation",
    root_field="recordRecommendation",
    input_type="RecordRecommendationInput",
    read_only=False,
)

PREDICT_SENTIMENT = ToolSpec(
    name="predict_sentiment",
    description="Score a member's message for sentiment with the configured model and store"
    " the prediction. Audited.",
    action=Action.PREDICT_SENTIMENT,
    document=_mutation(
        "PredictSentiment",
        "predictSentiment",
        "PredictSentimentInput",
        f"prediction {{ {_PREDICTION} member {{ memberNumber }} }}",
    ),
    operation_name="PredictSentiment",
    root_field="predictSentiment",
    input_type="PredictSentimentInput",
    read_only=False,
)

SUBMIT_FEEDBACK = ToolSpec(
    name="submit_feedback",
    description="Say whether a sentiment prediction was right (feeds model performance). Audited.",
    action=Action.SUBMIT_FEEDBACK,
    document=_mutation(
        "SubmitFeedback",
        "submitFeedback",
        "SubmitFeedbackInput",
        "feedback { id isCorrect comment createdAt prediction { id sentiment } }",
    ),
    operation_name="SubmitFeedback",
    root_field="submitFeedback",
    input_type="SubmitFeedbackInput",
    read_only=False,
)

DOCUMENT_TOOLS: tuple[ToolSpec, ...] = (
    GET_MEMBER_CONTEXT,
    SEARCH_MEMBERS,
    APPLY_FOR_LOAN,
    REQUEST_PORTFOLIO_RECOMMENDATION,
    RECORD_RECOMMENDATION,
    PREDICT_SENTIMENT,
    SUBMIT_FEEDBACK,
    LIST_AUDIT_EVENTS,
)

# graphql_query runs the caller's own read-only document; field guards inside it apply.
GRAPHQL_QUERY_NAME = "graphql_query"
GRAPHQL_QUERY_ACTION = Action.READ_MEMBERS
GRAPHQL_QUERY_DESCRIPTION = (
    "Run a read-only GraphQL query against the finance graph under this key's role (the same"
    " schema as /graphql: field permissions, member scoping and email masking apply)."
    " Mutations and subscriptions are refused: use the other tools to write."
)
GRAPHQL_QUERY_SCHEMA: JsonSchema = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "A GraphQL query document."},
        "variables": {
            "type": ["object", "null"],
            "description": "Values for the document's variables (Decimal values as strings).",
        },
        "operationName": {
            "type": ["string", "null"],
            "description": "Which operation to run when the document has several.",
        },
    },
    "required": ["query"],
    "additionalProperties": False,
}
